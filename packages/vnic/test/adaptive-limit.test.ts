import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdaptiveLimit, type AdaptiveLimitOptions } from '../src/adaptive-limit.ts';

/** A limit on a clock the test moves, with helpers to run handlers of a given latency. */
function limited(o: AdaptiveLimitOptions = {}) {
  let now = 0;
  const limit = new AdaptiveLimit({ probeSamples: 4, windowMs: 100, ...o }, () => now);
  /** Runs `n` handlers at once that each take `ms`, starting now; the clock ends after them. */
  const runs = (n: number, ms: number): void => {
    const started = Array.from({ length: n }, () => limit.acquire());
    now += ms;
    for (const s of started) limit.release(s);
  };
  return { limit, runs, tick: (ms: number) => (now += ms) };
}

describe('the adaptive concurrency limit (gradient on measured latency)', () => {
  test('it measures the base latency at the minimum concurrency first, then starts at `initial`', () => {
    const { limit, runs } = limited({ min: 3, initial: 20 });
    assert.equal(limit.limit, 3);
    runs(3, 10);
    assert.deepEqual([limit.limit, limit.baseMs], [3, undefined], 'three of four samples');
    runs(1, 10);
    assert.deepEqual([limit.limit, limit.baseMs, limit.running], [20, 10, 0]);
  });

  test('a run that started before the measurement does not count towards it', () => {
    const { limit, runs, tick } = limited({ probeIntervalMs: 1000 });
    runs(4, 10);
    const early = limit.acquire();
    tick(1000);
    runs(20, 10); // a window at the base latency ends after the probe interval: a new measurement starts
    assert.equal(limit.limit, 3);
    tick(500);
    limit.release(early); // 500 ms, but started before the measurement: ignored
    runs(4, 10);
    assert.equal(limit.baseMs, 10);
  });

  test('near the base latency and well used, the limit grows by the gradient (at most 2× the peak)', () => {
    const { limit, runs } = limited({ initial: 20 });
    runs(4, 10);
    runs(20, 100); // one window, 20 running at the base latency ×10: gradient clamps to 0.5
    assert.equal(limit.limit, Math.floor(0.5 * 20 + Math.sqrt(20)));
    const before = limit.limit; // 14
    runs(14, 100); // the same latency again: 0.5 × 14 + √14
    assert.equal(limit.limit, Math.floor(0.5 * 14.472 + Math.sqrt(14.472)));
    assert.ok(limit.limit < before);
    const low = limited({ initial: 20 });
    low.runs(4, 10);
    low.tick(90);
    low.runs(20, 10); // at the base latency: gradient 1.5, 1.5 × 20 + √20 = 34.5, under 2 × 20
    assert.equal(low.limit.limit, 34);
  });

  test('a service that never uses half its limit does not grow it; max and min clamp it', () => {
    const { limit, runs, tick } = limited({ initial: 20, max: 25 });
    runs(4, 10);
    tick(90);
    runs(2, 10); // at the base latency but app-limited: 2 running of 20
    assert.equal(limit.limit, 20);
    tick(90);
    runs(20, 10);
    assert.equal(limit.limit, 25, 'clamped to max');
    const slow = limited({ initial: 4, min: 3 });
    slow.runs(4, 1);
    for (let i = 0; i < 10; i++) slow.runs(4, 200);
    assert.equal(slow.limit.limit, 4, '0.5 × 4 + √4: the floor of the gradient rule, not below min');
  });

  test('a serial resource offered twice its capacity: the limit falls from 100 to a handful and stays', () => {
    // one request per 0.5 ms arrives at a resource that serves one per ms in FIFO order
    let now = 0;
    const limit = new AdaptiveLimit({ initial: 100, min: 3, probeSamples: 20, windowMs: 50 }, () => now);
    const finishes: { at: number; startedAt: number }[] = [];
    let last = 0;
    let refused = 0;
    let served = 0;
    const limits: number[] = [];
    for (let step = 0; step < 20_000; step++) {
      now = step * 0.5;
      while (finishes.length > 0 && (finishes[0]?.at ?? 0) <= now) {
        limit.release((finishes.shift() as { startedAt: number }).startedAt);
        served++;
      }
      if (limit.running >= limit.limit) refused++;
      else {
        last = Math.max(now, last) + 1;
        finishes.push({ at: last, startedAt: limit.acquire() });
      }
      if (step % 1000 === 999) limits.push(limit.limit);
    }
    assert.ok(
      limits.slice(2).every((l) => l >= 3 && l <= 12),
      `limits ${limits}`,
    );
    assert.ok(served >= 9500, `the resource stayed busy: ${served} served of 10 000 possible`);
    assert.ok(refused >= 9500, `the excess was refused: ${refused}`);
  });
});
