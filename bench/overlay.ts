/**
 * Overlay benchmark: Layer8 side by side with Moleculer 0.15 (TCP transporter, direct) and nats.js v2 +
 * nats-server, every component in its own process (bench/lib/overlay-*.ts). Cases: request/reply with 1
 * and 100 in flight on one host, 100 in flight across two VNets (Layer8 only), a one-way unicast stream,
 * a 1 → 9 multicast, and the RSS of a VNet with 100 VNics. `layer8-observed` runs Layer8's rows again
 * with metrics on and the tracing API present (no SDK), and `req-c100-local-traced` with the OpenTelemetry
 * SDK sampling 1 % (bench/lib/overlay-observe.ts): each row carries its ratio to the unobserved one.
 *
 * `npm run bench -- overlay [--ms=3500] [--warm=500] [--only=layer8,nats] [--cases=req-seq-local,…]`;
 * `L8_BENCH_PROF=DIR` writes a CPU profile of every worker into DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSecurity, TlsProvider } from '@layer8/security';
import { type BenchRow, round, say } from './lib/harness.ts';
import { sleep } from './lib/overlay-ipc.ts';
import type { Mark } from './lib/overlay-load.ts';
import { type Count, measure, receivedCount, requestCount, type Timing, type Window } from './lib/overlay-measure.ts';
import { TRACE_SAMPLING } from './lib/overlay-observe.ts';
import { Fleet, procPeakRssMB } from './lib/overlay-proc.ts';
import {
  type Fanout,
  type L8Security,
  layer8Fanout,
  layer8Pair,
  layer8Swarm,
  moleculerFanout,
  moleculerPair,
  NATS_SERVER,
  type NatsServer,
  natsFanout,
  natsInstalled,
  natsPair,
  type Pair,
  startNatsServer,
} from './lib/overlay-systems.ts';
import { printTable, targetOf } from './lib/overlay-table.ts';

const SYSTEMS = ['layer8', 'layer8-observed', 'moleculer', 'nats'] as const;
type System = (typeof SYSTEMS)[number];
const CASES = [
  'req-seq-local',
  'req-c100-local',
  'req-c100-local-traced',
  'req-c100-cross',
  'stream-oneway',
  'multicast-9',
  'vnet-rss-100-vnics',
];

interface Run {
  readonly fleet: Fleet;
  readonly timing: Timing;
  readonly cases: ReadonlySet<string>;
  readonly rows: BenchRow[];
}

export default async function overlay(args: string[]): Promise<BenchRow[]> {
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const only = new Set(opt('only')?.split(',') ?? SYSTEMS);
  const run: Run = {
    fleet: new Fleet(),
    timing: { warmMs: Number(opt('warm') ?? 500), ms: Number(opt('ms') ?? 3500) },
    cases: new Set(opt('cases')?.split(',') ?? CASES),
    rows: [],
  };
  const dir = mkdtempSync(join(tmpdir(), 'l8-overlay-'));
  try {
    if (only.has('layer8')) await layer8(run, dir);
    if (only.has('layer8-observed')) await layer8Observed(run, dir);
    if (only.has('moleculer'))
      await system(
        run,
        'moleculer',
        () => moleculerPair(run.fleet),
        () => moleculerFanout(run.fleet),
      );
    if (only.has('nats')) await nats(run);
  } finally {
    await run.fleet.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = finish(run.rows);
  printTable(rows);
  return rows;
}

async function layer8(run: Run, dir: string): Promise<void> {
  const dev: L8Security = { kind: 'dev', dir };
  const tls = await tlsSecurity(dir);
  const tag = { security: 'why' in tls ? `dev (${tls.why})` : 'tls' };
  const tlsDir = 'why' in tls ? dev : tls;
  await system(
    run,
    'layer8',
    () => layer8Pair(run.fleet, dev, false),
    () => layer8Fanout(run.fleet, tlsDir),
    {
      pair: { security: 'dev' },
      fanout: tag,
    },
  );
  if (run.cases.has('req-c100-cross'))
    await guardedCase(run, 'layer8', ['req-c100-cross'], async () => {
      const pair = await layer8Pair(run.fleet, tlsDir, true);
      await requestCase(run, 'layer8', 'req-c100-cross', pair, 100, tag);
      await run.fleet.stop(pair.children);
    });
  if (run.cases.has('vnet-rss-100-vnics'))
    await guardedCase(run, 'layer8', ['vnet-rss-100-vnics'], () => rssCase(run, dev));
}

/**
 * Layer8's pair and fan-out rows with metrics and the tracing API on (`layer8-observed`), then 100 in
 * flight with the tracing SDK sampling 1 % (`req-c100-local-traced`, system `layer8`).
 */
