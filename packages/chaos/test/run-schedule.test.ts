import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ATTACHED_KINDS,
  checkSeed,
  estimateMs,
  FAULT_KINDS,
  MAX_SEED,
  type PlannedFault,
  Prng,
  planSchedule,
  randomSeed,
  type ScheduleOptions,
} from '@layer8/chaos';
import type { L8Error } from '@layer8/protocol';
import fc from 'fast-check';

const SHAPE: Omit<ScheduleOptions, 'seed'> = { vnets: 3, vnicsPerVnet: 4, heartbeatMs: 1000, durationMs: 60_000 };

describe('the fault schedule of a chaos run', () => {
  test('the same seed gives the same schedule; the seeds 1 and 2 give different ones', () => {
    assert.deepEqual(planSchedule({ ...SHAPE, seed: 1 }), planSchedule({ ...SHAPE, seed: 1 }));
    assert.notDeepEqual(planSchedule({ ...SHAPE, seed: 1 }), planSchedule({ ...SHAPE, seed: 2 }));
  });

  test('a seed replays on another machine: the generator is pinned (mulberry32)', () => {
    const prng = new Prng(42);
    assert.deepEqual(
      Array.from({ length: 3 }, () => prng.int(0, 999)),
      [601, 448, 852],
    );
  });

  test('every kind comes once first, whatever the seed and however short the run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SEED }), fc.integer({ min: 1, max: 120_000 }), (seed, durationMs) => {
        const plan = planSchedule({ ...SHAPE, seed, durationMs });
        assert.deepEqual(
          plan
            .slice(0, FAULT_KINDS.length)
            .map((f) => f.kind)
            .sort(),
          [...FAULT_KINDS].sort(),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('after the first round, faults are added while their estimates fit in the duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SEED }), fc.integer({ min: 1, max: 300_000 }), (seed, durationMs) => {
        const plan = planSchedule({ ...SHAPE, seed, durationMs });
        const total = plan.reduce((s, f) => s + estimateMs(f, SHAPE.heartbeatMs), 0);
        if (plan.length > FAULT_KINDS.length) assert.ok(total <= durationMs, `${total} planned for ${durationMs}`);
        const longer = planSchedule({ ...SHAPE, seed, durationMs: durationMs + 100_000 });
        assert.deepEqual(longer.slice(0, plan.length), plan, 'a longer run starts with the same faults');
        assert.ok(longer.length > plan.length);
      }),
      { numRuns: 100 },
    );
  });

  test('each fault names existing hosts and VNics and lasts long enough to be detected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SEED }), fc.integer({ min: 2, max: 8 }), (seed, vnets) => {
        const hb = 500;
        for (const f of planSchedule({ ...SHAPE, seed, vnets, heartbeatMs: hb, durationMs: 120_000 })) {
          assertFault(f, vnets, hb);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('a shape that cannot carry a run is refused with L8_ERR_INVALID_ARGUMENT', () => {
    const invalid = (e: L8Error): boolean => e.code === 'L8_ERR_INVALID_ARGUMENT';
    assert.throws(() => planSchedule({ ...SHAPE, seed: 1, vnets: 1 }), invalid);
    assert.throws(() => planSchedule({ ...SHAPE, seed: 1, vnicsPerVnet: 0 }), invalid);
    assert.throws(() => planSchedule({ ...SHAPE, seed: 1, heartbeatMs: 50 }), invalid);
    assert.throws(() => planSchedule({ ...SHAPE, seed: -1 }), invalid);
    assert.throws(() => checkSeed(1.5), invalid);
    assert.throws(() => checkSeed(MAX_SEED + 1), invalid);
    assert.equal(checkSeed(MAX_SEED), MAX_SEED);
  });

  test('against a running overlay: every fault hits one VNic process or its link, one VNet is enough', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SEED }), fc.integer({ min: 1, max: 4 }), (seed, vnets) => {
        const o = { ...SHAPE, seed, vnets, kinds: ATTACHED_KINDS, vnicLinks: true };
        const plan = planSchedule(o);
        assert.deepEqual(
          plan
            .slice(0, ATTACHED_KINDS.length)
            .map((f) => f.kind)
            .sort(),
          [...ATTACHED_KINDS].sort(),
        );
        for (const f of plan) {
          assert.equal(f.hosts.length, 1);
          assert.ok((f.hosts[0] as number) < vnets);
          assert.ok(f.vnic !== undefined && f.vnic >= 0 && f.vnic < SHAPE.vnicsPerVnet, `${f.kind} names a VNic`);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('the kinds asked for, and only those; none asked plans nothing', () => {
    const plan = planSchedule({ ...SHAPE, seed: 3, kinds: ['disk-full', 'pause'] });
    assert.deepEqual([...new Set(plan.map((f) => f.kind))].sort(), ['disk-full', 'pause']);
    assert.ok(plan.filter((f) => f.kind === 'disk-full').every((f) => f.hosts[0] === 0 && f.vnic === undefined));
    assert.deepEqual(planSchedule({ ...SHAPE, seed: 3, kinds: [] }), []);
    assert.deepEqual(planSchedule({ ...SHAPE, seed: 3 }), planSchedule({ ...SHAPE, seed: 3, kinds: FAULT_KINDS }));
  });

  test('a random seed is a valid seed', () => {
    assert.equal(checkSeed(randomSeed(() => 0)), 0);
    assert.equal(checkSeed(randomSeed(() => 0.999_999_999_9)), MAX_SEED);
  });
});

function assertFault(f: PlannedFault, vnets: number, hb: number): void {
  for (const h of f.hosts) assert.ok(Number.isInteger(h) && h >= 0 && h < vnets, `host ${h}`);
  if (f.vnic !== undefined) assert.ok(f.vnic >= 0 && f.vnic < SHAPE.vnicsPerVnet, `vnic ${f.vnic}`);
  assert.ok(f.gapMs >= 500 && f.gapMs <= 1500);
  if (f.kind === 'partition' || f.kind === 'latency' || f.kind === 'loss') {
    assert.equal(f.hosts.length, 2);
    assert.ok((f.hosts[0] as number) < (f.hosts[1] as number), 'two distinct hosts, in order');
  } else assert.equal(f.hosts.length, 1);
  // a partition or a pause must outlast the heartbeat deadline, or nobody could see it
  if (f.kind === 'partition') assert.ok(f.holdMs >= 2.5 * hb);
  if (f.kind === 'pause') assert.ok(f.holdMs >= 1.5 * hb);
  if (f.kind === 'latency') assert.ok((f.delayMs ?? 0) >= 10 && (f.delayMs ?? 0) <= hb / 8);
  if (f.kind === 'loss') assert.ok((f.loss ?? 0) >= 0.05 && (f.loss ?? 0) <= 0.25);
  if (f.kind === 'kill-vnic') assert.notEqual(f.vnic, undefined);
}
