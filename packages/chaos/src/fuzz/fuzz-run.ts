import { l8error } from '@layer8/protocol';
import { checkSeed } from '../run/prng.ts';
import type { ControlTally } from './control-pair.ts';
import { type ChannelResult, runChannel } from './fuzz-channel.ts';
import { FuzzRandom } from './fuzz-random.ts';
import { type FuzzReport, fuzzReport, observedRejections, type TargetReport, targetReport } from './fuzz-report.ts';
import { FuzzSecurity } from './fuzz-security.ts';
import { idsOf, type Part, type RunIds, vnetPart, vnicPart } from './local-parts.ts';
import { RemoteVNet, type RemoteVNetOptions, remoteVNetPart } from './remote-vnet.ts';
import type { TargetStats } from './target-config.ts';

/** Options of {@link runFuzz} (`l8 chaos fuzz`). */
export interface FuzzOptions {
  /** Fuzz frames to send in total, split evenly over the ways into the targets. */
  readonly frames: number;
  /** Seed of every frame and id: the same seed replays the same frames. A uint32. */
  readonly seed: number;
  /** What to fuzz: a VNet (entered as a local VNic, a TCP member and a peer VNet), a VNic (as its VNet), or both. Default `both`. */
  readonly target?: 'vnet' | 'vnic' | 'both';
  /** TLS provider (a CA made for the run) instead of the dev provider (plain TCP). Default false. */
  readonly tls?: boolean;
  /** A target that does not serve for this long has hung, ms. Default 5000. */
  readonly hangMs?: number;
  /** Frames per batch (one write). Default 256. */
  readonly batch?: number;
  /** Share of frames that end a link (a refused length, a bad control message …). Default 1/128. */
  readonly endRate?: number;
  /** A mutated link setup before every this many links. Default 2. */
  readonly setupEvery?: number;
  /** Loopback address the targets listen on. Default 127.0.0.2. */
  readonly host?: string;
  /** Ends the run early (what was done so far is reported). */
  readonly signal?: AbortSignal;
  /** Told the process ids of the targets it started once they run, before the first frame (to watch or signal them). */
  readonly onTargets?: (targets: readonly { readonly role: 'vnet' | 'vnic'; readonly pid: number }[]) => void;
  /**
   * Fuzz a VNet that runs already instead of starting targets (`--vnet HOST:PORT`): `target` must be
   * `vnet` or absent, and `tls` and `host` do not apply (the provider given decides).
   */
  readonly vnet?: RemoteVNetOptions;
}

/** Stops what a run started, whatever state it got to. */
async function stopAll(parts: readonly Part[], sec: FuzzSecurity | undefined): Promise<void> {
  await Promise.allSettled(
    parts.map(async (p) => {
      await p.control?.stop();
      await p.target.stop();
      await p.fake?.close();
    }),
  );
  sec?.remove();
}

/** The targets of a run: those it starts, or the running VNet it was given. */
async function partsOf(o: FuzzOptions, sec: FuzzSecurity | undefined, ids: RunIds, hangMs: number, parts: Part[]) {
  if (o.vnet !== undefined) return void parts.push(await remoteVNetPart(o.vnet, ids, hangMs));
  const which = o.target ?? 'both';
  const s = sec as FuzzSecurity;
  if (which !== 'vnic') parts.push(await vnetPart(s, ids, o.host ?? '127.0.0.2', hangMs));
  if (which !== 'vnet') parts.push(await vnicPart(s, ids, o.host ?? '127.0.0.2'));
}

/** @throws L8_ERR_INVALID_ARGUMENT for a bad seed, frame count, or a VNic target with a running VNet */
function checkOptions(o: FuzzOptions): void {
  checkSeed(o.seed);
  if (!Number.isSafeInteger(o.frames) || o.frames < 1)
    throw l8error('L8_ERR_INVALID_ARGUMENT', `frames ${o.frames} is not a positive integer`);
  if (o.vnet !== undefined && (o.target ?? 'vnet') !== 'vnet')
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'a running VNet is the only target of a run against it (target vnet)');
}

