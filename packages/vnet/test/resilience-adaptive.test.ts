import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { L8Error } from '@layer8/protocol';
import { waitFor } from '@layer8/testkit';
import { type OneVNet, oneVNet } from './one-vnet.ts';

let net: OneVNet;

before(async () => {
  net = await oneVNet();
});

after(async () => {
  await net.close();
});

/** A resource that serves one job at a time, each taking about `ms`: its latency grows with its queue. */
function serialResource(ms: number) {
  let tail = Promise.resolve();
  const served = { jobs: 0 };
  const job = (): Promise<void> => {
    tail = tail.then(() => sleep(ms)).then(() => void served.jobs++);
    return tail;
  };
  return { job, served };
}

test('under a flood the adaptive limit drops; the excess is refused L8_ERR_BACKPRESSURE, admitted requests succeed', async () => {
  const caller = await net.vnic('caller', { breaker: false });
  const responder = await net.vnic('responder');
  const resource = serialResource(2);
  const adaptive = { initial: 50, min: 3, windowMs: 50, probeSamples: 10 };
  responder.subscribe({ service: 'serial' }, () => resource.job().then(() => 'ok'), { concurrency: { adaptive } });
  await waitFor(() => caller.health.instances('serial', 0).length === 1, { what: 'serial replicated' });

  // one at a time: the base latency is measured at concurrency 1, and the limit stays at its initial 50
  for (let i = 0; i < 20; i++) await caller.request({ service: 'serial' });
  const calm = responder.handlerLimit('serial')?.limit ?? 0;
  assert.ok(calm >= 40, `the limit in calm: ${calm}`);

  // 60 callers in a closed loop, until 400 requests succeeded
  const counts = { ok: 0, refused: 0, other: [] as string[] };
  const lane = async (): Promise<void> => {
    while (counts.ok < 400) {
      try {
        await caller.request({ service: 'serial' });
        counts.ok++;
      } catch (err) {
        const code = (err as L8Error).code;
        if (code === 'L8_ERR_BACKPRESSURE') counts.refused++;
        else counts.other.push(code);
        await nextTurn();
      }
    }
  };
  await Promise.all(Array.from({ length: 60 }, lane));

  const flooded = responder.handlerLimit('serial')?.limit ?? 0;
  assert.ok(flooded <= 10, `the limit under the flood: ${flooded} (was ${calm})`);
  assert.deepEqual(counts.other, [], 'admitted requests never failed');
  assert.ok(counts.refused > 0, 'the excess was refused');
  assert.equal(responder.drops.limited, counts.refused, 'every refusal was the limit');
  assert.equal(resource.served.jobs, 20 + counts.ok, 'a refused request never reached the handler');
});