async function layer8Observed(run: Run, dir: string): Promise<void> {
  const tls = await tlsSecurity(dir);
  const dev: L8Security = { kind: 'dev', dir, observe: 'metrics' };
  const fan: L8Security = 'why' in tls ? dev : { ...tls, observe: 'metrics' };
  const tags = { pair: { security: 'dev', observe: 'metrics' }, fanout: { security: fan.kind, observe: 'metrics' } };
  await system(
    run,
    'layer8-observed',
    () => layer8Pair(run.fleet, dev, false),
    () => layer8Fanout(run.fleet, fan),
    tags,
  );
  if (!run.cases.has('req-c100-local-traced')) return;
  await guardedCase(run, 'layer8', ['req-c100-local-traced'], async () => {
    const pair = await layer8Pair(run.fleet, { kind: 'dev', dir, observe: 'traced' }, false);
    await requestCase(run, 'layer8', 'req-c100-local-traced', pair, 100, { security: 'dev', sampling: TRACE_SAMPLING });
    const spans = await Promise.all(pair.children.map((c) => c.call<{ spans: number }>('status')));
    run.rows[run.rows.length - 1] = {
      ...run.rows.at(-1),
      spansExported: spans.reduce((n, s) => n + s.spans, 0),
    } as BenchRow;
    await run.fleet.stop(pair.children);
  });
}

/** The default TLS provider when it is exported and works here, else the reason it is not used. */
async function tlsSecurity(dir: string): Promise<L8Security | { why: string }> {
  const sec = join(dir, 'security');
  try {
    const nodes = ['req', 'resp', 'pub', 'subs-0', 'subs-1', 'subs-2'];
    const vnets = ['vnet-0', 'vnet-1', 'vnet-2'];
    const san = { dns: ['localhost'], ips: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] };
    await initSecurity({ dir: sec, nodes, vnets, san });
    new TlsProvider({ dir: sec, node: 'req' });
    return { kind: 'tls', dir: sec };
  } catch (err) {
    return { kind: 'dev', why: `TlsProvider unavailable: ${(err as Error).message}` };
  }
}

async function nats(run: Run): Promise<void> {
  const cases = ['req-seq-local', 'req-c100-local', 'stream-oneway', 'multicast-9'].filter((c) => run.cases.has(c));
  if (!natsInstalled()) {
    say(`nats-server not found at ${NATS_SERVER}: install it with \`apt-get install nats-server\``);
    for (const c of cases) run.rows.push({ system: 'nats', case: c, skipped: `${NATS_SERVER} not installed` });
    return;
  }
  let server: NatsServer | undefined;
  await guardedCase(run, 'nats', cases, async () => {
    server = await startNatsServer(run.fleet);
    const s = server;
    await system(
      run,
      'nats',
      () => natsPair(run.fleet, s),
      () => natsFanout(run.fleet, s),
      {
        pair: { server: s.version },
        fanout: { server: s.version },
      },
    );
  });
}

/** The pair cases (sequential, 100 in flight, stream) on one setup, then the fan-out on another. */
async function system(
  run: Run,
  name: System,
  pairOf: () => Promise<Pair>,
  fanoutOf: () => Promise<Fanout>,
  tags: { pair?: object; fanout?: object } = {},
): Promise<void> {
  const pairCases = ['req-seq-local', 'req-c100-local', 'stream-oneway'].filter((c) => run.cases.has(c));
  if (pairCases.length > 0)
    await guardedCase(run, name, pairCases, async () => {
      const pair = await pairOf();
      if (run.cases.has('req-seq-local')) await requestCase(run, name, 'req-seq-local', pair, 1, tags.pair);
      if (run.cases.has('req-c100-local')) await requestCase(run, name, 'req-c100-local', pair, 100, tags.pair);
      if (run.cases.has('stream-oneway')) await streamCase(run, name, pair, tags.pair);
      await run.fleet.stop(pair.children);
    });
  if (run.cases.has('multicast-9'))
    await guardedCase(run, name, ['multicast-9'], async () => {
      const f = await fanoutOf();
      await fanoutCase(run, name, f, tags.fanout);
      await run.fleet.stop(f.children);
    });
}

/** Runs `body`; when it throws, records `cases` not yet measured as skipped with the error. */
async function guardedCase(run: Run, system: System, cases: string[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const done = new Set(run.rows.filter((r) => r.system === system).map((r) => r.case));
    const message = `error: ${(err as Error).message}`;
    say(`${system}: ${message}`);
    for (const c of cases) if (!done.has(c)) run.rows.push({ system, case: c, skipped: message });
    await run.fleet.stopAll();
  }
}

function push(run: Run, system: System, kase: string, w: Window, extra: object = {}): void {
  const row = { system, case: kase, ...w, ...extra };
  run.rows.push(row);
  say(`${system} ${kase}: ${w.rate} /s${w.p50Us === undefined ? '' : ` p50 ${w.p50Us} µs`} cpu ${w.cpuUsPerOp} µs/op`);
}

