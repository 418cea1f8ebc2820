import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type L8Error, Priority } from '@layer8/protocol';
import { waitFor } from '@layer8/testkit';
import type { Incoming } from '@layer8/vnic';
import { type OneVNet, oneVNet } from './one-vnet.ts';

/** A handler that holds every call until `release()`, recording the priorities it ran. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const ran: number[] = [];
  const handler = async (m: Incoming): Promise<string> => {
    ran.push(m.message.priority);
    await gate;
    return 'done';
  };
  return { handler, ran, release: () => open() };
}

describe('responder load shedding over a real VNet', () => {
  let net: OneVNet;

  before(async () => {
    net = await oneVNet();
  });

  after(async () => {
    await net.close();
  });

  test('a flood of low priority is shed with L8_ERR_BACKPRESSURE; every high-priority request is handled', async () => {
    const responder = await net.vnic(undefined, { maxHandlersInFlight: 1, maxQueuedRequests: 30 });
    const caller = await net.vnic();
    const { handler, ran, release } = gated();
    responder.subscribe({ service: 'shed' }, handler);
    await waitFor(() => caller.health.instances('shed', 0).length === 1, { what: 'shed replicated' });
    const outcomes: Promise<{ high: boolean; code: string }>[] = [];
    for (let i = 1; i <= 210; i++) {
      const high = i % 21 === 0;
      const priority = high ? Priority.HIGHEST : Priority.LOWEST;
      const reply = caller.request({ service: 'shed' }, i, { priority });
      outcomes.push(
        reply.then(
          () => ({ high, code: 'OK' }),
          (e: L8Error) => ({ high, code: e.code }),
        ),
      );
    }
    const d = responder.drops;
    await waitFor(() => d.shed + responder.handlers.queued + responder.handlers.inFlight === 210, {
      what: 'every request delivered',
    });
    release();
    const all = await Promise.all(outcomes);
    const count = (high: boolean, code: string) => all.filter((o) => o.high === high && o.code === code).length;
    assert.equal(count(true, 'OK'), 10, 'every high-priority request was handled');
    assert.deepEqual([count(false, 'OK'), count(false, 'L8_ERR_BACKPRESSURE')], [6, 194]);
    assert.deepEqual([d.shed, d.backpressure, ran.filter((p) => p === 0).length], [194, 0, 10]);
  });

  test('a request whose deadline passed in the queue is answered L8_ERR_TIMEOUT and never reaches its handler', async () => {
    const responder = await net.vnic(undefined, { maxHandlersInFlight: 1 });
    const caller = await net.vnic();
    let calls = 0;
    const { handler, release } = gated();
    responder.subscribe({ service: 'late' }, (m) => {
      calls++;
      return handler(m);
    });
    await waitFor(() => caller.health.instances('late', 0).length === 1, { what: 'late replicated' });
    const first = caller.request({ service: 'late' }, 1);
    const late = caller.request({ service: 'late' }, 2, { timeoutMs: 50 });
    await assert.rejects(late, { code: 'L8_ERR_TIMEOUT' });
    await waitFor(() => responder.drops.expired === 1, { what: 'the queued request expired' });
    release();
    await first;
    assert.deepEqual([calls, responder.handlers.queued], [1, 0]);
  });
});
