import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Action, type L8Error } from '@layer8/protocol';
import { waitFor } from '@layer8/testkit';
import type { Incoming, VNic, VNicOptions } from '@layer8/vnic';
import { type OneVNet, oneVNet } from './one-vnet.ts';

describe('hedged reads over a real VNet: one instance stalls', () => {
  let net: OneVNet;
  let release!: () => void;
  const stalled = new Promise<void>((r) => (release = r));
  /** Calls each instance got, by action. */
  const served = { a: [] as Action[], b: [] as Action[] };

  before(async () => {
    net = await oneVNet();
    const [a, b] = [await net.vnic('a'), await net.vnic('b')];
    a.subscribe({ service: 'reads' }, async (m) => {
      served.a.push(m.action);
      await stalled;
      return 'a';
    });
    b.subscribe({ service: 'reads' }, (m) => {
      served.b.push(m.action);
      return 'b';
    });
  });

  after(async () => {
    release();
    await net.close();
  });

  async function caller(options: Partial<VNicOptions>): Promise<VNic> {
    const c = await net.vnic('caller', options);
    await waitFor(() => c.health.instances('reads', 0).length === 2, { what: 'two instances' });
    served.a = [];
    served.b = [];
    return c;
  }

  const outcome = (p: Promise<Incoming>): Promise<unknown> =>
    p.then(
      (r) => r.json(),
      (e: L8Error) => e.code,
    );

  test('a GET that went to the stalled instance is answered by the hedge; the abandoned copy is freed', async () => {
    const c = await caller({ hedges: { reads: { delayMs: 30 } } });
    const got = [];
    for (let i = 0; i < 8; i++) got.push(await outcome(c.request({ service: 'reads' }, i, { action: Action.GET })));
    assert.deepEqual(got, Array(8).fill('b'));
    assert.ok(served.a.length >= 3, `${served.a.length} reads went to the stalled instance first`);
    assert.equal(served.b.length, 8, 'b answered each read once: directly or as the hedge');
    assert.equal(c.inFlight, 0, 'no pending entry is left for the copies that never answered');
  });

  test('a POST is never hedged, even when asked; `hedge: false` turns the service default off', async () => {
    const c = await caller({ hedges: { reads: { delayMs: 10 } } });
    const hedge = { delayMs: 10 };
    const posts = [];
    for (let i = 0; i < 4; i++) {
      posts.push(await outcome(c.request({ service: 'reads' }, i, { action: Action.POST, hedge, timeoutMs: 150 })));
    }
    assert.deepEqual(
      [posts.filter((p) => p === 'b').length, posts.filter((p) => p === 'L8_ERR_TIMEOUT').length],
      [served.b.length, served.a.length],
    );
    assert.equal(served.a.length + served.b.length, 4, 'one copy per POST');
    served.a = [];
    served.b = [];
    const gets = [];
    for (let i = 0; i < 4; i++) {
      gets.push(
        await outcome(c.request({ service: 'reads' }, i, { action: Action.GET, hedge: false, timeoutMs: 150 })),
      );
    }
    assert.equal(served.a.length + served.b.length, 4, 'hedging off: one copy per GET');
    assert.equal(gets.filter((g) => g === 'L8_ERR_TIMEOUT').length, served.a.length);
  });

  test('hedges take from the retry budget: with room for 2, later slow reads time out', async () => {
    const c = await caller({ retryBudget: { ratio: 0, minPerSecond: 0.2, windowSeconds: 10 } });
    const got = [];
    for (let i = 0; i < 8; i++) {
      const o = { action: Action.GET, hedge: { delayMs: 20 }, timeoutMs: 150 };
      got.push(await outcome(c.request({ service: 'reads' }, i, o)));
    }
    assert.ok(served.a.length >= 3, `${served.a.length} reads went to the stalled instance first`);
    assert.equal(got.filter((g) => g === 'L8_ERR_TIMEOUT').length, served.a.length - 2, 'two were hedged');
    assert.equal(got.filter((g) => g === 'b').length, 8 - (served.a.length - 2));
  });
});
