import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import {
  decodeMessage,
  encodeMessage,
  Kind,
  type Message,
  type MessageInit,
  newNodeId,
  nodeIdToBytes,
  Offset,
} from '@layer8/protocol';
import { Dispatcher, type DispatchHost, type DispatchLimits, newDrops } from '../src/dispatch.ts';

const requester = newNodeId();

/** A dispatcher whose host records the answers it sends. */
function dispatcher(limits: Partial<DispatchLimits> = {}) {
  const sent: Message[] = [];
  const drops = newDrops();
  const host: DispatchHost = {
    idBytes: nodeIdToBytes(newNodeId()),
    vnetIdBytes: () => new Uint8Array(16),
    send: (frame) => sent.push(decodeMessage(frame.subarray(4))),
    control: () => undefined,
    limits: { maxHandlersInFlight: 2, maxQueuedRequests: 3, maxQueuedBytes: 1 << 20, ...limits },
    drops,
    calls: { request: () => Promise.reject(new Error('no overlay here')), send() {}, multicast() {} },
  };
  return { d: new Dispatcher(host), sent, drops };
}

function frame(init: Partial<MessageInit> & { sequence: number }): Buffer {
  return encodeMessage({ kind: Kind.REQUEST, source: requester, service: 'slow', ...init }).subarray(4);
}

