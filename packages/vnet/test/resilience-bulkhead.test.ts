import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { waitFor } from '@layer8/testkit';
import type { Incoming, VNic } from '@layer8/vnic';
import { type OneVNet, oneVNet } from './one-vnet.ts';

/** A handler that holds every call until `release()`, counting the calls it got. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const seen = { calls: 0 };
  const handler = async (m: Incoming): Promise<unknown> => {
    seen.calls++;
    await gate;
    return m.json();
  };
  return { handler, seen, release: () => open() };
}

/** The outcome of a request: its reply's value, or its error code. */
function outcome(p: Promise<Incoming>): Promise<unknown> {
  return p.then(
    (r) => r.json(),
    (e: L8Error) => e.code,
  );
}

describe('bulkheads over a real VNet', () => {
  let net: OneVNet;

  before(async () => {
    net = await oneVNet();
  });

  after(async () => {
    await net.close();
  });

  async function serve(service: string, responder: VNic, caller: VNic, handler: (m: Incoming) => unknown) {
    responder.subscribe({ service }, handler as never);
    await waitFor(() => caller.health.instances(service, 0).length === 1, { what: `${service} replicated` });
  }

  test('caller: max requests go, queue wait their turn, the rest are refused before they leave', async () => {
    const caller = await net.vnic('caller', { bulkheads: { held: { max: 2, queue: 1 } }, breaker: false });
    const responder = await net.vnic('responder');
    const g = gated();
    await serve('held', responder, caller, g.handler);
    const replies = [1, 2, 3, 4, 5].map((i) => outcome(caller.request({ service: 'held' }, i)));
    await waitFor(() => g.seen.calls === 2, { what: 'two requests at the responder' });
    assert.deepEqual(caller.bulkhead('held'), { running: 2, waiting: 1 });
    // the count is per service: a call with its own bound of 4 still goes; `false` is not counted
    const wider = outcome(caller.request({ service: 'held' }, 6, { bulkhead: 4 }));
    const free = outcome(caller.request({ service: 'held' }, 7, { bulkhead: false }));
    await waitFor(() => g.seen.calls === 4, { what: 'the wider and the free requests' });
    g.release();
    assert.deepEqual(await Promise.all(replies), [1, 2, 3, 'L8_ERR_BACKPRESSURE', 'L8_ERR_BACKPRESSURE']);
    assert.deepEqual(await Promise.all([wider, free]), [6, 7]);
    assert.equal(g.seen.calls, 5, 'the refused requests never reached the responder');
    assert.deepEqual(caller.bulkhead('held'), { running: 0, waiting: 0 });
  });

  test('responder: a service at its limit refuses the excess with L8_ERR_BACKPRESSURE, others keep serving', async () => {
    const caller = await net.vnic('caller', { breaker: false });
    const responder = await net.vnic('responder', { handlerConcurrency: { busy: 3 } });
    const g = gated();
    await serve('busy', responder, caller, g.handler);
    await serve('free', responder, caller, (m) => m.json());
    const replies = Array.from({ length: 10 }, (_, i) => outcome(caller.request({ service: 'busy' }, i)));
    await waitFor(() => responder.drops.limited === 7, { what: 'seven refused' });
    assert.deepEqual(responder.handlerLimit('busy'), { limit: 3, running: 3, waiting: 0 });
    assert.equal(await outcome(caller.request({ service: 'free' }, 'x')), 'x', 'another service is not held up');
    g.release();
    const all = await Promise.all(replies);
    assert.deepEqual([all.filter((r) => typeof r === 'number').length, g.seen.calls], [3, 3]);
    assert.equal(all.filter((r) => r === 'L8_ERR_BACKPRESSURE').length, 7);
  });

  test('responder: with a queue the excess waits in priority order and runs as slots free', async () => {
    const caller = await net.vnic('caller', { breaker: false });
    const responder = await net.vnic('responder', { handlerConcurrency: { queued: 9 } });
    const g = gated();
    responder.subscribe({ service: 'queued' }, g.handler, { concurrency: { max: 1, queue: 4 } });
    await waitFor(() => caller.health.instances('queued', 0).length === 1, { what: 'queued replicated' });
    const replies = Array.from({ length: 6 }, (_, i) => outcome(caller.request({ service: 'queued' }, i)));
    await waitFor(() => responder.drops.limited === 1, { what: 'one refused' });
    assert.deepEqual(responder.handlerLimit('queued'), { limit: 1, running: 1, waiting: 4 });
    g.release();
    assert.deepEqual(await Promise.all(replies), [0, 1, 2, 3, 4, 'L8_ERR_BACKPRESSURE']);
    assert.equal(g.seen.calls, 5);
  });
});
