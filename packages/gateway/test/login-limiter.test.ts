import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoginLimiter } from '../src/index.ts';

describe('LoginLimiter', () => {
  test('failures older than the window do not count; lock-outs double up to the maximum', () => {
    let now = 0;
    const l = new LoginLimiter(
      { perUser: 2, perAddress: 99, windowMs: 1000, lockoutMs: 100, maxLockoutMs: 250 },
      () => now,
    );
    const keys = ['ann', '10.0.0.1'] as const;
    l.failed(keys);
    now = 1500;
    l.failed(keys);
    assert.equal(l.waitMs(keys), 0, 'the first failure left the window');
    const lockouts = [100, 200, 250, 250];
    for (const ms of lockouts) {
      l.failed(keys);
      assert.equal(l.waitMs(keys), ms);
      now += ms;
      l.failed(keys);
    }
    l.succeeded(keys);
    assert.equal(l.waitMs(keys), 0);
  });

  test('tracks a bounded number of keys, forgetting the oldest first', () => {
    const now = 0;
    const l = new LoginLimiter({ perUser: 1, perAddress: 99, windowMs: 10, lockoutMs: 1000, maxKeys: 10 }, () => now);
    l.failed(['first', 'a']);
    assert.ok(l.waitMs(['first', 'b']) > 0);
    for (let i = 0; i < 20; i++) l.failed([`user-${i}`, `addr-${i}`]);
    assert.equal(l.waitMs(['first', 'b']), 0, 'the oldest entry was forgotten');
    assert.ok(l.waitMs(['user-19', 'b']) > 0, 'the newest is kept');
  });
});
