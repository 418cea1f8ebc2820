/**
 * Overload benchmark (issue 15, "Must hold"): how much of a service's capacity still reaches its callers
 * in time when twice as much is asked of it. Three processes: a VNet (127.0.0.2, dev security), a
 * responder whose service is busy for `--service-us` per request (a busy loop), one request at a time,
 * and a requester offering an open-loop load at a fixed rate with a deadline (bench/lib/overload-worker.ts).
 *
 * Each of `--repeats` rounds:
 *
 * 1. Capacity of the bare service (`layer8-unprotected`): its goodput with 8 requests in flight (closed
 *    loop: the resource is always busy, latency stays far below the deadline), then offered rates of 90 %
 *    to 110 % of that (open loop) until goodput stops following the offered rate; the capacity is the
 *    highest goodput seen, the knee. Measured again every round, so a machine whose load drifts (other
 *    work on the same cores) is compared with itself.
 * 2. `overload-2x`: twice that capacity, offered to `layer8-unprotected` (the responder's protections all
 *    off: every request goes to the handler at once) and to `layer8` (queued requests dropped at their
 *    deadline, priority shedding, and an adaptive concurrency limit with its defaults). `goodputRatio` =
 *    replies within the deadline per second ÷ the round's capacity (goal ≥ 0.8 for `layer8`; the
 *    unprotected service is expected to collapse).
 *
 * `cpuUsPerOp` is the CPU of the three processes per request offered (each one is handled, answered or
 * refused); `cpuUsPerGoodReply` per reply within the deadline. `npm run bench -- overload [--ms=3000]
 * [--warm=1000] [--repeats=3] [--deadline=250] [--service-us=2000]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { script } from './lib/ext.ts';
import { type BenchRow, round, say } from './lib/harness.ts';
import { sleep } from './lib/overlay-ipc.ts';
import { type Child, Fleet, procCpuUs, procPeakRssMB, resetPeakRss } from './lib/overlay-proc.ts';
import { type OverloadMark, SERVICES } from './lib/overload-shared.ts';
import { median, rowOf, type Sample } from './lib/services-stats.ts';

/** The options of a run. */
interface Options {
  readonly ms: number;
  readonly warmMs: number;
  readonly repeats: number;
  readonly deadlineMs: number;
  readonly serviceUs: number;
}

/** The three processes. */
interface Setup {
  readonly pids: readonly number[];
  readonly requester: Child;
  readonly responder: Child;
}

/** One measurement window at one offered rate. */
interface Window extends Sample {
  readonly offered: number;
  readonly refused: number;
  readonly timedOut: number;
  readonly late: number;
  readonly cpuUsPerGoodReply: number;
  readonly limit?: number;
  /** The capacity of the round the window belongs to (overload windows). */
  readonly capacity?: number;
}

/** Offered rates of the capacity search, as shares of the closed-loop goodput. */
const STEPS = [0.9, 1.0, 1.1];
/** Requests in flight of the closed-loop capacity estimate. */
const CLOSED_IN_FLIGHT = 8;

/** A load: an open-loop rate, or a number of requests kept in flight. */
type Load = { readonly rate: number } | { readonly concurrency: number };
const SYSTEMS = [
  ['layer8-unprotected', SERVICES.unprotected],
  ['layer8', SERVICES.protected],
] as const;

