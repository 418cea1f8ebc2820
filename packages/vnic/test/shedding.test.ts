import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeMessage,
  encodeMessage,
  fromWire,
  Kind,
  type Message,
  type MessageInit,
  newNodeId,
  nodeIdToBytes,
  type Priority,
} from '@layer8/protocol';
import { Dispatcher, type DispatchHost, type DispatchLimits, newDrops } from '../src/dispatch.ts';
import { queueBoundOf } from '../src/shedding.ts';
import { until } from './fake-vnet.ts';

const requester = newNodeId();

/** A dispatcher whose host records the answers it sends. */
function dispatcher(limits: Partial<DispatchLimits>) {
  const sent: Message[] = [];
  const drops = newDrops();
  const host: DispatchHost = {
    idBytes: nodeIdToBytes(newNodeId()),
    vnetIdBytes: () => new Uint8Array(16),
    send: (frame) => sent.push(decodeMessage(frame.subarray(4))),
    control: () => undefined,
    limits: { maxHandlersInFlight: 1, maxQueuedRequests: 30, maxQueuedBytes: 1 << 20, ...limits },
    drops,
    calls: { request: () => Promise.reject(new Error('no overlay here')), send() {}, multicast() {} },
  };
  return { d: new Dispatcher(host), sent, drops };
}

function frame(sequence: number, priority: Priority, init: Partial<MessageInit> = {}): Buffer {
  return encodeMessage({
    kind: Kind.REQUEST,
    source: requester,
    service: 'slow',
    sequence,
    priority,
    ...init,
  }).subarray(4);
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

describe('load shedding by priority', () => {
  test('queue bounds: NORMAL and above get all of it, below NORMAL a shrinking share, share 1 turns it off', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((p) => queueBoundOf(p, 30, 0.5)),
      [30, 30, 30, 30, 30, 15, 10, 5],
    );
    assert.deepEqual(
      [0, 4, 7].map((p) => queueBoundOf(p, 30, 1)),
      [30, 30, 30],
    );
  });

  test('a flood of low priority is shed while every high-priority request is handled, first', async () => {
    const { d, sent, drops } = dispatcher({});
    const { handler, ran, release } = gated();
    d.subscribe('slow', 0, handler);
    // 200 requests of priority 7, with one of priority 0 after every 20th
    const high: number[] = [];
    for (let seq = 1; seq <= 210; seq++) {
      const isHigh = seq % 21 === 0;
      if (isHigh) high.push(seq);
      d.deliver(frame(seq, isHigh ? 0 : 7));
    }
    // one runs, priority 7 may fill 5 of the 30 places; the 10 high ones queue behind none of them
    assert.deepEqual([d.inFlight, d.queued, drops.shed, drops.backpressure], [1, 15, 194, 0]);
    release();
    await until(() => sent.length === 210);
    const handled = new Set(ran);
    assert.equal(high.filter((s) => handled.has(s)).length, 10, 'every high-priority request ran');
    assert.equal(ran.length - 10, 6, 'low-priority requests that ran: the first and the 5 queued');
    assert.deepEqual(ran.slice(1, 11), high, 'the queue serves priority 0 before priority 7');
    const refused = sent.filter((m) => m.error?.code === 'L8_ERR_BACKPRESSURE');
    assert.equal(refused.length, 194);
    assert.ok(refused.every((m) => m.priority === 7 && m.error !== undefined && fromWire(m.error).retryable));
  });

  test('the default priority is not shed: NORMAL may fill the whole queue', () => {
    const { d, drops } = dispatcher({ maxQueuedRequests: 4 });
    const { handler, release } = gated();
    d.subscribe('slow', 0, handler);
    for (let seq = 1; seq <= 6; seq++) d.deliver(frame(seq, 4));
    assert.deepEqual([d.queued, drops.shed, drops.backpressure], [4, 0, 1]);
    release();
  });
});
