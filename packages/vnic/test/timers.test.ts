import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { encodeMessage, Kind, type L8Error, newNodeId } from '@layer8/protocol';
import { HandlerQueue } from '../src/handler-queue.ts';
import { Incoming } from '../src/index.ts';
import { Context, Lifecycle } from '../src/internal.ts';

const frame = (deadlineMs: number) =>
  encodeMessage({ kind: Kind.REQUEST, source: newNodeId(), service: 's', deadlineMs }).subarray(4);
const host = {
  request: () => Promise.reject(new Error('none')),
  send() {},
  multicast() {},
  progress() {},
  watch() {},
  unwatch() {},
};

describe('timer logic under mock timers', () => {
  test('the handler queue hands over exactly the messages whose deadline passed, at its sweep', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'] });
    try {
      const expired: number[] = [];
      const q = new HandlerQueue((f) => expired.push(f.readUInt32BE(12)));
      const now = performance.now();
      // deadlines count from performance.now(), which mock timers do not move: fake the passing time
      const clock = mock.method(performance, 'now', () => now);
      q.push(frame(30), now + 30);
      q.push(frame(0), Number.POSITIVE_INFINITY);
      q.push(frame(500), now + 500);
      clock.mock.mockImplementation(() => now + 100);
      mock.timers.tick(50);
      assert.deepEqual(expired, [30]);
      assert.equal(q.size, 2);
      clock.mock.mockImplementation(() => now + 1000);
      mock.timers.tick(50);
      assert.deepEqual(expired, [30, 500], 'a message without a deadline never expires');
      assert.equal(q.shift()?.frame.readUInt32BE(12), 0);
      assert.equal(q.size, 0);
      clock.mock.restore();
    } finally {
      mock.timers.reset();
    }
  });

  test('a context signal aborts at the deadline with L8_ERR_TIMEOUT, and never after end()', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const ctx = new Context(new Incoming(frame(100)), host, performance.now() + 100);
      const signal = ctx.signal;
      mock.timers.tick(99);
      assert.equal(signal.aborted, false);
      mock.timers.tick(1);
      assert.equal((signal.reason as L8Error).code, 'L8_ERR_TIMEOUT');
      const ended = new Context(new Incoming(frame(100)), host, performance.now() + 100);
      const s2 = ended.signal;
      ended.end();
      mock.timers.tick(1000);
      assert.equal(s2.aborted, false);
    } finally {
      mock.timers.reset();
    }
  });

  test('the lifecycle refuses a move its table does not list, and ends status() readers at closed', async () => {
    const life = new Lifecycle({ debug() {}, info() {}, warn() {} }, {});
    const reader = life.status();
    life.to('connecting');
    life.to('draining');
    assert.throws(
      () => life.to('reconnecting'),
      (e: L8Error) => e.code === 'L8_ERR_INTERNAL',
    );
    assert.equal(life.state, 'draining', 'a refused move changes nothing');
    life.to('closed');
    const seen: string[] = [];
    for await (const s of reader) seen.push(s.state);
    assert.deepEqual(seen, ['connecting', 'draining', 'closed']);
    assert.equal(await life.closed(), undefined);
  });
});
