import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildReport,
  type ChaosSetup,
  type FaultOutcome,
  type HealthComparison,
  overlapMs,
  type RequestTally,
  sumTallies,
  tallyIncarnation,
} from '@layer8/chaos';

const T = 2000;
const SETUP: ChaosSetup = {
  vnets: 3,
  vnicsPerVnet: 4,
  heartbeatMs: 1000,
  provider: 'tls',
  rate: 20,
  mcastRate: 2,
  timeoutMs: T,
};
const HEALTH: HealthComparison = {
  identical: true,
  tables: 15,
  nodes: 15,
  expected: 15,
  waitedMs: 5,
  differing: [],
  fingerprint: [],
};
const NONE = { sent: 0, refusedByCode: {}, delivered: 0, duplicates: 0, dupRequests: 0 };

function fault(o: Partial<FaultOutcome> & Pick<FaultOutcome, 'kind'>): FaultOutcome {
  return { target: 'vnet-0', holdMs: 1000, atMs: 0, convergeMs: 10, spurious: 0, probes: [], ...o };
}

function sum(t: RequestTally): number {
  return t.answered + Object.values(t.failedByCode).reduce((a, b) => a + b, 0) + t.lost + t.abandoned + t.mismatched;
}

describe('chaos report arithmetic', () => {
  test('every request lands in exactly one bucket; lateness beyond the grace is a loss', () => {
    const t = tallyIncarnation(
      {
        sent: 9,
        settled: [
          [0, 3, 'OK'],
          [10, T + 200, 'OK'], // late by 200 ms: within the 250 ms grace
          [20, T + 400, 'L8_ERR_TIMEOUT'], // late by 400 ms: lost
          [30, 50, 'L8_ERR_UNREACHABLE'],
          [40, 60, 'L8_ERR_UNREACHABLE'],
          [50, 5, 'MISMATCH'],
        ],
        unsettled: [60, 70],
        paused: [],
      },
      T,
    );
    assert.deepEqual(t.failedByCode, { L8_ERR_UNREACHABLE: 2 });
    assert.equal(t.answered, 2);
    assert.equal(t.late, 1);
    assert.equal(t.lost, 3, 'one late and two never settled');
    assert.equal(t.mismatched, 1);
    assert.equal(t.abandoned, 1, 'sent 9, settled 6, unsettled 2: one was in flight when the requester died');
    assert.equal(sum(t), t.requests);
  });

  test("the time the run had the requester stopped is not the overlay's lateness", () => {
    const settled = [[1000, T + 3000, 'L8_ERR_TIMEOUT'] as const];
    const stopped = tallyIncarnation({ sent: 1, settled, unsettled: [], paused: [[1500, 4500]] }, T);
    assert.equal(stopped.lost, 0);
    assert.deepEqual(stopped.failedByCode, { L8_ERR_TIMEOUT: 1 });
    const elsewhere = tallyIncarnation({ sent: 1, settled, unsettled: [], paused: [[9000, 12_000]] }, T);
    assert.equal(elsewhere.lost, 1, 'a pause outside the request does not excuse it');
  });

  test('stall windows count once where they overlap (a SIGSTOP the requester also saw as a stall)', () => {
    assert.equal(
      overlapMs(
        [
          [0, 10],
          [5, 20],
          [30, 40],
        ],
        0,
        100,
      ),
      30,
    );
    assert.equal(
      overlapMs(
        [
          [0, 10],
          [2, 3],
        ],
        5,
        8,
      ),
      3,
    );
    assert.equal(overlapMs([], 0, 100), 0);
    assert.equal(overlapMs([[50, 60]], 0, 10), 0);
  });

  test('a killed requester (no final answer) leaves what it had in flight abandoned, not lost', () => {
    const t = tallyIncarnation({ sent: 5, settled: [[0, 1, 'OK']], unsettled: undefined, paused: [] }, T);
    assert.equal(t.abandoned, 4);
    assert.equal(t.lost, 0);
  });

  test('tallies sum bucket by bucket, codes merged', () => {
    const a = tallyIncarnation(
      {
        sent: 2,
        settled: [
          [0, 1, 'OK'],
          [0, 1, 'L8_ERR_CONNECT'],
        ],
        unsettled: [],
        paused: [],
      },
      T,
    );
    const b = tallyIncarnation(
      {
        sent: 3,
        settled: [
          [0, 2, 'OK'],
          [0, 1, 'L8_ERR_CONNECT'],
        ],
        unsettled: [5],
        paused: [],
      },
      T,
    );
    const s = sumTallies([a, b]);
    assert.equal(s.requests, 5);
    assert.equal(s.answered, 2);
    assert.deepEqual(s.failedByCode, { L8_ERR_CONNECT: 2 });
    assert.equal(s.lost, 1);
    assert.deepEqual([...s.latencies].sort(), [1, 2]);
    assert.equal(sum(s), s.requests);
  });

  test('the report keeps the slowest time per kind, null when one fault of the kind was missed', () => {
    const faults = [
      fault({ kind: 'kill-vnet', detectMs: 10, recoverMs: 900 }),
      fault({ kind: 'kill-vnet', detectMs: 30, recoverMs: 1200 }),
      fault({ kind: 'partition', detectMs: 1100, recoverMs: null }),
      fault({ kind: 'latency' }),
    ];
    const r = report(faults);
    assert.deepEqual(r.detectMs, { 'kill-vnet': 30, partition: 1100 });
    assert.deepEqual(r.recoverMs, { 'kill-vnet': 1200, partition: null });
    assert.equal(check(r, 'a partitioned host rejoins after the heal within 3000 ms'), false);
    assert.equal(check(r, 'clients reconnect after a VNet returns within 2000 ms'), true);
    assert.equal(check(r, 'every fault detected and recovered from'), false);
    assert.equal(r.ok, false);
  });

  test('every must-hold check fails on its own violation and passes otherwise', () => {
    const ok = report([fault({ kind: 'kill-vnet', detectMs: 5, recoverMs: 1999 })]);
    assert.equal(ok.ok, true, JSON.stringify(ok.checks.filter((c) => !c.ok)));
    const lost = buildReport({ ...input([]), requests: { ...input([]).requests, requests: 1, lost: 1 } });
    assert.equal(check(lost, 'no request lost'), false);
    const crashed = buildReport({
      ...input([]),
      crashed: [{ alias: 'vnet-0', pid: 1, code: 1, signal: null, expected: false, stderr: '' }],
    });
    assert.equal(check(crashed, 'no crash'), false);
    const dup = buildReport({ ...input([]), multicast: { ...NONE, duplicates: 1 } });
    assert.equal(dup.duplicates, 1);
    assert.equal(check(dup, 'no duplicate'), false);
    const slow = report([fault({ kind: 'kill-vnet', detectMs: 5, recoverMs: 2001 })]);
    assert.equal(check(slow, 'clients reconnect after a VNet returns within 2000 ms'), false);
    const apart = buildReport({ ...input([]), health: { ...HEALTH, identical: false } });
    assert.equal(check(apart, 'health tables identical on every node'), false);
    const hole = report([
      fault({
        kind: 'kill-vnic',
        detectMs: 5,
        recoverMs: 5,
        probes: [{ kind: 'stolen-id', target: 'x', refused: false, code: 'ADMITTED' }],
      }),
    ]);
    assert.deepEqual(hole.hostile, { attempts: 1, refused: 0, admitted: ['stolen-id at x: ADMITTED'] });
    assert.equal(check(hole, 'every hostile join refused'), false);
  });

  test('latency quantiles are of the answered requests', () => {
    const settled = Array.from({ length: 100 }, (_, i) => [0, i + 1, 'OK'] as const);
    const r = buildReport({
      ...input([]),
      requests: tallyIncarnation({ sent: 100, settled, unsettled: [], paused: [] }, T),
    });
    assert.deepEqual(r.latencyMs, { p50: 50, p99: 99, max: 100 });
  });
});

function input(faults: readonly FaultOutcome[]) {
  return {
    seed: 7,
    setup: SETUP,
    durationMs: 1000,
    requests: tallyIncarnation({ sent: 0, settled: [], unsettled: [], paused: [] }, T),
    multicast: NONE,
    crashed: [],
    faults,
    health: HEALTH,
    maxLagMs: 0,
  };
}

function report(faults: readonly FaultOutcome[]) {
  return buildReport(input(faults));
}

function check(r: ReturnType<typeof buildReport>, name: string): boolean | undefined {
  return r.checks.find((c) => c.name === name)?.ok;
}