async function requestCase(run: Run, system: System, kase: string, pair: Pair, conc: number, tag?: object) {
  const w = await measure(
    {
      pids: pair.pids,
      start: () => pair.requests(conc),
      count: requestCount(pair.requester),
      stop: () => pair.requester.call('stop'),
    },
    run.timing,
  );
  push(run, system, kase, w, { inFlight: conc, ...tag });
}

async function streamCase(run: Run, system: System, pair: Pair, tag?: object): Promise<void> {
  const w = await measure(
    {
      pids: pair.pids,
      start: () => pair.stream(),
      count: receivedCount(pair.requester, [pair.responder]),
      stop: () => pair.requester.call('stop'),
    },
    run.timing,
  );
  push(run, system, 'stream-oneway', w, { payloadBytes: 100, ...tag });
}

async function fanoutCase(run: Run, system: System, f: Fanout, tag?: object): Promise<void> {
  const count = receivedCount(f.publisher, f.sinks, 9);
  const w = await measure(
    { pids: f.pids, start: () => f.publish(), count, stop: () => f.publisher.call('stop') },
    run.timing,
  );
  const received = await count();
  push(run, system, 'multicast-9', w, { deliveries: Math.round(w.ops * 9), totalDeliveries: received.ops * 9, ...tag });
}

/** 100 VNics in 4 processes on one VNet; a short request load over all of them; the VNet's peak RSS. */
async function rssCase(run: Run, dev: L8Security): Promise<void> {
  const swarm = await layer8Swarm(run.fleet, dev, 4, 25);
  await sleep(200);
  const status = await swarm.vnet.call<{ locals: number }>('status');
  const count = async (): Promise<Count> => {
    const marks = await Promise.all(swarm.vnics.map((c) => c.call<Mark>('mark')));
    return { ops: marks.reduce((n, m) => n + m.done, 0), errors: marks.reduce((n, m) => n + m.errors, 0) };
  };
  const w = await measure(
    {
      pids: swarm.children.map((c) => c.pid),
      keepPeak: true,
      start: () => Promise.all(swarm.vnics.map((c) => c.call('requests', { service: 'echo', concurrency: 25 }))),
      count,
      stop: () => Promise.all(swarm.vnics.map((c) => c.call('stop'))),
    },
    { warmMs: run.timing.warmMs, ms: Math.min(run.timing.ms, 2000) },
  );
  const vnicRss = Math.max(...swarm.vnics.map((c) => procPeakRssMB(c.pid)));
  push(run, 'layer8', 'vnet-rss-100-vnics', w, {
    rssMB: round(procPeakRssMB(swarm.vnet.pid)),
    connectedVnics: status.locals,
    vnicProcesses: swarm.vnics.length,
    vnicProcessRssMB: round(vnicRss),
    loadInFlight: 100,
    security: 'dev',
  });
  await run.fleet.stop(swarm.children);
}

/** Orders rows by case then system, adds targets and the Layer8 ratios. */
function finish(rows: BenchRow[]): BenchRow[] {
  const rateOf = (s: string, c: string): number | undefined => rows.find((r) => r.system === s && r.case === c)?.rate;
  const sorted = [...rows].sort(
    (a, b) =>
      CASES.indexOf(a.case) - CASES.indexOf(b.case) ||
      SYSTEMS.indexOf(a.system as System) - SYSTEMS.indexOf(b.system as System),
  );
  return sorted.map((r) => {
    if (r.skipped !== undefined) return r;
    if (r.system === 'layer8-observed' || r.case === 'req-c100-local-traced') return withCost(r, rateOf);
    if (r.system !== 'layer8') return r;
    const out: BenchRow = { ...r, ...targetOf(r, rateOf) };
    if (r.case !== 'req-c100-local') return out;
    const mol = rateOf('moleculer', 'req-c100-local');
    const nat = rateOf('nats', 'req-c100-local');
    return {
      ...out,
      ...(mol ? { ratioVsMoleculer: round((r.rate ?? 0) / mol, 2) } : {}),
      ...(nat ? { ratioVsNats: round((r.rate ?? 0) / nat, 2) } : {}),
    };
  });
}

/** An observed row with its rate as a ratio of the same row without observability (goal: ≥ 0.9). */
function withCost(r: BenchRow, rateOf: (s: string, c: string) => number | undefined): BenchRow {
  const plain = rateOf('layer8', r.case === 'req-c100-local-traced' ? 'req-c100-local' : r.case);
  return plain === undefined ? r : { ...r, ratioVsUnobserved: round((r.rate ?? 0) / plain, 2) };
}
