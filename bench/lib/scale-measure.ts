/**
 * What the scale benchmark measures on a built overlay (bench/lib/scale-overlay.ts): the traffic and CPU
 * of an idle window, the time until every VNet sees a crashed VNic, a killed VNet and a hung VNet, and the
 * time a joining VNet takes to hold the whole table. Detection times run from `Date.now()` in this process
 * just before the signal to the latest `Date.now()` a VNet took when its table showed the loss.
 */
import { say } from './harness.ts';
import { sleep } from './overlay-ipc.ts';
import { type Child, procPeakRssMB } from './overlay-proc.ts';
import {
  alive,
  converge,
  forkJoiner,
  type ScaleEnv,
  type ScaleOverlay,
  VNETS_PER_HOST,
  type VNetProc,
  vnetArgs,
} from './scale-overlay.ts';
import type { Traffic } from './scale-vnet.ts';

/** How long a VNet's table may take to show a loss before the watch gives up, ms. */
const DETECT_TIMEOUT_MS = 30_000;
/** The hung VNet's deadline (issue 16): past it the detection is reported null. */
export const HUNG_TIMEOUT_MS = 15_000;
const SETTLE_TIMEOUT_MS = 120_000;

/** The idle window's figures. */
export interface IdleFigures {
  readonly windowMs: number;
  /** Frames sent by every process in the window (VNets to peers and VNics, VNics to their VNet). */
  readonly frames: number;
  readonly bytes: number;
  readonly msgsPerRound: number;
  readonly bytesPerRound: number;
  /** Of `msgsPerRound`: the frames VNics sent, and the heartbeats and health messages VNets sent. */
  readonly vnicMsgsPerRound: number;
  readonly vnetHeartbeatsPerRound: number;
  readonly vnetHealthPerRound: number;
  /** Median over VNet processes of CPU time ÷ wall time, %. */
  readonly idleCpuPct: number;
  readonly idleCpuPctMax: number;
  /** CPU time of every process of the overlay in the window ÷ frames sent, µs. */
  readonly cpuUsPerOp: number;
  /** Links the VNets closed during the window: 0 when the overlay was truly idle (no flapping). */
  readonly linksClosed: number;
}

