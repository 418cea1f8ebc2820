import { l8error } from '@layer8/protocol';
import { Prng } from './prng.ts';

/** The faults a chaos run on an overlay of its own injects by default (docs/reliability.md, "Fault model"). */
export const FAULT_KINDS = ['kill-vnet', 'kill-vnic', 'partition', 'latency', 'loss', 'pause'] as const;

/**
 * The faults a run against a running overlay can own: on the VNic processes it starts (kill -9,
 * SIGSTOP) and on their links to their VNets (through its proxies). It never touches a process it did
 * not start.
 */
export const ATTACHED_KINDS = ['kill-vnic', 'partition', 'latency', 'loss', 'pause'] as const;

/** Every kind of fault: the defaults, and `disk-full` (a full file system under a VNic's store, `--disk-full`). */
export const ALL_FAULT_KINDS = [...FAULT_KINDS, 'disk-full'] as const;

/** One kind of fault. */
export type FaultKind = (typeof ALL_FAULT_KINDS)[number];

/**
 * One fault of a schedule. `hosts` are VNet indexes: the victim's host, or the two sides of a link.
 * `vnic` names a VNic process on `hosts[0]` (a kill or pause of a VNic, the link of that VNic to its VNet,
 * or its store); absent, the VNet is the victim.
 */
export interface PlannedFault {
  readonly kind: FaultKind;
  readonly hosts: readonly number[];
  readonly vnic?: number;
  /** How long the fault lasts (a process stays down or stopped, a link stays partitioned or degraded), ms. */
  readonly holdMs: number;
  /** Latency added to the link each way, ms (`latency`). */
  readonly delayMs?: number;
  /** Probability that a segment on the link is lost and retransmitted (`loss`). */
  readonly loss?: number;
  /** Quiet time after the overlay recovered, before the next fault, ms. */
  readonly gapMs: number;
}

/** What a schedule is derived from: the same values give the same schedule. */
export interface ScheduleOptions {
  readonly seed: number;
  readonly vnets: number;
  readonly vnicsPerVnet: number;
  /** The heartbeat deadline: holds are multiples of it, so that a fault lasts long enough to be seen. */
  readonly heartbeatMs: number;
  /** Time the faults may take, recovery included, ms (the first round of every kind runs whatever it is). */
  readonly durationMs: number;
  /** The kinds to plan, in this order for the seed to pick from. Default {@link FAULT_KINDS}. */
  readonly kinds?: readonly FaultKind[];
  /**
   * Faults on a link hit the link of one VNic process to its VNet, and pauses a VNic process (a run
   * against a running overlay, whose VNets are not its own). Default false: links between two VNets.
   */
  readonly vnicLinks?: boolean;
}

/**
 * The fault schedule of a run, derived from the seed alone: one fault at a time, each followed by its
 * recovery and a gap. Every kind comes once, in a seeded order, whatever the duration (so every run
 * injects every kind); more faults follow, picked by the seed, while their estimated time
 * ({@link estimateMs}) still fits in `durationMs`.
 * @throws L8_ERR_INVALID_ARGUMENT for fewer than 2 VNets (1 with `vnicLinks`) or 1 VNic per VNet, or a heartbeat under 100 ms
 */
export function planSchedule(o: ScheduleOptions): PlannedFault[] {
  checkShape(o);
  const kinds = o.kinds ?? FAULT_KINDS;
  const prng = new Prng(o.seed);
  const plan: PlannedFault[] = [];
  if (kinds.length === 0) return plan;
  let used = 0;
  for (;;) {
    const first = plan.length < kinds.length;
    const next = faultOf(first ? firstRound(kinds, plan, prng) : prng.pick(kinds), o, prng);
    used += estimateMs(next, o.heartbeatMs);
    if (!first && used > o.durationMs) return plan;
    plan.push(next);
  }
}

/** The next kind of the first round: one not planned yet, picked by the seed. */
function firstRound(kinds: readonly FaultKind[], plan: readonly PlannedFault[], prng: Prng): FaultKind {
  const left = kinds.filter((k) => !plan.some((f) => f.kind === k));
  return prng.pick(left);
}

/**
 * The time a fault is expected to take: its hold, then recovery (a heartbeat deadline and a redial, as
 * measured), then its gap, ms.
 */
