import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { decodeMessage, encodeMessage, Kind, type Message, newNodeId, nodeIdToBytes } from '@layer8/protocol';
import { bulkheadOf, CallerBulkhead, serviceLimitOf } from '../src/bulkhead.ts';
import { Dispatcher, type DispatchHost, newDrops } from '../src/dispatch.ts';
import { until } from './fake-vnet.ts';

const requester = newNodeId();

/** A dispatcher (10 handler slots) whose host records the answers it sends. */
function dispatcher() {
  const sent: Message[] = [];
  const drops = newDrops();
  const host: DispatchHost = {
    idBytes: nodeIdToBytes(newNodeId()),
    vnetIdBytes: () => new Uint8Array(16),
    send: (frame) => sent.push(decodeMessage(frame.subarray(4))),
    control: () => undefined,
    limits: { maxHandlersInFlight: 10, maxQueuedRequests: 100, maxQueuedBytes: 1 << 20 },
    drops,
    calls: { request: () => Promise.reject(new Error('no overlay here')), send() {}, multicast() {} },
  };
  const codes = (): string[] => sent.map((m) => m.error?.code ?? 'OK');
  return { d: new Dispatcher(host), sent, drops, codes };
}

function frame(service: string, sequence: number): Buffer {
  return encodeMessage({ kind: Kind.REQUEST, source: requester, service, sequence }).subarray(4);
}

/** A handler that holds every call until `release()`, recording the sequences it ran. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const ran: number[] = [];
  const handler = async (m: { message: Message }): Promise<string> => {
    ran.push(m.message.sequence);
    await gate;
    return 'done';
  };
  return { handler, ran, release: () => open() };
}

describe('bulkhead options', () => {
  test('a bulkhead needs a whole max of at least 1 and a whole queue; an adaptive limit its options', () => {
    assert.deepEqual(bulkheadOf(4), { max: 4, queue: 0 });
    assert.deepEqual(bulkheadOf({ max: 2, queue: 8 }), { max: 2, queue: 8 });
    for (const bad of [0, 1.5, -1, Number.NaN, { max: 2, queue: -1 }, { max: '2' }, null]) {
      assert.throws(() => bulkheadOf(bad as never), { code: 'L8_ERR_INVALID_ARGUMENT' });
    }
    assert.equal(serviceLimitOf({ adaptive: true }).limiter.limit, 3, 'the minimum while measuring');
    assert.equal(serviceLimitOf({ adaptive: { min: 5 }, queue: 7 }).queue, 7);
    assert.throws(() => serviceLimitOf({ adaptive: 'yes' } as never), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.throws(() => dispatcher().d.subscribe('s', 0, () => 1, undefined, { max: 0 }), {
      code: 'L8_ERR_INVALID_ARGUMENT',
    });
  });
});

describe('the caller bulkhead', () => {
  test('max run, queue wait in order, the rest are refused L8_ERR_BACKPRESSURE', async () => {
    const b = new CallerBulkhead();
    const spec = { max: 2, queue: 1 };
    assert.equal(b.enter(spec, 's', 1000), undefined);
    assert.equal(b.enter(spec, 's', 1000), undefined);
    const third = b.enter(spec, 's', 1000);
    assert.ok(third instanceof Promise);
    assert.throws(() => b.enter(spec, 's', 1000), { code: 'L8_ERR_BACKPRESSURE' });
    assert.deepEqual([b.running, b.waiting], [2, 1]);
    b.leave();
    await third;
    assert.deepEqual([b.running, b.waiting, b.idle], [2, 0, false]);
    b.leave();
    b.leave();
    assert.equal(b.idle, true);
  });

  test('a waiting request fails L8_ERR_TIMEOUT at its deadline and L8_ERR_ABORTED on its signal', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const b = new CallerBulkhead();
      const spec = { max: 1, queue: 5 };
      assert.equal(b.enter(spec, 's', 1000), undefined);
      const late = b.enter(spec, 's', 100);
      const abort = new AbortController();
      const aborted = b.enter(spec, 's', 1000, abort.signal);
      assert.equal(b.waiting, 2);
      mock.timers.tick(100);
      await assert.rejects(late as Promise<void>, { code: 'L8_ERR_TIMEOUT' });
      abort.abort();
      await assert.rejects(aborted as Promise<void>, { code: 'L8_ERR_ABORTED' });
      assert.deepEqual([b.running, b.waiting], [1, 0]);
      b.leave();
      assert.equal(b.idle, true);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('the responder concurrency limit of a service', () => {
  test('a full bulkhead refuses at once (drops.limited); other services keep their slots', async () => {
    const { d, drops, codes } = dispatcher();
    const slow = gated();
    d.subscribe('slow', 0, slow.handler, undefined, 2);
    d.subscribe('other', 0, () => 'other');
    for (let seq = 1; seq <= 5; seq++) d.deliver(frame('slow', seq));
    d.deliver(frame('other', 6));
    assert.deepEqual([d.inFlight, d.queued, drops.limited, drops.backpressure], [2, 0, 3, 0]);
    assert.deepEqual(d.limitOf('slow', 0), { limit: 2, running: 2, waiting: 0 });
    assert.deepEqual(codes(), ['L8_ERR_BACKPRESSURE', 'L8_ERR_BACKPRESSURE', 'L8_ERR_BACKPRESSURE', 'OK']);
    slow.release();
    await until(() => codes().length === 6);
    assert.deepEqual(slow.ran, [1, 2]);
    assert.equal(d.limitOf('other', 0), undefined);
  });

  test('with a queue, the excess waits in the service queue and runs as slots free, in order', async () => {
    const { d, drops, codes } = dispatcher();
    const slow = gated();
    d.subscribe('slow', 0, slow.handler, undefined, { max: 1, queue: 2 });
    for (let seq = 1; seq <= 4; seq++) d.deliver(frame('slow', seq));
    assert.deepEqual(d.limitOf('slow', 0), { limit: 1, running: 1, waiting: 2 });
    assert.deepEqual([d.inFlight, d.queued, drops.limited], [1, 2, 1]);
    slow.release();
    await until(() => codes().length === 4);
    assert.deepEqual(slow.ran, [1, 2, 3]);
    assert.equal(d.idle, true);
  });

  test('closing a subscription refuses what waits for its limit with L8_ERR_NO_SERVICE', () => {
    const { d, codes } = dispatcher();
    const slow = gated();
    const sub = d.subscribe('slow', 0, slow.handler, undefined, { max: 1, queue: 5 });
    for (let seq = 1; seq <= 3; seq++) d.deliver(frame('slow', seq));
    sub.close();
    assert.deepEqual(codes(), ['L8_ERR_NO_SERVICE', 'L8_ERR_NO_SERVICE']);
    assert.equal(d.queued, 0);
    slow.release();
  });

  test('an adaptive limit admits its minimum while it measures the base latency', () => {
    const { d, drops } = dispatcher();
    const slow = gated();
    d.subscribe('slow', 0, slow.handler, undefined, { adaptive: { min: 3 } });
    for (let seq = 1; seq <= 5; seq++) d.deliver(frame('slow', seq));
    assert.deepEqual([d.inFlight, drops.limited], [3, 2]);
    slow.release();
  });
});