/** What {@link detectHung} found: the time every other VNet took (null past the deadline), and how many saw it. */
export interface HungFigures {
  readonly ms: number | null;
  readonly seenBy: number;
  readonly of: number;
  /** From SIGCONT until every table is whole again, ms. */
  readonly recoverMs: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function snapshot(procs: readonly Child[]): Promise<Traffic[]> {
  return Promise.all(procs.map((p) => p.call<Traffic>('traffic')));
}

/** Every counter of `a` minus the same of `b`. */
function deltaOf(a: Traffic, b: Traffic): Traffic {
  const d: Record<string, number> = {};
  for (const k of Object.keys(a) as (keyof Traffic)[]) d[k] = a[k] - b[k];
  return d as unknown as Traffic;
}

function sum(xs: readonly Traffic[], k: keyof Traffic): number {
  return xs.reduce((s, x) => s + x[k], 0);
}

/**
 * Measures `idleMs` of an idle overlay: frames and bytes sent by every process, per heartbeat round
 * (`heartbeatMs / 2`, the interval at which an idle link carries a heartbeat), and each VNet's CPU.
 */
export async function idleWindow(o: ScaleOverlay, idleMs: number, heartbeatMs: number): Promise<IdleFigures> {
  const vnets = alive(o).map((v) => v.child);
  const procs = [...vnets, ...o.hosts];
  const before = await snapshot(procs);
  await sleep(idleMs);
  const d = (await snapshot(procs)).map((a, i) => deltaOf(a, before[i] as Traffic));
  const ofVNets = d.slice(0, vnets.length);
  const windowMs = median(d.map((x) => x.at));
  const rounds = windowMs / (heartbeatMs / 2);
  const pct = ofVNets.map((x) => (x.cpuUs / (x.at * 1000)) * 100);
  const frames = sum(d, 'framesOut');
  return {
    windowMs,
    frames,
    bytes: sum(d, 'bytesOut'),
    msgsPerRound: frames / rounds,
    bytesPerRound: sum(d, 'bytesOut') / rounds,
    vnicMsgsPerRound: sum(d.slice(vnets.length), 'framesOut') / rounds,
    vnetHeartbeatsPerRound: sum(ofVNets, 'heartbeats') / rounds,
    vnetHealthPerRound: sum(ofVNets, 'health') / rounds,
    idleCpuPct: median(pct),
    idleCpuPctMax: Math.max(...pct),
    cpuUsPerOp: frames === 0 ? 0 : sum(d, 'cpuUs') / frames,
    linksClosed: sum(d, 'linksClosed'),
  };
}

/** Peak RSS of the largest live VNet process, MB. */
export function peakVNetRssMB(o: ScaleOverlay): number {
  return Math.max(0, ...alive(o).map((v) => procPeakRssMB(v.child.pid)));
}

/** Arms `watch` on every VNet of `watchers`, then runs `hit` (the fault); answers when it ran and each watch's time. */
async function watchLoss(
  watchers: readonly VNetProc[],
  watch: { key: string; node?: string; vnet?: string; timeoutMs: number },
  hit: () => void,
): Promise<{ t0: number; ats: (number | null)[] }> {
  await Promise.all(watchers.map((v) => v.child.call('arm', watch)));
  const t0 = Date.now();
  hit();
  const ats = await Promise.all(
    watchers.map((v) => v.child.call<number | null>('result', { key: watch.key }, watch.timeoutMs + 5000)),
  );
  return { t0, ats };
}

/** The latest of `ats` after `t0`, or null when one of them never came. */
function slowest(t0: number, ats: readonly (number | null)[]): number | null {
  if (ats.some((a) => a === null)) return null;
  return Math.max(0, ...(ats as number[]).map((a) => a - t0));
}

/** Kills the victim VNic's process (a crash: no goodbye) and times until every VNet shows it unreachable or removed. */
export async function detectVnic(o: ScaleOverlay): Promise<number | null> {
  const { child, id } = o.victim;
  const watch = { key: 'vnic', node: id, timeoutMs: DETECT_TIMEOUT_MS };
  const { t0, ats } = await watchLoss(alive(o), watch, () => child.proc.kill('SIGKILL'));
  o.hosts.splice(o.hosts.indexOf(child), 1);
  o.expected -= 1;
  await converge(o, SETTLE_TIMEOUT_MS, true);
  return slowest(t0, ats);
}

/** `kill -9` of the last VNet; times until every other VNet dropped its slice. Closes its orphaned VNics after. */
export async function detectVnet(env: ScaleEnv, o: ScaleOverlay): Promise<number | null> {
  const victim = o.vnets[o.size - 1] as VNetProc;
  const watchers = alive(o).filter((v) => v !== victim);
  const watch = { key: 'vnet', vnet: victim.address.id, timeoutMs: DETECT_TIMEOUT_MS };
  const { t0, ats } = await watchLoss(watchers, watch, () => victim.child.proc.kill('SIGKILL'));
  victim.alive = false;
  await (o.hosts[Math.floor(victim.index / VNETS_PER_HOST)] as Child).call('drop', { vnet: victim.index });
  o.expected -= env.vnics + 1;
  await converge(o, SETTLE_TIMEOUT_MS, true);
  return slowest(t0, ats);
}

/**
 * SIGSTOP of the second-to-last VNet: times until every other VNet dropped its slice (null past
 * {@link HUNG_TIMEOUT_MS}), then SIGCONT and waits until every table is whole again.
 */
export async function detectHung(o: ScaleOverlay): Promise<HungFigures> {
  const hung = o.vnets[o.size - 2] as VNetProc;
  const watchers = alive(o).filter((v) => v !== hung);
  const watch = { key: 'hung', vnet: hung.address.id, timeoutMs: HUNG_TIMEOUT_MS };
  let found: { t0: number; ats: (number | null)[] };
  try {
    found = await watchLoss(watchers, watch, () => hung.child.proc.kill('SIGSTOP'));
  } finally {
    hung.child.proc.kill('SIGCONT');
  }
  const t1 = performance.now();
  say(`scale ${o.size}: VNet ${hung.index} resumed, waiting for the tables to be whole again`);
  await converge(o, SETTLE_TIMEOUT_MS, true);
  const seenBy = found.ats.filter((a) => a !== null).length;
  return { ms: slowest(found.t0, found.ats), seenBy, of: watchers.length, recoverMs: performance.now() - t1 };
}

/**
 * Starts one more VNet (its process forked first, not timed) with every live VNet as a static peer; answers
 * the time from its `start()` until its table holds every record of the overlay, ms (null after 60 s).
 * Then stops it and waits for every table to be as before.
 */
export async function join(env: ScaleEnv, o: ScaleOverlay): Promise<number | null> {
  const child = await forkJoiner(env, o);
  const peers = alive(o).map((v) => v.address);
  const args = { ...vnetArgs(env, o.size, o.size, peers), expected: o.expected + 1, timeoutMs: 60_000 };
  const r = await child.call<{ ms: number | null; size: number }>('join', args, 70_000);
  if (r.ms === null) say(`scale ${o.size}: the joining VNet held ${r.size} of ${o.expected + 1} records after 60 s`);
  await child.stop();
  await converge(o, SETTLE_TIMEOUT_MS, true);
  return r.ms;
}
