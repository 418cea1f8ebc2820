import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type L8Error, l8error } from '@layer8/protocol';
import { waitFor, withDeadline } from '@layer8/testkit';
import type { BreakerState } from '@layer8/vnic';
import { type OneVNet, oneVNet } from './one-vnet.ts';

let net: OneVNet;

before(async () => {
  net = await oneVNet();
});

after(async () => {
  await net.close();
});

test('a failing node trips its breaker and round-robin moves off it; the half-open probe brings it back', async () => {
  const changes: BreakerState[] = [];
  let closedAgain!: () => void;
  const recovered = new Promise<void>((r) => (closedAgain = r));
  const caller = await net.vnic('caller', {
    breaker: { failures: 3, coolDownMs: 300 },
    onBreaker: (c) => {
      changes.push(c.to);
      if (c.to === 'closed') closedAgain();
    },
  });
  const [a, b] = [await net.vnic('a'), await net.vnic('b')];
  let aFails = true;
  a.subscribe({ service: 'flaky' }, () => {
    if (aFails) throw l8error('L8_ERR_UNAVAILABLE', 'a is unwell');
    return 'a';
  });
  b.subscribe({ service: 'flaky' }, () => 'b');
  await waitFor(() => caller.health.instances('flaky', 0).length === 2, { what: 'two instances' });
  const call = () =>
    caller.request({ service: 'flaky' }).then(
      (r) => r.json() as string,
      (e: L8Error) => e.code,
    );

  // phase 1: a fails; once its breaker is open, every request goes to b
  const log: { state: BreakerState; by: string }[] = [];
  for (let i = 0; i < 30; i++) log.push({ state: caller.breakerState('flaky', 0, a.id), by: await call() });
  const whileOpen = log.filter((l) => l.state === 'open');
  assert.equal(log.filter((l) => l.by === 'L8_ERR_UNAVAILABLE' && l.state === 'closed').length, 3, 'three to trip');
  assert.ok(whileOpen.length > 0, 'the breaker opened');
  assert.ok(
    whileOpen.every((l) => l.by === 'b'),
    'round-robin skips the open node',
  );

  // phase 2: a recovers; after the cool-down one probe reaches it and closes its breaker
  aFails = false;
  const done = (async () => {
    while (caller.breakerState('flaky', 0, a.id) !== 'closed') {
      await call();
      await sleep(20); // paces the traffic the probe rides on
    }
  })();
  await withDeadline(recovered, 10_000, 'the breaker closing again');
  await done;
  assert.deepEqual(changes.slice(0, 2), ['open', 'half-open']);
  assert.equal(changes.at(-1), 'closed');

  // phase 3: both nodes are in the rotation again
  const by = { a: 0, b: 0 } as Record<string, number>;
  for (let i = 0; i < 10; i++) {
    const who = await call();
    by[who] = (by[who] ?? 0) + 1;
  }
  assert.deepEqual(by, { a: 5, b: 5 });
});
