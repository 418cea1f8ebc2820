import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChaosOverlay, type ChaosReport, FAULT_KINDS, LIMITS, randomSeed, runChaos } from '@layer8/chaos';

/** The seed CI replays every time; the second run takes a fresh one and prints it (`ℹ chaos seed …`). */
const FIXED_SEED = 7;

/**
 * The bounded chaos run of `npm test` (docs/reliability.md): 3 VNet processes on 127.0.0.2-4 with the
 * TLS provider and 4 VNic processes on each, under request and multicast load, through every fault kind
 * (kill -9 of a VNet and of a VNic, a partition, latency, loss, SIGSTOP), with hostile joins tried under
 * the faults. Two schedules run on the same overlay: a fixed seed and a random one.
 */
describe('l8 chaos run: 3 TLS VNets × 4 VNic processes under load and every fault kind', { timeout: 240_000 }, () => {
  let overlay: ChaosOverlay;

  before(async () => {
    overlay = await ChaosOverlay.start({ vnets: 3, vnicsPerVnet: 4 });
  });

  after(() => overlay?.close());

  for (const [name, seed, durationMs] of [
    ['the fixed seed', FIXED_SEED, 30_000],
    ['a random seed', randomSeed(), 20_000],
  ] as const) {
    test(`${name} (${seed}): nothing lost, no crash, detection and recovery in bounds, tables identical`, async (t) => {
      t.diagnostic(`chaos seed ${seed} (replay: l8 chaos run --seed ${seed})`);
      const report = await runChaos(overlay, { seed, durationMs, onProgress: (line) => t.diagnostic(line) });
      t.diagnostic(summary(report));
      assertMustHold(report);
    });
  }
});

function assertMustHold(r: ChaosReport): void {
  assert.deepEqual([...new Set(r.faults.map((f) => f.kind))].sort(), [...FAULT_KINDS].sort(), 'every fault kind ran');
  assert.deepEqual(
    r.faults.filter((f) => f.error !== undefined).map((f) => `${f.kind}: ${f.error}`),
    [],
    'every fault injected and measured',
  );
  assert.ok(r.requests > 0 && r.answered > 0 && r.multicast.delivered > 0, 'the load ran');
  const failed = Object.values(r.failedByCode).reduce((a, b) => a + b, 0);
  assert.equal(r.answered + failed + r.lost + r.abandoned + r.mismatched, r.requests, 'every request accounted for');
  assert.equal(r.lost, 0, 'no request lost: each answered or failed with a code within its deadline');
  assert.deepEqual(r.crashed, [], 'no process died by itself');
  assert.equal(r.duplicates, 0, 'no request served twice, no multicast copy received twice');
  assert.equal(r.mismatched, 0, 'no reply to another request');
  for (const f of r.faults) {
    assert.notEqual(f.detectMs, null, `${f.kind} ${f.target} detected by every observer (${f.missing?.join(', ')})`);
    assert.notEqual(f.recoverMs, null, `${f.kind} ${f.target} recovered at every observer (${f.missing?.join(', ')})`);
    assert.notEqual(f.convergeMs, null, `the overlay converged after ${f.kind} ${f.target}`);
  }
  assert.ok((r.recoverMs['kill-vnet'] ?? Infinity) <= LIMITS.reconnectMs, `reconnect ${r.recoverMs['kill-vnet']} ms`);
  assert.ok(
    (r.detectMs.partition ?? Infinity) <= LIMITS.partitionDetectMs,
    `partition seen ${r.detectMs.partition} ms`,
  );
  assert.ok((r.recoverMs.partition ?? Infinity) <= LIMITS.rejoinMs, `rejoin ${r.recoverMs.partition} ms`);
  assert.deepEqual(r.hostile.admitted, [], 'every hostile join refused');
  assert.ok(r.hostile.attempts >= FAULT_KINDS.length);
  assert.ok(r.health.identical, `health tables differ: ${r.health.differing.join(', ')}`);
  assert.equal(r.health.nodes, 15);
  assert.ok(r.ok, JSON.stringify(r.checks.filter((c) => !c.ok)));
}

function summary(r: ChaosReport): string {
  const codes = JSON.stringify(r.failedByCode);
  return `requests ${r.requests}, answered ${r.answered}, failed ${codes}, lost ${r.lost}, abandoned ${r.abandoned}, duplicates ${r.duplicates}, detect ${JSON.stringify(r.detectMs)}, recover ${JSON.stringify(r.recoverMs)}, hostile ${r.hostile.refused}/${r.hostile.attempts} refused`;
}
