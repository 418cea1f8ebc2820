import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { l8error, type Message, type NodeId, newNodeId } from '@layer8/protocol';
import { DEFAULT_HEDGE_DELAY_MS, type HedgeRun, hedgeDelayMs, hedged, LatencyWindow } from '../src/hedge.ts';
import { Incoming } from '../src/payload.ts';
import type { RequestOptions } from '../src/target.ts';

describe('the hedge delay', () => {
  test('fixed, or a percentile of the last 128 latencies once 20 are known', () => {
    const w = new LatencyWindow();
    assert.equal(hedgeDelayMs({}, w), DEFAULT_HEDGE_DELAY_MS);
    assert.equal(hedgeDelayMs({ delayMs: 7, percentile: 90 }, w), 7, 'too few samples yet');
    for (let i = 1; i <= 100; i++) w.record(i);
    assert.equal(hedgeDelayMs({ delayMs: 7, percentile: 90 }, w), 91);
    assert.equal(hedgeDelayMs({ percentile: 50 }, w), 51);
    assert.equal(hedgeDelayMs({ delayMs: 7 }, w), 7, 'no percentile: the fixed delay');
    for (let i = 0; i < 128; i++) w.record(1000); // the window moves on: only the last 128 count
    assert.equal(w.percentile(10), 1000);
  });
});

/** Copies whose outcome the test decides: `answer(i, …)` settles the i-th copy sent. */
function copies(nodes: NodeId[]) {
  const sent: { node: NodeId; options: RequestOptions; settle: (e?: Error) => void }[] = [];
  const recorded: number[] = [];
  let picks = 0;
  let budget = 1;
  const run = (o: Partial<HedgeRun> = {}): HedgeRun => ({
    options: {},
    timeoutMs: 1000,
    delayMs: 50,
    pick: () => nodes[picks++ % nodes.length] as NodeId,
    attempt: (node, options) =>
      new Promise<Incoming>((resolve, reject) => {
        const settle = (e?: Error): void =>
          e ? reject(e) : resolve(new Incoming({ payload: Buffer.from(node) } as unknown as Message));
        sent.push({ node, options, settle });
        options.signal?.addEventListener('abort', () => reject(l8error('L8_ERR_ABORTED', 'abandoned')));
      }),
    mayHedge: () => budget-- > 0,
    record: (ms) => recorded.push(ms),
    ...o,
  });
  return { run, sent, recorded, answer: (i: number, e?: Error) => sent[i]?.settle(e) };
}

describe('a hedged read', () => {
  test('the copy goes to another instance after the delay; the first reply wins, the other is aborted', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const [a, b] = [newNodeId(), newNodeId()];
      const c = copies([a, b]);
      const reply = hedged(c.run());
      assert.equal(c.sent.length, 1);
      mock.timers.tick(50);
      assert.deepEqual(
        c.sent.map((s) => s.node),
        [a, b],
      );
      assert.ok((c.sent[1]?.options.timeoutMs ?? 0) <= 1000);
      c.answer(1);
      assert.equal(Buffer.from((await reply).payload).toString(), b);
      assert.equal(c.sent[0]?.options.signal?.aborted, true, 'the slow copy is abandoned');
      assert.equal(c.recorded.length, 1);
    } finally {
      mock.timers.reset();
    }
  });

  test('no copy without budget or without another instance; a first failure before the delay is the answer', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const a = newNodeId();
      const single = copies([a]);
      const one = hedged(single.run());
      mock.timers.tick(50);
      single.answer(0);
      await one;
      assert.equal(single.sent.length, 1, 'one instance: nothing to hedge to');

      const broke = copies([a, newNodeId()]);
      const noBudget = hedged(broke.run({ mayHedge: () => false }));
      mock.timers.tick(50);
      broke.answer(0);
      await noBudget;
      assert.equal(broke.sent.length, 1, 'the retry budget is spent');

      const failing = copies([a, newNodeId()]);
      const failed = hedged(failing.run());
      failing.answer(0, l8error('L8_ERR_UNAVAILABLE', 'down'));
      await assert.rejects(failed, { code: 'L8_ERR_UNAVAILABLE' });
      mock.timers.tick(50);
      assert.equal(failing.sent.length, 1);
    } finally {
      mock.timers.reset();
    }
  });

  test('when one copy fails the other is still awaited; both failing fail the read', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const c = copies([newNodeId(), newNodeId()]);
      const reply = hedged(c.run());
      mock.timers.tick(50);
      c.answer(0, l8error('L8_ERR_UNAVAILABLE', 'first down'));
      c.answer(1);
      await reply;
      const d = copies([newNodeId(), newNodeId()]);
      const both = hedged(d.run());
      mock.timers.tick(50);
      d.answer(1, l8error('L8_ERR_UNAVAILABLE', 'second down'));
      d.answer(0, l8error('L8_ERR_TIMEOUT', 'first late'));
      await assert.rejects(both, { code: 'L8_ERR_TIMEOUT' });
    } finally {
      mock.timers.reset();
    }
  });
});