export function estimateMs(f: PlannedFault, heartbeatMs: number): number {
  return f.holdMs + heartbeatMs + 1000 + f.gapMs;
}

function faultOf(kind: FaultKind, o: ScheduleOptions, prng: Prng): PlannedFault {
  const hb = o.heartbeatMs;
  const gapMs = prng.int(500, 1500);
  const host = prng.int(0, o.vnets - 1);
  if (o.vnicLinks === true) return vnicFaultOf(kind, o, prng, host, gapMs);
  const pair = (): number[] => {
    const other = (host + prng.int(1, o.vnets - 1)) % o.vnets;
    return [Math.min(host, other), Math.max(host, other)];
  };
  switch (kind) {
    case 'kill-vnet':
      return { kind, hosts: [host], holdMs: prng.int(hb, 3 * hb), gapMs };
    case 'kill-vnic':
      return { kind, hosts: [host], vnic: prng.int(0, o.vnicsPerVnet - 1), holdMs: prng.int(hb / 2, 2 * hb), gapMs };
    case 'partition':
      return { kind, hosts: pair(), holdMs: prng.int(2.5 * hb, 4 * hb), gapMs };
    case 'latency':
      return { kind, hosts: pair(), holdMs: prng.int(2 * hb, 4 * hb), delayMs: prng.int(10, hb / 8), gapMs };
    case 'loss':
      return { kind, hosts: pair(), holdMs: prng.int(2 * hb, 4 * hb), loss: prng.int(5, 25) / 100, gapMs };
    case 'pause': {
      const vnic = prng.next() < 0.5 ? { vnic: prng.int(0, o.vnicsPerVnet - 1) } : {};
      return { kind, hosts: [host], ...vnic, holdMs: prng.int(1.5 * hb, 3 * hb), gapMs };
    }
    case 'disk-full':
      return diskFullOf(o, prng, host, gapMs);
  }
}

/** A fault on one VNic process of `host`, its link to its VNet, or its store. */
function vnicFaultOf(kind: FaultKind, o: ScheduleOptions, prng: Prng, host: number, gapMs: number): PlannedFault {
  const hb = o.heartbeatMs;
  const at = { kind, hosts: [host], vnic: prng.int(0, o.vnicsPerVnet - 1), gapMs };
  switch (kind) {
    case 'kill-vnet':
      throw l8error('L8_ERR_INVALID_ARGUMENT', 'kill-vnet is not a fault of a VNic process');
    case 'kill-vnic':
      return { ...at, holdMs: prng.int(hb / 2, 2 * hb) };
    case 'partition':
      return { ...at, holdMs: prng.int(2.5 * hb, 4 * hb) };
    case 'latency':
      return { ...at, holdMs: prng.int(2 * hb, 4 * hb), delayMs: prng.int(10, hb / 8) };
    case 'loss':
      return { ...at, holdMs: prng.int(2 * hb, 4 * hb), loss: prng.int(5, 25) / 100 };
    case 'pause':
      return { ...at, holdMs: prng.int(1.5 * hb, 3 * hb) };
    case 'disk-full':
      return diskFullOf(o, prng, host, gapMs);
  }
}

/** A full disk under the store of the run's store process (on host 0; `hosts` names it). */
function diskFullOf(o: ScheduleOptions, prng: Prng, _host: number, gapMs: number): PlannedFault {
  return { kind: 'disk-full', hosts: [0], holdMs: prng.int(2 * o.heartbeatMs, 4 * o.heartbeatMs), gapMs };
}

function checkShape(o: ScheduleOptions): void {
  // faults on VNic processes are seen by the other VNics of one VNet; faults on VNets by another VNet's
  const least = o.vnicLinks === true ? 1 : 2;
  if (!Number.isInteger(o.vnets) || o.vnets < least) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `a chaos run needs at least ${least} VNets (got ${o.vnets})`);
  }
  if (!Number.isInteger(o.vnicsPerVnet) || o.vnicsPerVnet < 1) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `a chaos run needs at least 1 VNic per VNet (got ${o.vnicsPerVnet})`);
  }
  if (!(o.heartbeatMs >= 100)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `heartbeat ${o.heartbeatMs} ms is below 100 ms`);
  }
}
