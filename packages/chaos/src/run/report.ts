import type { DiskOutcome } from './disk-fault.ts';
import type { FaultOutcome } from './faults.ts';
import type { HealthComparison } from './health-compare.ts';
import { type MulticastTally, quantile, type RequestTally } from './ledger.ts';
import type { AgentExit } from './process-agent.ts';
import { ALL_FAULT_KINDS, type FaultKind } from './schedule.ts';

/** What the overlay must hold under a chaos run (issue "Must hold"; docs/reliability.md). */
export const LIMITS = {
  /** Clients reconnected after their VNet returns, ms. */
  reconnectMs: 2000,
  /** A partitioned host seen unreachable, ms. */
  partitionDetectMs: 3000,
  /** A partitioned host seen up again after the heal, ms. */
  rejoinMs: 3000,
} as const;

/** One check of a run against what must hold. */
export interface ChaosCheck {
  readonly name: string;
  readonly ok: boolean;
  /** The measured value, as printed. */
  readonly value: string;
}

/** The topology and load a run had. */
export interface ChaosSetup {
  readonly vnets: number;
  readonly vnicsPerVnet: number;
  readonly heartbeatMs: number;
  /** The security provider of the overlay: TLS for an overlay of the run's own; a running one's may be `dev`. */
  readonly provider: 'tls' | 'dev';
  /**
   * Set for a run against a running overlay: the VNets' addresses, and whether its VNic processes attach
   * over TCP (through a proxy each, for the faults on their links) or over the VNets' unix sockets.
   */
  readonly attached?: { readonly vnets: readonly string[]; readonly via: 'tcp' | 'unix' };
  /** Fault kinds left out of the schedule, with why. */
  readonly leftOut?: Readonly<Partial<Record<FaultKind, string>>>;
  /** Requests per second each VNic sent, and multicasts. */
  readonly rate: number;
  readonly mcastRate: number;
  /** Deadline of every request, ms. */
  readonly timeoutMs: number;
}

/** The report of a chaos run (`l8 chaos run --json` prints it). */
export interface ChaosReport {
  /** Replays the same fault schedule. */
  readonly seed: number;
  readonly setup: ChaosSetup;
  /** How long the run took, load start to load stop, ms. */
  readonly durationMs: number;
  readonly requests: number;
  readonly answered: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  /** Sent and neither answered nor failed within the deadline (and a grace of 250 ms): must be 0. */
  readonly lost: number;
  /** Requests whose requester the run killed before they settled (not counted as lost). */
  readonly abandoned: number;
  /** Requests served twice plus multicast copies received twice: must be 0. */
  readonly duplicates: number;
  /** Requests answered with another request's reply: must be 0. */
  readonly mismatched: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly multicast: MulticastTally;
  /** Processes that exited when no fault killed them: must be 0. */
  readonly crashes: number;
  readonly crashed: readonly AgentExit[];
  /** The slowest detection per fault kind, ms (null: a fault of that kind was not seen by every observer). */
  readonly detectMs: Partial<Record<FaultKind, number | null>>;
  /** The slowest recovery per fault kind, ms (see {@link FaultOutcome.recoverMs}). */
  readonly recoverMs: Partial<Record<FaultKind, number | null>>;
  /** Losses of nodes that no fault explains. */
  readonly spurious: number;
  /**
   * Hostile joins tried under the faults (another overlay's node; a member claiming another node's id):
   * how many, how many were refused, and the ones admitted (must be none).
   */
  readonly hostile: { readonly attempts: number; readonly refused: number; readonly admitted: readonly string[] };
  /** The largest event-loop delay of a requester the run did not stop, ms. */
  readonly maxLagMs: number;
  readonly faults: readonly FaultOutcome[];
  readonly health: HealthComparison;
  /** The writes to the chaos store over every `disk-full` fault (absent when none ran). */
  readonly disk?: DiskSummary;
  readonly checks: readonly ChaosCheck[];
  /** Every check passed. */
  readonly ok: boolean;
}

