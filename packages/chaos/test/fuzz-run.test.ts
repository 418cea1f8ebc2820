import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIELD_NAMES, type FuzzReport, randomSeed, runFuzz } from '../src/index.ts';

/**
 * Bounded runs of the frame fuzzer (the CI part of `l8 chaos fuzz`; `npm run chaos:fuzz` sends 10^6):
 * more than 10^5 frames in all, into a VNet and a VNic in processes of their own, over plain TCP with
 * the dev provider and over TLS, with a fixed seed and a random one (printed, to replay a finding).
 */

/** A target's memory may grow by this much over a run (buffers of a few MiB per link come and go). */
const RSS_GROWTH_BOUND = 128 * 1024 * 1024;

/** What every run must show: nothing crashed or hung, the targets refused by code, memory stayed bounded. */
function assertSurvived(r: FuzzReport, frames: number): void {
  const where = `seed ${r.seed} (replay: l8 chaos fuzz --frames ${frames} --seed ${r.seed}${r.tls ? ' --tls' : ''})`;
  assert.equal(r.crashes, 0, `${where}: ${JSON.stringify(r.targets.map((t) => t.crash))}`);
  assert.equal(r.hangs, 0, `${where}: ${JSON.stringify({ control: r.control, channels: r.channels })}`);
  assert.equal(r.framesSent, frames, where);
  for (const t of r.targets) {
    assert.deepEqual(t.faults, {}, `${where}: ${t.role} caught faults in itself`);
    assert.ok(t.framesIn > 0, `${where}: ${t.role} received frames`);
    const growth = (t.rssAfter ?? Number.NaN) - (t.rssBefore ?? Number.NaN);
    assert.ok(growth < RSS_GROWTH_BOUND, `${where}: ${t.role} RSS ${t.rssBefore} → ${t.rssAfter}`);
    assert.ok((t.rejectedByCode.L8_ERR_MALFORMED_FRAME ?? 0) > 0, `${where}: ${t.role} refused malformed frames`);
    assert.ok(
      (t.rejectedByCode.L8_ERR_FRAME_TOO_LARGE ?? 0) > 0,
      `${where}: ${t.role} refused lengths over its maximum`,
    );
  }
  const vnet = r.targets.find((t) => t.role === 'vnet');
  for (const code of ['L8_ERR_IDENTITY', 'L8_ERR_UNREACHABLE', 'L8_ERR_NO_SERVICE', 'L8_ERR_TTL', 'L8_ERR_HANDSHAKE']) {
    assert.ok((vnet?.rejectedByCode[code] ?? 0) > 0, `${where}: the VNet refused frames with ${code}`);
  }
  assert.ok(r.linksCut > 0 && r.linksEndedByFuzzer > 0, where);
  assert.ok((r.control?.answered ?? 0) > 0 && r.control?.stalls === 0, `${where}: the control pair was served`);
  const missing = FIELD_NAMES.filter((f) => (r.coverage[`field.${f}`] ?? 0) === 0);
  assert.deepEqual(missing, [], `${where}: every field was mutated`);
  assert.ok(Object.keys(r.setups).length > 1, `${where}: link setups with a mutated message`);
}

describe('l8 chaos fuzz, bounded: a VNet and a VNic survive mutated frames and keep serving', () => {
  test('60 000 frames over plain TCP and the unix socket (dev provider), fixed seed', async () => {
    const r = await runFuzz({ frames: 60_000, seed: 20_251_202, target: 'both' });
    assertSurvived(r, 60_000);
    assert.deepEqual(r.channels.map((c) => c.name).sort(), ['vnet/peer', 'vnet/tcp', 'vnet/unix', 'vnic/tcp']);
  });

  test('50 000 frames over TLS and the unix socket (TLS provider), random seed', async (t) => {
    const seed = randomSeed();
    t.diagnostic(`fuzz seed ${seed}`);
    const r = await runFuzz({ frames: 50_000, seed, target: 'both', tls: true });
    assertSurvived(r, 50_000);
    assert.ok(
      Object.keys(r.setups).some((k) => k.startsWith('transport:')),
      'bytes that are not TLS were sent to TLS ports',
    );
  });
});