export default async function overload(args: string[]): Promise<BenchRow[]> {
  const opt = (name: string, d: number): number =>
    Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
  const o: Options = {
    ms: opt('ms', 3000),
    warmMs: opt('warm', 1000),
    repeats: opt('repeats', 3),
    deadlineMs: opt('deadline', 250),
    serviceUs: opt('service-us', 2000),
  };
  const fleet = new Fleet();
  const dir = mkdtempSync(join(tmpdir(), 'l8-overload-'));
  try {
    const setup = await start(fleet, dir, o);
    const rows = await overloaded(setup, o);
    printTable(rows);
    return rows;
  } finally {
    await fleet.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function start(fleet: Fleet, dir: string, o: Options): Promise<Setup> {
  const worker = script('overload-worker');
  const [vnet, responder, requester] = await Promise.all(
    ['ovl-vnet', 'ovl-responder', 'ovl-requester'].map((role) => fleet.fork(worker, role)),
  );
  if (vnet === undefined || responder === undefined || requester === undefined) throw new Error('fork failed');
  const path = join(dir, 'vnet.sock');
  await vnet.call('vnet', { host: '127.0.0.2', socketPath: path });
  await responder.call('responder', { path, serviceUs: o.serviceUs });
  await requester.call('requester', { path });
  return { pids: [vnet.pid, responder.pid, requester.pid], requester, responder };
}

/** The capacity of the bare service and the steps it was found in (offered and goodput per second). */
interface Capacity {
  readonly capacity: number;
  readonly steps: readonly { readonly offered: number | string; readonly goodput: number }[];
}

/** The highest goodput of the bare service: closed loop, then rising offered rates until it falls behind. */
async function capacityOf(s: Setup, o: Options): Promise<Capacity> {
  const timing = { ...o, warmMs: 300, ms: 1500 };
  const closed = await window(s, SERVICES.unprotected, { concurrency: CLOSED_IN_FLIGHT }, timing);
  const steps: { offered: number | string; goodput: number }[] = [
    { offered: `${CLOSED_IN_FLIGHT} in flight`, goodput: closed.rate },
  ];
  for (const share of STEPS) {
    const w = await window(s, SERVICES.unprotected, { rate: Math.round(share * closed.rate) }, timing);
    steps.push({ offered: w.offered, goodput: w.rate });
    if (w.rate < 0.95 * w.offered) break;
  }
  const capacity = Math.max(...steps.map((x) => x.goodput));
  const shown = steps.map((x) => `${x.offered} → ${x.goodput}`).join(', ');
  say(`capacity: ${capacity} replies within ${o.deadlineMs} ms per second (offered/s → goodput/s: ${shown})`);
  return { capacity, steps };
}

/** `repeats` rounds of: the capacity, then both systems at twice it. */
async function overloaded(s: Setup, o: Options): Promise<BenchRow[]> {
  const samples = new Map<string, Window[]>(SYSTEMS.map(([system]) => [system, []]));
  const capacities: Capacity[] = [];
  for (let r = 0; r < o.repeats; r++) {
    const c = await capacityOf(s, o);
    capacities.push(c);
    for (const [system, service] of SYSTEMS) {
      const w = { ...(await window(s, service, { rate: 2 * c.capacity }, o)), capacity: c.capacity };
      say(`${system} overload-2x: goodput ${w.rate}/s of ${w.offered}/s offered (${round(w.rate / c.capacity, 2)})`);
      samples.get(system)?.push(w);
    }
  }
  return SYSTEMS.map(([system]) => rowFor(system, samples.get(system) ?? [], o, capacities));
}

function rowFor(system: string, ws: readonly Window[], o: Options, capacities: readonly Capacity[]): BenchRow {
  const ratios = ws.map((w) => w.rate / (w.capacity ?? 1));
  const perSecond = (f: (w: Window) => number): number => Math.round(median(ws.map(f)));
  const ratio = round(median(ratios), 2);
  const goal = system === 'layer8' ? { target: '>= 0.8', targetMet: ratio >= 0.8 } : { target: 'collapses' };
  return rowOf(system, 'overload-2x', ws, {
    goodputRatio: ratio,
    goodputRatioMin: round(Math.min(...ratios), 2),
    goodputRatioMax: round(Math.max(...ratios), 2),
    goodputRatios: ratios.map((x) => round(x, 2)),
    ...goal,
    capacity: perSecond((w) => w.capacity ?? 0),
    capacities: capacities.map((c) => c.capacity),
    capacitySteps: capacities.map((c) => c.steps),
    offeredRate: perSecond((w) => w.offered),
    refusedRate: perSecond((w) => w.refused),
    timedOutRate: perSecond((w) => w.timedOut),
    lateRate: perSecond((w) => w.late),
    cpuUsPerGoodReply: round(median(ws.map((w) => w.cpuUsPerGoodReply)), 1),
    ...(system === 'layer8' ? { adaptiveLimits: ws.map((w) => w.limit) } : {}),
    deadlineMs: o.deadlineMs,
    serviceUs: o.serviceUs,
  });
}

const cpuOf = (pids: readonly number[]): number => pids.reduce((n, p) => n + procCpuUs(p), 0);

/** Offers `load` to `service` for a warm-up and a window; then lets it drain and resets the service. */
async function window(s: Setup, service: string, load: Load, t: { warmMs: number; ms: number; deadlineMs: number }) {
  for (const pid of s.pids) resetPeakRss(pid);
  const op = 'rate' in load ? 'offer' : 'closed';
  await s.requester.call(op, { service, ...load, deadlineMs: t.deadlineMs });
  let m0: OverloadMark;
  let m1: OverloadMark;
  let cpu: number;
  let seconds: number;
  try {
    await sleep(t.warmMs);
    m0 = await s.requester.call<OverloadMark>('mark');
    const [cpu0, t0] = [cpuOf(s.pids), performance.now()];
    await sleep(t.ms);
    [cpu, seconds] = [cpuOf(s.pids) - cpu0, (performance.now() - t0) / 1000];
    m1 = await s.requester.call<OverloadMark>('mark');
  } finally {
    await s.requester.call('stop');
  }
  const status = await s.responder.call<{ limit?: number }>('status');
  await sleep(t.deadlineMs + 100); // what is in flight times out
  await s.responder.call('reset');
  return windowOf(m0, m1, cpu, seconds, s.pids, status.limit);
}

function windowOf(
  m0: OverloadMark,
  m1: OverloadMark,
  cpu: number,
  seconds: number,
  pids: readonly number[],
  limit: number | undefined,
): Window {
  const d = (f: (m: OverloadMark) => number): number => f(m1) - f(m0);
  const [good, sent] = [d((m) => m.good), d((m) => m.sent)];
  const latency = m1.p50Us === undefined ? {} : { p50Us: m1.p50Us, p99Us: m1.p99Us as number };
  return {
    rate: Math.round(good / seconds),
    offered: Math.round(sent / seconds),
    refused: d((m) => m.refused) / seconds,
    timedOut: d((m) => m.timedOut) / seconds,
    late: d((m) => m.late) / seconds,
    cpuUsPerOp: sent > 0 ? round(cpu / sent, 2) : 0,
    cpuUsPerGoodReply: good > 0 ? round(cpu / good, 1) : 0,
    rssMB: round(Math.max(...pids.map(procPeakRssMB))),
    errors: d((m) => m.other),
    ...(m1.lastError === undefined ? {} : { lastError: m1.lastError }),
    ...latency,
    ...(limit === undefined ? {} : { limit }),
  };
}

function printTable(rows: readonly BenchRow[]): void {
  say('');
  say(
    'case         system              goodput/s  ratio (min-max)     offered/s  refused/s  timeouts/s  cpu µs/op  rss MB',
  );
  for (const r of rows) {
    const ratio = `${r.goodputRatio} (${r.goodputRatioMin}-${r.goodputRatioMax})`;
    const cells = [
      r.case,
      r.system,
      r.rate,
      ratio,
      r.offeredRate,
      r.refusedRate,
      r.timedOutRate,
      r.cpuUsPerOp,
      r.rssMB,
    ];
    const widths = [13, 20, 11, 20, 11, 11, 12, 11, 7];
    say(cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join(''));
  }
}