/** The `disk-full` faults of a run together (see {@link DiskOutcome}). */
export interface DiskSummary {
  readonly faults: number;
  /** Writes tried while the disk was full, and how they were refused, by code. */
  readonly heldWrites: number;
  readonly refusedByCode: Readonly<Record<string, number>>;
  /** Writes acknowledged (before, during and after), and those not read back after: must be 0. */
  readonly acknowledged: number;
  readonly lostAcknowledged: number;
  /** Writes refused with `L8_ERR_STORAGE` that were there after all: must be 0. */
  readonly phantoms: number;
}

/** What {@link buildReport} puts together. */
export interface ReportInput {
  readonly seed: number;
  readonly setup: ChaosSetup;
  readonly durationMs: number;
  readonly requests: RequestTally;
  readonly multicast: MulticastTally & { readonly dupRequests: number };
  readonly crashed: readonly AgentExit[];
  readonly faults: readonly FaultOutcome[];
  readonly health: HealthComparison;
  readonly maxLagMs: number;
}

/** Builds the report and its checks from a run's tallies and fault outcomes. */
export function buildReport(input: ReportInput): ChaosReport {
  const r = input.requests;
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const { dupRequests, ...multicast } = input.multicast;
  const report: Omit<ChaosReport, 'checks' | 'ok'> = {
    seed: input.seed,
    setup: input.setup,
    durationMs: Math.round(input.durationMs),
    requests: r.requests,
    answered: r.answered,
    failedByCode: r.failedByCode,
    lost: r.lost,
    abandoned: r.abandoned,
    duplicates: dupRequests + multicast.duplicates,
    mismatched: r.mismatched,
    latencyMs: {
      p50: round(quantile(sorted, 0.5)),
      p99: round(quantile(sorted, 0.99)),
      max: round(sorted.at(-1) ?? 0),
    },
    multicast,
    crashes: input.crashed.length,
    crashed: input.crashed,
    detectMs: worst(input.faults, (f) => f.detectMs),
    recoverMs: worst(input.faults, (f) => f.recoverMs),
    spurious: input.faults.reduce((n, f) => n + f.spurious, 0),
    hostile: hostileOf(input.faults),
    maxLagMs: round(input.maxLagMs),
    faults: input.faults,
    health: input.health,
    ...diskOf(input.faults),
  };
  const checks = checksOf(report);
  return { ...report, checks, ok: checks.every((c) => c.ok) };
}

/** The checks of what must hold, on a report. */
export function checksOf(r: Omit<ChaosReport, 'checks' | 'ok'>): ChaosCheck[] {
  const checks: ChaosCheck[] = [
    { name: 'no request lost', ok: r.lost === 0, value: `${r.lost} lost` },
    { name: 'no crash', ok: r.crashes === 0, value: `${r.crashes} crashes` },
    { name: 'no duplicate', ok: r.duplicates === 0, value: `${r.duplicates} duplicates` },
    { name: 'no reply to another request', ok: r.mismatched === 0, value: `${r.mismatched} mismatched` },
    {
      name: 'every fault injected and measured',
      ok: r.faults.every((f) => f.error === undefined),
      value: errors(r.faults),
    },
    {
      name: 'every fault detected and recovered from',
      ok: missed(r.faults) === 0,
      value: `${missed(r.faults)} missed`,
    },
    {
      name: 'the overlay converged after every fault',
      ok: r.faults.every((f) => f.convergeMs !== null),
      value: `${r.faults.filter((f) => f.convergeMs === null).length} did not`,
    },
    {
      name: 'health tables identical on every node',
      ok: r.health.identical,
      value: `${r.health.tables} tables of ${r.health.nodes} nodes`,
    },
    {
      name: 'every hostile join refused',
      ok: r.hostile.admitted.length === 0,
      value: `${r.hostile.refused} of ${r.hostile.attempts}`,
    },
  ];
  if (r.disk !== undefined) checks.push(...diskChecks(r.disk));
  // the limits are those of an overlay whose heartbeat the run chose: a running overlay's VNets have their own
  if (r.setup.attached !== undefined) return checks;
  if (r.faults.some((f) => f.kind === 'kill-vnet'))
    checks.push(limit('clients reconnect after a VNet returns', r.recoverMs['kill-vnet'], LIMITS.reconnectMs));
  if (r.faults.some((f) => f.kind === 'partition')) {
    checks.push(limit('a partitioned host is seen unreachable', r.detectMs.partition, LIMITS.partitionDetectMs));
    checks.push(limit('a partitioned host rejoins after the heal', r.recoverMs.partition, LIMITS.rejoinMs));
  }
  return checks;
}

