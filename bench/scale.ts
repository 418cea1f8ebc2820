/**
 * Health at scale (issue 16, item 5): overlays of 8, 16, 32 and 64 VNets with 16 VNics each on this
 * machine, as deployed: every VNet a `VNet` of `@layer8/vnet` in its own process on 127.0.0.<2+i> with
 * the default TLS provider, a full mesh through static peers, the VNics in a few processes attached over
 * the VNets' unix sockets (bench/lib/scale-overlay.ts). Per size, one row `scale-<V>x<N>`:
 *
 * - `msgsPerRound`, `bytesPerRound`: frames (and their bytes) sent by every process during an idle
 *   window, per heartbeat round (half the heartbeat deadline: how often an idle link carries one);
 * - `idleCpuPct`: the median over VNet processes of CPU time ÷ wall time in that window (`idleCpuPctMax`);
 * - `detectVnicMs`: a VNic's process killed (-9) until every VNet shows it unreachable or removed;
 * - `detectVnetMs`: a VNet killed (-9) until every other VNet dropped its slice; `detectHungVnetMs` the
 *   same for a VNet stopped with SIGSTOP (null past 15 s, with `hungSeenBy` of `hungOf`), resumed after;
 * - `joinMs`: a new VNet's `start()` until its table holds every record of the overlay;
 * - `rssMB`: peak RSS of the largest VNet process; `cpuUsPerOp`: CPU µs of every process per frame sent
 *   in the idle window.
 *
 * A size whose overlay does not settle (within 90 s per step of the setup, or after a fault) gets a row
 * `skipped` or `error` saying how far the tables got and how many links closed meanwhile.
 *
 * `npm run bench -- scale [--sizes=8,16,32,64] [--vnics=16] [--idle-ms=10000] [--heartbeat=3000]`.
 * The idle window defaults to the stats period (`DEFAULT_STATS_MS`), so that every periodic message
 * falls in it once per process whatever the timers' phases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_STATS_MS } from '@layer8/protocol';
import { type BenchRow, round, say } from './lib/harness.ts';
import { sleep } from './lib/overlay-ipc.ts';
import { Fleet } from './lib/overlay-proc.ts';
import { detectHung, detectVnet, detectVnic, idleWindow, join, peakVNetRssMB } from './lib/scale-measure.ts';
import { buildOverlay, initScaleSecurity, type ScaleEnv, type ScaleOverlay } from './lib/scale-overlay.ts';

/** Quiet time between a converged overlay and its idle window, ms. */
const SETTLE_MS = 2000;

interface Options {
  readonly sizes: readonly number[];
  readonly vnics: number;
  readonly idleMs: number;
  /** Given to every VNet and VNic when set; else the product's default applies. */
  readonly heartbeatMs: number | undefined;
}

function options(args: string[]): Options {
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const sizes = (opt('sizes') ?? '8,16,32,64').split(',').map(Number);
  const vnics = Number(opt('vnics') ?? 16);
  const idleMs = Number(opt('idle-ms') ?? DEFAULT_STATS_MS);
  const hb = opt('heartbeat');
  const heartbeatMs = hb === undefined ? undefined : Number(hb);
  if (sizes.some((s) => !Number.isInteger(s) || s < 4 || s > 200)) throw new Error('--sizes: integers from 4 to 200');
  if (!Number.isInteger(vnics) || vnics < 2) throw new Error('--vnics: an integer of at least 2');
  if (!(idleMs > 0) || (heartbeatMs !== undefined && !(heartbeatMs > 0))) {
    throw new Error('--idle-ms and --heartbeat: positive numbers of ms');
  }
  return { sizes, vnics, idleMs, heartbeatMs };
}