/**
 * Runs the frame fuzzer (docs/reliability.md, "Frame fuzzer"): starts the targets in their own processes
 * (so a crash shows as a process that ends), or joins the running VNet of `vnet`; a control pair of VNics
 * on the VNet, and one fuzzing channel per way in; sends `frames` mutated frames in total; reports frames
 * sent, links cut, what the targets refused by code, crashes, hangs, and the targets' memory before and after.
 * @throws L8_ERR_INVALID_ARGUMENT for bad options; the start error of a target, or the join error of a running VNet
 */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  checkOptions(o);
  const started = performance.now();
  const rng = new FuzzRandom(o.seed);
  const ids = idsOf(rng);
  const hangMs = o.hangMs ?? 5000;
  const sec = o.vnet === undefined ? await FuzzSecurity.create(o.tls ?? false) : undefined;
  const parts: Part[] = [];
  try {
    await partsOf(o, sec, ids, hangMs, parts);
    const before = await Promise.all(parts.map((p) => p.target.stats()));
    o.onTargets?.(parts.flatMap((p) => (p.target.pid === undefined ? [] : [{ role: p.role, pid: p.target.pid }])));
    const results = await fuzzAll(parts, rng, o, hangMs);
    const remote = parts.map((p) => p.target).find((t) => t instanceof RemoteVNet);
    await remote?.check();
    const control = await parts.find((p) => p.control !== undefined)?.control?.stop();
    const targets = await Promise.all(parts.map((p, i) => reportOf(p, before[i] as TargetStats, results)));
    const tls = remote === undefined ? (o.tls ?? false) : o.vnet?.provider.name === 'tls';
    const run = { seed: o.seed, tls, frames: o.frames, durationMs: performance.now() - started };
    const withRemote = remote === undefined ? run : { ...run, remote: remote.info() };
    return fuzzReport(withRemote, results, targets, control as ControlTally | undefined);
  } finally {
    await stopAll(parts, sec);
  }
}

/** Runs every channel of every part at once; a part's channels stop when its target ends. */
async function fuzzAll(
  parts: readonly Part[],
  rng: FuzzRandom,
  o: FuzzOptions,
  hangMs: number,
): Promise<ChannelResult[]> {
  const ways = parts.flatMap((p) => p.endpoints.map((ep) => ({ ep, target: p.target })));
  const share = (i: number): number => Math.floor(o.frames / ways.length) + (i < o.frames % ways.length ? 1 : 0);
  const seeds = ways.map(() => rng.u32());
  return Promise.all(
    ways.map(({ ep, target }, i) =>
      runChannel(ep, {
        frames: share(i),
        seed: seeds[i] as number,
        batch: o.batch ?? 256,
        endRate: o.endRate ?? 1 / 128,
        setupEvery: o.setupEvery ?? 2,
        hangMs,
        probeMs: Math.min(hangMs, 250),
        stopped: () => o.signal?.aborted === true || !target.alive,
      }),
    ),
  );
}

/**
 * A target's report: its counters after the run (none when it crashed) against those before; for a
 * running VNet whose counters could not be read, what the fuzzer observed on its links.
 */
async function reportOf(p: Part, before: TargetStats, results: readonly ChannelResult[]): Promise<TargetReport> {
  const after = p.target.alive ? await p.target.stats().catch(() => undefined) : undefined;
  const exit = p.target.alive ? undefined : await p.target.exited();
  const names = new Set(p.endpoints.map((e) => e.name));
  const mine = results.filter((r) => names.has(r.name));
  const probes = mine.reduce((n, r) => n + r.probes, 0);
  const counters = p.target instanceof RemoteVNet ? p.target.counters : 'process';
  const observed = counters === 'observed' ? { observed: observedRejections(mine) } : {};
  return targetReport({ role: p.role, counters, probes, ...observed }, before, after, exit);
}