/** A full disk: every write refused with `L8_ERR_STORAGE` meanwhile, none acknowledged lost, none refused kept. */
function diskChecks(d: DiskSummary): ChaosCheck[] {
  const storage = d.refusedByCode.L8_ERR_STORAGE ?? 0;
  const others = Object.entries(d.refusedByCode).filter(([code]) => code !== 'L8_ERR_STORAGE');
  return [
    {
      name: 'writes refused with L8_ERR_STORAGE while the disk was full',
      ok: storage > 0 && others.length === 0,
      value: `${storage} of ${d.heldWrites}${others.map(([c, n]) => `, ${c} ${n}`).join('')}`,
    },
    {
      name: 'no acknowledged write lost after a full disk',
      ok: d.lostAcknowledged === 0 && d.phantoms === 0,
      value: `${d.lostAcknowledged} of ${d.acknowledged} lost, ${d.phantoms} refused and kept`,
    },
  ];
}

function diskOf(faults: readonly FaultOutcome[]): { disk?: DiskSummary } {
  const disks = faults.flatMap((f) => (f.disk === undefined ? [] : [f.disk]));
  if (!faults.some((f) => f.kind === 'disk-full')) return {};
  const sum = (v: (d: DiskOutcome) => number): number => disks.reduce((n, d) => n + v(d), 0);
  const refused: Record<string, number> = {};
  for (const d of disks) for (const [c, n] of Object.entries(d.refusedByCode)) refused[c] = (refused[c] ?? 0) + n;
  const disk: DiskSummary = {
    faults: faults.filter((f) => f.kind === 'disk-full').length,
    heldWrites: sum((d) => d.heldWrites),
    refusedByCode: refused,
    acknowledged: sum((d) => d.acknowledged),
    lostAcknowledged: sum((d) => d.lostAcknowledged),
    phantoms: sum((d) => d.phantoms),
  };
  return { disk };
}

function limit(name: string, ms: number | null | undefined, max: number): ChaosCheck {
  const ok = ms !== null && ms !== undefined && ms <= max;
  return { name: `${name} within ${max} ms`, ok, value: ms === null || ms === undefined ? 'not seen' : `${ms} ms` };
}

function hostileOf(faults: readonly FaultOutcome[]): ChaosReport['hostile'] {
  const probes = faults.flatMap((f) => f.probes);
  const admitted = probes.filter((p) => !p.refused).map((p) => `${p.kind} at ${p.target}: ${p.code}`);
  return { attempts: probes.length, refused: probes.length - admitted.length, admitted };
}

/** Faults whose detection or recovery some observer never saw. */
function missed(faults: readonly FaultOutcome[]): number {
  return faults.filter((f) => f.detectMs === null || f.recoverMs === null).length;
}

function errors(faults: readonly FaultOutcome[]): string {
  const failed = faults.filter((f) => f.error !== undefined);
  return failed.length === 0 ? `${faults.length} faults` : failed.map((f) => `${f.kind}: ${f.error}`).join('; ');
}

/** The largest value per kind over the faults that have one; null when one of them is null. */
function worst(
  faults: readonly FaultOutcome[],
  value: (f: FaultOutcome) => number | null | undefined,
): Partial<Record<FaultKind, number | null>> {
  const out: Partial<Record<FaultKind, number | null>> = {};
  for (const kind of ALL_FAULT_KINDS) {
    const values = faults
      .filter((f) => f.kind === kind)
      .map(value)
      .filter((v) => v !== undefined);
    if (values.length === 0) continue;
    out[kind] = values.includes(null) ? null : Math.max(...(values as number[]));
  }
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