export default async function scale(args: string[]): Promise<BenchRow[]> {
  const o = options(args);
  const dir = mkdtempSync(joinPath(tmpdir(), 'l8-scale-'));
  const fleet = new Fleet();
  const env: ScaleEnv = {
    fleet,
    dir: joinPath(dir, 'security'),
    sockets: dir,
    vnics: o.vnics,
    ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
  };
  const rows: BenchRow[] = [];
  const t0 = performance.now();
  try {
    await initScaleSecurity(env.dir, Math.max(...o.sizes));
    for (const size of o.sizes) rows.push(await oneSize(env, o, size));
  } finally {
    await fleet.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  say(`scale: done in ${Math.round((performance.now() - t0) / 1000)} s`);
  printTable(rows);
  return rows;
}

async function oneSize(env: ScaleEnv, o: Options, size: number): Promise<BenchRow> {
  const name = `scale-${size}x${o.vnics}`;
  const t0 = performance.now();
  let overlay: ScaleOverlay | undefined;
  try {
    overlay = await buildOverlay(env, size);
    const setupMs = performance.now() - t0;
    say(`${name}: converged in ${Math.round(setupMs)} ms, idle window of ${o.idleMs} ms`);
    return { ...(await measureAll(env, o, overlay)), case: name, setupMs: Math.round(setupMs) };
  } catch (err) {
    say(`${name}: error ${(err as Error).message}`);
    const load = round(loadavg()[0] ?? 0);
    return { system: 'layer8', case: name, skipped: `error: ${(err as Error).message}`, loadAvg1m: load };
  } finally {
    if (overlay !== undefined) await env.fleet.stop(overlay.children);
  }
}

/**
 * The idle window, then the faults one after the other (the hung VNet last: its recovery is the heaviest
 * step, and the join is a figure of the issue). A phase that fails (the overlay did not settle
 * after a fault) ends the row: what was measured stays, with `error` saying what happened.
 */
async function measureAll(env: ScaleEnv, o: Options, overlay: ScaleOverlay): Promise<BenchRow> {
  const hb = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const size = overlay.size;
  const nodes = size * (o.vnics + 1);
  const row: Record<string, unknown> = { vnets: size, vnicsPerVnet: o.vnics, nodes, heartbeatMs: hb };
  try {
    await sleep(SETTLE_MS);
    Object.assign(row, await idleFields(overlay, o.idleMs, hb, nodes));
    row.detectVnicMs = await detectVnic(overlay);
    say(`scale ${size}: VNic crash seen by every VNet in ${row.detectVnicMs} ms`);
    row.detectVnetMs = await detectVnet(env, overlay);
    say(`scale ${size}: VNet kill -9 seen by every other VNet in ${row.detectVnetMs} ms`);
    row.joinMs = await join(env, overlay);
    say(`scale ${size}: a new VNet saw the whole table in ${row.joinMs} ms`);
    const hung = await detectHung(overlay);
    say(`scale ${size}: hung VNet dropped by ${hung.seenBy} of ${hung.of} in ${hung.ms} ms`);
    const { ms, seenBy, of, recoverMs } = hung;
    Object.assign(row, {
      detectHungVnetMs: ms,
      hungSeenBy: seenBy,
      hungOf: of,
      recoverHungVnetMs: Math.round(recoverMs),
    });
  } catch (err) {
    say(`scale ${size}: error ${(err as Error).message}`);
    row.error = (err as Error).message;
  }
  row.rssMB = round(Math.max(Number(row.rssMB ?? 0), peakVNetRssMB(overlay)));
  return { system: 'layer8', case: '', ...row };
}

/** The idle window's fields of a row (and the peak RSS so far, before any VNet is killed). */
async function idleFields(overlay: ScaleOverlay, idleMs: number, hb: number, nodes: number): Promise<object> {
  const load = loadavg()[0] ?? 0;
  const idle = await idleWindow(overlay, idleMs, hb);
  const cpu = `VNet CPU ${round(idle.idleCpuPct, 2)} % idle`;
  say(`scale ${overlay.size}: ${round(idle.msgsPerRound)} msgs/round, ${cpu} (machine load ${round(load)})`);
  return {
    idleMs: round(idle.windowMs, 0),
    msgsPerRound: round(idle.msgsPerRound),
    bytesPerRound: round(idle.bytesPerRound, 0),
    vnicMsgsPerRound: round(idle.vnicMsgsPerRound),
    vnetHeartbeatsPerRound: round(idle.vnetHeartbeatsPerRound),
    vnetHealthPerRound: round(idle.vnetHealthPerRound),
    msgsPerNodeRound: round(idle.msgsPerRound / nodes, 2),
    idleCpuPct: round(idle.idleCpuPct, 2),
    idleCpuPctMax: round(idle.idleCpuPctMax, 2),
    cpuUsPerOp: round(idle.cpuUsPerOp, 2),
    idleLinksClosed: idle.linksClosed,
    loadAvg1m: round(load),
    rssMB: peakVNetRssMB(overlay),
  };
}

function printTable(rows: readonly BenchRow[]): void {
  const cols = [
    'case',
    'msgsPerRound',
    'bytesPerRound',
    'idleCpuPct',
    'idleCpuPctMax',
    'detectVnicMs',
    'detectVnetMs',
    'detectHungVnetMs',
    'joinMs',
    'rssMB',
    'cpuUsPerOp',
    'error',
  ];
  say(`| ${cols.join(' | ')} |`);
  say(`|${cols.map(() => '---').join('|')}|`);
  for (const r of rows) {
    if (r.skipped !== undefined) say(`| ${r.case} | ${r.skipped} |`);
    else say(`| ${cols.map((c) => String(r[c] ?? '')).join(' | ')} |`);
  }
}
