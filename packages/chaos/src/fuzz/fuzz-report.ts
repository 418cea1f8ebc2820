import type { ControlTally } from './control-pair.ts';
import type { ChannelResult, ChannelTally } from './fuzz-channel.ts';
import { bump, type TargetStats } from './target-config.ts';
import type { TargetExit } from './target-process.ts';

/**
 * Where a target's refusals were read: its own counters over IPC (a process the fuzzer started), its
 * Prometheus endpoint (a running VNet with `--metrics`), or what the fuzzer observed on its links (FAIL
 * frames, `close` messages and refused link setups, by code: a VNet whose counters it cannot reach).
 */
export type CounterSource = 'process' | 'metrics' | 'observed';

/** What one target went through: its counters over the run (after minus before) and its memory. */
export interface TargetReport {
  readonly role: 'vnet' | 'vnic';
  readonly counters: CounterSource;
  /** Frames the target received over the run (fuzz, probes, control traffic). */
  readonly framesIn: number;
  /** Resident set size before and after the run (after a full collection), bytes; null when not seen. */
  readonly rssBefore: number | null;
  readonly rssAfter: number | null;
  readonly heapBefore: number | null;
  readonly heapAfter: number | null;
  /** Drop counters by the target's reason. */
  readonly drops: Readonly<Record<string, number>>;
  /** Links the target closed (a VNet) or lost (a VNic) by a fault, by code. */
  readonly closes: Readonly<Record<string, number>>;
  /** Link setups the target refused (a VNet) or failed (a VNic), by code. */
  readonly refusedSetups: Readonly<Record<string, number>>;
  /** Faults the target caught in itself: each one is a defect to look at. */
  readonly faults: Readonly<Record<string, number>>;
  /** Everything the target refused, by code: dropped frames, links closed on a frame, refused setups. */
  readonly rejectedByCode: Readonly<Record<string, number>>;
  /** Set when the process ended by itself, or a VNet the fuzzer did not start stopped answering. */
  readonly crash?: {
    readonly code: number | null;
    readonly signal: string | null;
    readonly stderr: string;
    readonly stoppedAnswering?: boolean;
  };
  /** A VNic's connection state at the end. */
  readonly state?: string;
}

/** The report of `l8 chaos fuzz` (`--json` prints it as one object). */
export interface FuzzReport {
  readonly seed: number;
  readonly tls: boolean;
  readonly framesRequested: number;
  /** Fuzz frames written to the targets (probes not included). */
  readonly framesSent: number;
  readonly bytesSent: number;
  readonly durationMs: number;
  /** Links opened, cut by a target, ended by the fuzzer after a desync. */
  readonly links: number;
  readonly linksCut: number;
  readonly linksEndedByFuzzer: number;
  /** Targets that crashed (their process ended by itself). */
  readonly crashes: number;
  /** Stalls of the control pair, plus links a target did not accept, serve or read within the hang deadline. */
  readonly hangs: number;
  /** Everything the targets refused, by code, summed over targets. */
  readonly rejectedByCode: Readonly<Record<string, number>>;
  /** Mutated link setups by `<stage>:<verdict>`. */
  readonly setups: Readonly<Record<string, number>>;
  readonly targets: readonly TargetReport[];
  readonly channels: readonly ChannelTally[];
  /** The control pair's view of the VNet under fuzz (absent when only a VNic was fuzzed). */
  readonly control?: ControlTally;
  /** Frames and setups made, by mutation and field (`field.<name>`, `control.<t>`, `handshake.<stage>.<op>`). */
  readonly coverage: Readonly<Record<string, number>>;
  /** Set when the fuzzed VNet ran already (`--vnet`): what the fuzzer could not see of it. */
  readonly remote?: RemoteInfo;
}

/** What a report says of a VNet the fuzzer did not start. */
export interface RemoteInfo {
  /** The VNet's address, `host:port`. */
  readonly vnet: string;
  /** Where its refusals were read (see {@link CounterSource}). */
  readonly counters: Exclude<CounterSource, 'process'>;
  /** Why its Prometheus endpoint could not be read, when one was given. */
  readonly metricsError?: string;
  /** What a process of another's cannot show: its RSS and heap (null), its exit code and stderr. */
  readonly unseen: string;
}

/** The error code each drop reason stands for (VNet.drops and VNic.drops). */
const DROP_CODES: Readonly<Record<string, string>> = {
  spoofed: 'L8_ERR_IDENTITY',
  malformed: 'L8_ERR_MALFORMED_FRAME',
  unreachable: 'L8_ERR_UNREACHABLE',
  noService: 'L8_ERR_NO_SERVICE',
  noLeader: 'L8_ERR_NO_LEADER',
  ttl: 'L8_ERR_TTL',
  tooLarge: 'L8_ERR_FRAME_TOO_LARGE',
  backpressure: 'L8_ERR_BACKPRESSURE',
  identity: 'L8_ERR_IDENTITY',
  limit: 'L8_ERR_LIMIT',
  forbidden: 'L8_ERR_FORBIDDEN',
  handshakes: 'L8_ERR_LIMIT',
  overMaxFrame: 'L8_ERR_FRAME_TOO_LARGE',
  forgedReplies: 'L8_ERR_IDENTITY',
  expired: 'L8_ERR_TIMEOUT',
  shed: 'L8_ERR_BACKPRESSURE',
  limited: 'L8_ERR_BACKPRESSURE',
  notifies: 'L8_ERR_BACKPRESSURE',
  oneWayFailures: 'L8_ERR_HANDLER',
};