/** A handler that holds every call until `release()`, and the most it ever saw running at once. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const seen = { running: 0, max: 0, ran: [] as number[] };
  const handler = async (m: { message: Message }): Promise<string> => {
    seen.ran.push(m.message.sequence);
    seen.max = Math.max(seen.max, ++seen.running);
    await gate;
    seen.running--;
    return 'done';
  };
  return { handler, seen, release: () => open() };
}

/** Resolves once `probe` holds, turning the event loop; rejects after `ms`. */
async function until(probe: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!probe()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

const codes = (sent: Message[]) => sent.map((m) => [m.sequence, m.kind, m.error?.code]);

describe('Dispatcher: hostile frames', () => {
  test('a 67-byte REQUEST whose SERVICE_LEN says 255 is dropped and counted, never answered', () => {
    const { d, sent, drops } = dispatcher();
    let ran = 0;
    d.subscribe('slow', 0, () => ran++);
    const hostile = Buffer.from(frame({ sequence: 1, service: '' }).subarray(0, 67));
    hostile[Offset.SERVICE_LEN] = 255;
    d.deliver(hostile);
    assert.deepEqual([sent.length, drops.malformed, ran], [0, 1, 0]);
  });

  test('trace length, AAA length field or fixed header past the end: dropped the same way', () => {
    const { d, sent, drops } = dispatcher();
    d.subscribe('slow', 0, () => 'ok');
    const whole = frame({ sequence: 2 });
    const traceAt = Offset.SERVICE + 4;
    const badTrace = Buffer.from(whole);
    badTrace[traceAt] = 200;
    for (const f of [badTrace, whole.subarray(0, traceAt + 2), whole.subarray(0, 40)]) d.deliver(f);
    assert.deepEqual([sent.length, drops.malformed], [0, 3]);
    d.deliver(whole);
    assert.deepEqual(codes(sent), [[2, Kind.REPLY, undefined]], 'a well-formed frame is still served');
  });
});

describe('Dispatcher: handlers in flight are bounded', () => {
  test('beyond maxHandlersInFlight requests queue; beyond the queue L8_ERR_BACKPRESSURE at once; then all complete', async () => {
    const { d, sent, drops } = dispatcher({ maxHandlersInFlight: 2, maxQueuedRequests: 3 });
    const { handler, seen, release } = gated();
    d.subscribe('slow', 0, handler);
    for (let seq = 1; seq <= 8; seq++) d.deliver(frame({ sequence: seq }));
    d.deliver(frame({ sequence: 0, kind: Kind.NOTIFY }));
    assert.deepEqual([d.inFlight, d.queued, seen.ran], [2, 3, [1, 2]]);
    assert.deepEqual(
      codes(sent),
      [6, 7, 8].map((s) => [s, Kind.FAIL, 'L8_ERR_BACKPRESSURE']),
    );
    assert.deepEqual([drops.backpressure, drops.notifies], [3, 1]);
    release();
    await until(() => sent.length === 8);
    assert.deepEqual(
      codes(sent.slice(3)),
      [1, 2, 3, 4, 5].map((s) => [s, Kind.REPLY, undefined]),
    );
    assert.deepEqual([seen.max, d.inFlight, d.queued], [2, 0, 0]);
  });

  test('a long queue drains in arrival order', async () => {
    const { d, sent } = dispatcher({ maxHandlersInFlight: 1, maxQueuedRequests: 5000 });
    const { handler, seen, release } = gated();
    d.subscribe('slow', 0, handler);
    for (let seq = 1; seq <= 3000; seq++) d.deliver(frame({ sequence: seq }));
    assert.equal(d.queued, 2999);
    release();
    await until(() => sent.length === 3000, 10_000);
    const order = Array.from({ length: 3000 }, (_, i) => i + 1);
    assert.deepEqual(seen.ran, order);
    assert.deepEqual(
      sent.map((m) => m.sequence),
      order,
    );
  });

  test('a handler that returns at once takes no slot', () => {
    const { d, sent } = dispatcher({ maxHandlersInFlight: 1, maxQueuedRequests: 0 });
    d.subscribe('slow', 0, () => 'now');
    for (let seq = 1; seq <= 10; seq++) d.deliver(frame({ sequence: seq }));
    assert.ok(sent.every((m) => m.kind === Kind.REPLY) && sent.length === 10);
  });

  test('the queue is bounded in bytes too', () => {
    const { d, sent, drops } = dispatcher({ maxHandlersInFlight: 1, maxQueuedRequests: 100, maxQueuedBytes: 200 });
    const { handler, release } = gated();
    d.subscribe('slow', 0, handler);
    d.deliver(frame({ sequence: 1 }));
    d.deliver(frame({ sequence: 2, payload: new Uint8Array(100) }));
    d.deliver(frame({ sequence: 3, payload: new Uint8Array(100) }));
    assert.deepEqual(codes(sent), [[3, Kind.FAIL, 'L8_ERR_BACKPRESSURE']]);
    assert.equal(drops.backpressure, 1);
    release();
  });
});

describe('Dispatcher: queued deadlines', () => {
  test('a queued request whose deadline passed is answered L8_ERR_TIMEOUT without running', async () => {
    const clock = { now: 1000 };
    mock.method(performance, 'now', () => clock.now);
    try {
      const { d, sent, drops } = dispatcher({ maxHandlersInFlight: 1 });
      const { handler, seen, release } = gated();
      d.subscribe('slow', 0, handler);
      d.deliver(frame({ sequence: 1 }));
      d.deliver(frame({ sequence: 2, deadlineMs: 10 }));
      d.deliver(frame({ sequence: 3, deadlineMs: 0 }));
      clock.now += 11;
      release();
      await until(() => sent.length === 3);
      assert.deepEqual(codes(sent), [
        [1, Kind.REPLY, undefined],
        [2, Kind.FAIL, 'L8_ERR_TIMEOUT'],
        [3, Kind.REPLY, undefined],
      ]);
      assert.deepEqual([seen.ran, drops.expired], [[1, 3], 1]);
    } finally {
      mock.restoreAll();
    }
  });

  test('expired requests leave the queue while every handler is still busy', async () => {
    const { d, sent, drops } = dispatcher({ maxHandlersInFlight: 1, maxQueuedRequests: 2 });
    const { handler, seen, release } = gated();
    d.subscribe('slow', 0, handler);
    d.deliver(frame({ sequence: 1 }));
    d.deliver(frame({ sequence: 2, deadlineMs: 5 }));
    d.deliver(frame({ sequence: 3 }));
    await until(() => sent.length === 1);
    assert.deepEqual(codes(sent), [[2, Kind.FAIL, 'L8_ERR_TIMEOUT']]);
    assert.deepEqual([d.queued, drops.expired], [1, 1]);
    d.deliver(frame({ sequence: 4 }));
    assert.equal(d.queued, 2, 'the freed place is taken');
    release();
    await until(() => sent.length === 4);
    assert.deepEqual(seen.ran, [1, 3, 4]);
  });

  test('a queued request whose service was unsubscribed meanwhile gets L8_ERR_NO_SERVICE', async () => {
    const { d, sent } = dispatcher({ maxHandlersInFlight: 1 });
    const { handler, release } = gated();
    const sub = d.subscribe('slow', 0, handler);
    d.deliver(frame({ sequence: 1 }));
    d.deliver(frame({ sequence: 2 }));
    sub.close();
    release();
    await until(() => sent.length === 2);
    assert.deepEqual(codes(sent), [
      [1, Kind.REPLY, undefined],
      [2, Kind.FAIL, 'L8_ERR_NO_SERVICE'],
    ]);
  });
});
