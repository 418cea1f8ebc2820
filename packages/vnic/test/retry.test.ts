import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Action, l8error } from '@layer8/protocol';
import { backoffMs, isIdempotent, mayRetry, RetryBudget, retryPolicyOf } from '../src/retry.ts';

describe('retry policy', () => {
  test('idempotent: GET, PUT, DELETE or a keyed write; never POST, PATCH or HANDLE alone', () => {
    assert.deepEqual(
      [Action.GET, Action.PUT, Action.DELETE, Action.POST, Action.PATCH, Action.HANDLE].map((a) =>
        isIdempotent(a, undefined),
      ),
      [true, true, true, false, false, false],
    );
    assert.equal(isIdempotent(Action.POST, 'k-1'), true);
  });

  test('retryable errors retry an idempotent call; a write only when its handler did not run', () => {
    const timeout = l8error('L8_ERR_TIMEOUT', 't');
    const busy = l8error('L8_ERR_BACKPRESSURE', 'b');
    const forbidden = l8error('L8_ERR_FORBIDDEN', 'f');
    assert.deepEqual(
      [mayRetry(timeout, true), mayRetry(timeout, false), mayRetry(busy, false), mayRetry(forbidden, true)],
      [true, false, true, false],
    );
  });

  test('back-off: full jitter under a cap that doubles up to maxMs; off unless a policy is given', () => {
    const p = retryPolicyOf({ baseMs: 10, maxMs: 50 }, undefined);
    assert.ok(p !== undefined);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffMs(n, p, () => 0.5)),
      [5, 10, 20, 25, 25],
    );
    assert.equal(
      backoffMs(3, p, () => 0),
      0,
    );
    assert.equal(retryPolicyOf(undefined, undefined), undefined);
    assert.equal(retryPolicyOf(false, { attempts: 4 }), undefined, 'a call turns off the default');
    assert.equal(retryPolicyOf(undefined, { attempts: 4 })?.attempts, 4);
  });
});

describe('retry budget (a clock the test drives)', () => {
  test('retries ≤ ratio × requests + minPerSecond × window, over a sliding window', () => {
    const clock = { now: 1_000_000 };
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1, windowSeconds: 10 }, () => clock.now);
    for (let i = 0; i < 100; i++) budget.request();
    let granted = 0;
    while (budget.tryRetry()) granted++;
    assert.equal(granted, 100 * 0.1 + 1 * 10);
    clock.now += 5_000;
    assert.equal(budget.tryRetry(), false, 'still inside the window');
    clock.now += 5_000;
    assert.equal(budget.tryRetry(), true, 'the first second left the window');
    clock.now += 60_000;
    for (let i = 0; i < 10; i++) budget.request();
    granted = 0;
    while (budget.tryRetry()) granted++;
    assert.equal(granted, 1 + 10, 'a window later only the new requests count');
  });
});