/** Close codes that mean a frame was refused. A VNet counts a too-large frame in its drops already. */
const FRAME_CLOSES: Readonly<Record<'vnet' | 'vnic', readonly string[]>> = {
  vnet: ['L8_ERR_MALFORMED_FRAME'],
  vnic: ['L8_ERR_MALFORMED_FRAME', 'L8_ERR_FRAME_TOO_LARGE'],
};

function delta(
  after: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** How a target's report is read: its role, where its counters come from, and the probes to leave out. */
export interface TargetView {
  readonly role: 'vnet' | 'vnic';
  readonly counters: CounterSource;
  /** Requests of the fuzzer refused on purpose (they ask the VNet for a node nobody holds). */
  readonly probes: number;
  /** With `observed` counters: what the fuzzer saw refused on its links, by code. */
  readonly observed?: Readonly<Record<string, number>>;
}

/** Everything the counters say the target refused, by code: dropped frames, links closed on a frame, refused setups. */
function rejections(
  v: TargetView,
  drops: Record<string, number>,
  closes: Record<string, number>,
  setups: Record<string, number>,
) {
  const rejectedByCode: Record<string, number> = {};
  for (const [reason, n] of Object.entries(drops))
    bump(
      rejectedByCode,
      DROP_CODES[reason] ?? `drop:${reason}`,
      reason === 'unreachable' && v.role === 'vnet' ? n - v.probes : n,
    );
  for (const code of FRAME_CLOSES[v.role]) if (closes[code] !== undefined) bump(rejectedByCode, code, closes[code]);
  for (const [code, n] of Object.entries(setups)) bump(rejectedByCode, code, n);
  return rejectedByCode;
}

/**
 * The report of one target from its counters before and after (after is undefined when it crashed)
 * and how it ended. The fuzzer's probes are not counted as rejections.
 */
export function targetReport(
  v: TargetView,
  before: TargetStats,
  after: TargetStats | undefined,
  exit: TargetExit | undefined,
): TargetReport {
  const end = after ?? before;
  const drops = delta(end.drops, before.drops);
  const closes = delta(end.closes, before.closes);
  const refusedSetups = delta(end.refusedSetups, before.refusedSetups);
  const rejectedByCode = v.observed === undefined ? rejections(v, drops, closes, refusedSetups) : { ...v.observed };
  return {
    role: v.role,
    counters: v.counters,
    framesIn: end.framesIn - before.framesIn,
    rssBefore: before.rss,
    rssAfter: end.rss,
    heapBefore: before.heapUsed,
    heapAfter: end.heapUsed,
    drops,
    closes,
    refusedSetups,
    faults: delta(end.faults, before.faults),
    rejectedByCode,
    ...(exit !== undefined && !exit.expected ? { crash: crashOf(exit) } : {}),
    ...(end.state === undefined ? {} : { state: end.state }),
  };
}

function crashOf(exit: TargetExit): NonNullable<TargetReport['crash']> {
  const c = { code: exit.code, signal: exit.signal, stderr: exit.stderr };
  return exit.stoppedAnswering === true ? { ...c, stoppedAnswering: true } : c;
}

/**
 * What the fuzzer saw a target refuse on its links, by code: FAIL frames answering fuzz requests,
 * `close` messages, and link setups refused with a FAIL frame (`<stage>:refused:<code>`).
 */
export function observedRejections(results: readonly ChannelTally[]): Record<string, number> {
  const refused: Record<string, number> = {};
  for (const t of results)
    for (const [key, n] of Object.entries(t.setups)) {
      const m = /:refused:(L8_ERR_\w+)$/.exec(key);
      if (m !== null) bump(refused, m[1] as string, n);
    }
  return merged([...results.map((t) => t.failCodes), ...results.map((t) => t.closeReasons), refused]);
}

/** Sums `maps` key by key. */
export function merged(
  maps: Iterable<Readonly<Record<string, number>> | ReadonlyMap<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of m instanceof Map ? m : Object.entries(m)) bump(out, k, v as number);
  return out;
}

/** The run's report from its parts. */
export function fuzzReport(
  run: { seed: number; tls: boolean; frames: number; durationMs: number; remote?: RemoteInfo },
  results: readonly ChannelResult[],
  targets: readonly TargetReport[],
  control: ControlTally | undefined,
): FuzzReport {
  const sum = (f: (t: ChannelTally) => number): number => results.reduce((n, t) => n + f(t), 0);
  const channels = results.map(({ coverage: _, ...t }) => t);
  return {
    seed: run.seed,
    tls: run.tls,
    framesRequested: run.frames,
    framesSent: sum((t) => t.framesSent),
    bytesSent: sum((t) => t.bytesSent),
    durationMs: Math.round(run.durationMs),
    links: sum((t) => t.links),
    linksCut: sum((t) => t.cutByTarget),
    linksEndedByFuzzer: sum((t) => t.endedByFuzzer),
    crashes: targets.filter((t) => t.crash !== undefined).length,
    hangs: sum((t) => t.hangs) + (control?.stalls ?? 0),
    rejectedByCode: merged(targets.map((t) => t.rejectedByCode)),
    setups: merged(results.map((t) => t.setups)),
    targets,
    channels,
    ...(control === undefined ? {} : { control }),
    coverage: merged(results.map((t) => t.coverage)),
    ...(run.remote === undefined ? {} : { remote: run.remote }),
  };
}
