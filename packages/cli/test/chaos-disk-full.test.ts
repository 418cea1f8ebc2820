import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, tallyIncarnation } from '@layer8/chaos';
import { render } from '../src/commands/chaos-run.ts';
import { l8 } from './cli-kit.ts';

/** `l8 chaos run --disk-full`: its report and its arguments (the fault itself: packages/chaos/test/run-disk-full.test.ts). */
describe('l8 chaos run --disk-full: the report and the arguments', () => {
  const setup = {
    vnets: 2,
    vnicsPerVnet: 1,
    heartbeatMs: 1000,
    provider: 'tls' as const,
    rate: 20,
    mcastRate: 2,
    timeoutMs: 2000,
  };
  const run = {
    seed: 9,
    durationMs: 10_000,
    requests: tallyIncarnation({ sent: 1, settled: [[0, 2, 'OK']], unsettled: [], paused: [] }, 2000),
    multicast: { sent: 1, refusedByCode: {}, delivered: 1, duplicates: 0, dupRequests: 0 },
    crashed: [],
    health: { identical: true, tables: 5, nodes: 5, expected: 5, waitedMs: 1, differing: [], fingerprint: [] },
    maxLagMs: 3,
  };

  test('the report shows the writes refused while full, those lost, and replays with --disk-full', () => {
    const disk = {
      acknowledged: 6,
      heldWrites: 30,
      refusedByCode: { L8_ERR_STORAGE: 30 },
      lostAcknowledged: 0,
      phantoms: 0,
      filledBytes: 1,
    };
    const fault = {
      kind: 'disk-full' as const,
      target: 'store@vnet-0',
      holdMs: 3000,
      atMs: 10,
      detectMs: 30,
      recoverMs: 2,
      convergeMs: 0,
      spurious: 0,
      probes: [],
      disk,
    };
    const text = render(buildReport({ ...run, setup, faults: [fault] }));
    assert.match(
      text,
      /^full disk \(store writes\)\s+30 of 30 refused L8_ERR_STORAGE while full; 0 of 6 acknowledged lost; 0 refused and kept$/m,
    );
    assert.match(text, /^writes refused with L8_ERR_STORAGE while the disk was full\s+30 of 30\s+yes$/m);
    assert.match(text, /^no acknowledged write lost after a full disk\s+0 of 6 lost, 0 refused and kept\s+yes$/m);
    assert.match(text, /\(replay: l8 chaos run --seed 9 --disk-full\)$/m);
  });

  test('an acknowledged write lost, or a write refused otherwise, fails the checks', () => {
    const disk = {
      acknowledged: 6,
      heldWrites: 3,
      refusedByCode: { L8_ERR_STORAGE: 2, L8_ERR_TIMEOUT: 1 },
      lostAcknowledged: 1,
      phantoms: 0,
      filledBytes: 1,
    };
    const fault = {
      kind: 'disk-full' as const,
      target: 'store@vnet-0',
      holdMs: 3000,
      atMs: 10,
      detectMs: 30,
      recoverMs: 2,
      convergeMs: 0,
      spurious: 0,
      probes: [],
      disk,
    };
    const r = buildReport({ ...run, setup, faults: [fault] });
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.checks.filter((c) => !c.ok).map((c) => c.value),
      ['2 of 3, L8_ERR_TIMEOUT 1', '1 of 6 lost, 0 refused and kept'],
    );
  });

  test('without root the kind is left out and the report says why', () => {
    const text = render(
      buildReport({
        ...run,
        setup: { ...setup, leftOut: { 'disk-full': 'mounting a tmpfs needs root (this run is uid 1000)' } },
        faults: [],
      }),
    );
    assert.match(text, /^not injected: disk-full \(mounting a tmpfs needs root \(this run is uid 1000\)\)$/m);
  });

  test('--disk-full with --vnet: L8_ERR_INVALID_ARGUMENT before anything starts', async () => {
    const r = await l8(['chaos', 'run', '--vnet', '127.0.0.2:1', '--disk-full', '--dev']);
    assert.equal(r.code, 1);
    assert.match(r.err, /L8_ERR_INVALID_ARGUMENT/);
    assert.equal(r.out, '');
  });
});
