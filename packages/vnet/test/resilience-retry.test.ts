import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Action, type L8Error, l8error } from '@layer8/protocol';
import { waitFor } from '@layer8/testkit';
import type { VNic, VNicOptions } from '@layer8/vnic';
import { type OneVNet, oneVNet } from './one-vnet.ts';

describe('retries over a real VNet', () => {
  let net: OneVNet;
  let aDown = true;
  const bDown = true;
  const served = { a: 0, b: 0 };

  before(async () => {
    net = await oneVNet();
    const [a, b] = [await net.vnic('a'), await net.vnic('b')];
    for (const [n, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      n.subscribe({ service: 'store' }, (m) => {
        served[name]++;
        if (m.action === Action.HANDLE) throw new Error('a handler bug');
        if (name === 'a' ? aDown : bDown) throw l8error('L8_ERR_UNAVAILABLE', `${name} is down`);
        return name;
      });
    }
  });

  after(async () => {
    await net.close();
  });

  async function caller(options: Partial<VNicOptions>): Promise<VNic> {
    const c = await net.vnic('caller', options);
    await waitFor(() => c.health.instances('store', 0).length === 2, { what: 'two instances' });
    return c;
  }

  test('under a total outage attempts never exceed requests × (1 + ratio) + the minimum', async () => {
    const budget = { ratio: 0.1, minPerSecond: 1, windowSeconds: 10 };
    const c = await caller({ retryBudget: budget, retry: { attempts: 5, baseMs: 1, maxMs: 5 } });
    served.a = served.b = 0;
    const requests = 100;
    const all = Array.from({ length: requests }, () =>
      c.request({ service: 'store' }, undefined, { action: Action.GET }).catch((e: L8Error) => e.code),
    );
    const codes = await Promise.all(all);
    assert.ok(codes.every((x) => x === 'L8_ERR_UNAVAILABLE'));
    const attempts = served.a + served.b;
    const bound = requests * (1 + budget.ratio) + budget.minPerSecond * budget.windowSeconds;
    assert.ok(attempts <= bound, `${attempts} attempts, bound ${bound}`);
    assert.equal(attempts, 120, 'the budget was spent, not more');
  });

  test('an idempotent read retries onto the instance that is up; a handler bug is not retried', async () => {
    const c = await caller({ breaker: false });
    aDown = false;
    served.a = served.b = 0;
    const retry = { attempts: 3, baseMs: 1 };
    const got = [];
    for (let i = 0; i < 6; i++)
      got.push((await c.request({ service: 'store' }, i, { action: Action.GET, retry })).json());
    assert.deepEqual(got, ['a', 'a', 'a', 'a', 'a', 'a']);
    // round-robin alternates, so every request but perhaps the first meets b first and is retried on a
    assert.equal(served.a, 6);
    assert.ok(served.b >= 5 && served.b <= 6, `b served ${served.b}`);
    served.a = served.b = 0;
    await assert.rejects(c.request({ service: 'store' }, 0, { retry }), { code: 'L8_ERR_HANDLER' });
    assert.equal(served.a + served.b, 1);
  });

  test('without a policy nothing is retried (the default)', async () => {
    const c = await caller({});
    aDown = true;
    served.a = served.b = 0;
    await assert.rejects(c.request({ service: 'store' }, 0, { action: Action.GET }), { code: 'L8_ERR_UNAVAILABLE' });
    assert.equal(served.a + served.b, 1);
  });
});
