/**
 * Overlay benchmark: Layer8 side by side with Moleculer 0.15 (TCP transporter, direct; JSON and its CBOR
 * serializer), nats.js v2 + nats-server in plaintext (`nats`) and with TLS (`nats-tls`, the peer of
 * Layer8's rows over TLS: bench/lib/overlay-nats-systems.ts), every component in its own process
 * (bench/lib/overlay-*.ts), and `raw-tcp`, two processes exchanging length-prefixed frames over one TCP
 * connection: the physical limit each row is read against (`ofRawTcp`). Cases: request/reply with 1 and
 * 100 in flight on one host, 100 in flight across two TLS VNets (Layer8 only), a one-way unicast stream,
 * a 1 → 9 multicast, and the RSS of a VNet with 100 VNics. `layer8-tcp` attaches the VNics over TCP
 * loopback as the peers' clients do; `layer8-observed` runs with metrics on and the tracing API present
 * (no SDK), and `req-c100-local-traced` with the OpenTelemetry SDK sampling 1 %
 * (bench/lib/overlay-observe.ts): those rows carry their ratio to the unobserved one.
 *
 * Fair order (bench/lib/overlay-lanes.ts): every system's setup of a group is built first, then each case
 * runs its windows in turns, A B C A B C …, `--repeats` times; a row is the median with min and max, and
 * errors are counted per window. Every pump offers the same window of one-way messages per turn.
 *
 * `npm run bench -- overlay [--ms=3500] [--warm=500] [--repeats=3] [--only=layer8,nats] [--cases=…]`;
 * `L8_BENCH_PROF=DIR` writes a CPU profile of every worker into DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, round } from './lib/harness.ts';
import { sleep } from './lib/overlay-ipc.ts';
import { interleave, type Lane, type LaneCase, type LaneRun, rawPair, tlsSecurity } from './lib/overlay-lanes.ts';
import type { Mark } from './lib/overlay-load.ts';
import { type Count, measure, receivedCount, requestCount } from './lib/overlay-measure.ts';
import { type NatsEndpoint, natsFanout, natsLanes, natsPair, startNatsServers } from './lib/overlay-nats-systems.ts';
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
  type Pair,
} from './lib/overlay-systems.ts';
import { printTable, targetOf } from './lib/overlay-table.ts';

const SYSTEMS = [
  'raw-tcp',
  'layer8',
  'layer8-tcp',
  'layer8-observed',
  'layer8-plain',
  'moleculer',
  'moleculer-cbor',
  'nats',
  'nats-tls',
] as const;
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

interface Run extends LaneRun {
  readonly cases: ReadonlySet<string>;
  readonly only: ReadonlySet<string>;
  readonly dir: string;
}

export default async function overlay(args: string[]): Promise<BenchRow[]> {
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const dir = mkdtempSync(join(tmpdir(), 'l8-overlay-'));
  const run: Run = {
    fleet: new Fleet(),
    timing: { warmMs: Number(opt('warm') ?? 500), ms: Number(opt('ms') ?? 3500) },
    repeats: Number(opt('repeats') ?? 3),
    cases: new Set(opt('cases')?.split(',') ?? CASES),
    only: new Set(opt('only')?.split(',') ?? SYSTEMS),
    dir,
    rows: [],
  };
  try {
    const security = await securities(dir);
    const servers = await startNatsServers(run);
    await pairs(run, security, servers);
    await fanouts(run, security, servers);
    await layer8Only(run, security);
  } finally {
    await run.fleet.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = finish(run.rows);
  printTable(rows);
  return rows;
}

/** The dev provider for one-host cases, and the TLS provider for the ones across VNets when it works. */
interface Securities {
  readonly dev: L8Security;
  readonly tls: L8Security;
  readonly tag: { security: string };
}

async function securities(dir: string): Promise<Securities> {
  const dev: L8Security = { kind: 'dev', dir };
  const tls = await tlsSecurity(dir);
  const tag = { security: 'why' in tls ? `dev (${tls.why})` : 'tls' };
  return { dev, tls: 'why' in tls ? dev : tls, tag };
}

/** The pair cases (sequential, 100 in flight, stream), every system interleaved. */
async function pairs(run: Run, s: Securities, servers: readonly NatsEndpoint[]): Promise<void> {
  const f = run.fleet;
  const all: Lane<Pair>[] = [
    { system: 'raw-tcp', setup: () => rawPair(f) },
    { system: 'layer8', setup: () => layer8Pair(f, s.dev, false), tags: { security: 'dev' } },
    {
      system: 'layer8-tcp',
      setup: () => layer8Pair(f, { ...s.dev, tcp: true, lane: '-tcp' }, false),
      tags: { security: 'dev', attach: 'tcp' },
    },
    {
      system: 'layer8-observed',
      setup: () => layer8Pair(f, { ...s.dev, observe: 'metrics', lane: '-observed' }, false),
      tags: { security: 'dev', observe: 'metrics' },
    },
    { system: 'moleculer', setup: () => moleculerPair(f), tags: { serializer: 'JSON' } },
    { system: 'moleculer-cbor', setup: () => moleculerPair(f, 'CBOR'), tags: { serializer: 'CBOR' } },
    ...natsLanes(f, servers, natsPair),
  ];
  const cases: LaneCase<Pair>[] = [
    requestCase('req-seq-local', 1),
    requestCase('req-c100-local', 100),
    { name: 'stream-oneway', spec: streamSpec, tags: { payloadBytes: 100 } },
  ];
  await interleave(
    run,
    chosen(run, all),
    cases.filter((c) => run.cases.has(c.name)),
  );
}

/**
 * The 1 → 9 multicast, every system interleaved: Layer8 over TLS across three VNets (beside `nats-tls`),
 * and `layer8-plain` with the dev provider, plaintext between the VNets (beside `nats`).
 */
async function fanouts(run: Run, s: Securities, servers: readonly NatsEndpoint[]): Promise<void> {
  if (!run.cases.has('multicast-9')) return;
  const f = run.fleet;
  const all: Lane<Fanout>[] = [
    { system: 'layer8', setup: () => layer8Fanout(f, s.tls), tags: s.tag },
    {
      system: 'layer8-observed',
      setup: () => layer8Fanout(f, { ...s.tls, observe: 'metrics', lane: '-observed' }),
      tags: { ...s.tag, observe: 'metrics' },
    },
    {
      system: 'layer8-plain',
      setup: () => layer8Fanout(f, { ...s.dev, lane: '-plain' }),
      tags: { security: 'dev' },
    },
    { system: 'moleculer', setup: () => moleculerFanout(f), tags: { serializer: 'JSON' } },
    { system: 'moleculer-cbor', setup: () => moleculerFanout(f, 'CBOR'), tags: { serializer: 'CBOR' } },
    ...natsLanes(f, servers, natsFanout),
  ];
  await interleave(run, chosen(run, all), [{ name: 'multicast-9', spec: fanoutSpec }]);
}

/** Layer8's own rows: across two TLS VNets, with the tracing SDK, and the RSS of a VNet with 100 VNics. */
async function layer8Only(run: Run, s: Securities): Promise<void> {
  const f = run.fleet;
  if (run.only.has('layer8') && run.cases.has('req-c100-cross')) {
    const lane = { system: 'layer8', setup: () => layer8Pair(f, s.tls, true), tags: s.tag };
    await interleave(run, [lane], [requestCase('req-c100-cross', 100)]);
  }
  if (run.only.has('layer8-observed') && run.cases.has('req-c100-local-traced')) {
    const traced: L8Security = { ...s.dev, observe: 'traced' };
    const lane = {
      system: 'layer8',
      setup: () => layer8Pair(f, traced, false),
      tags: { security: 'dev', sampling: TRACE_SAMPLING },
    };
    await interleave(run, [lane], [requestCase('req-c100-local-traced', 100)]);
  }
  if (run.only.has('layer8') && run.cases.has('vnet-rss-100-vnics')) await rssCase(run, s.dev);
}

function chosen<S extends Pair | Fanout>(run: Run, lanes: readonly Lane<S>[]): Lane<S>[] {
  return lanes.filter((l) => run.only.has(l.system));
}

function requestCase(name: string, concurrency: number): LaneCase<Pair> {
  return {
    name,
    tags: { inFlight: concurrency },
    spec: (p) => ({
      pids: p.pids,
      start: () => p.requests(concurrency),
      count: requestCount(p.requester),
      stop: () => p.requester.call('stop'),
    }),
  };
}

function streamSpec(p: Pair) {
  return {
    pids: p.pids,
    start: () => p.stream(),
    count: receivedCount(p.requester, [p.responder]),
    stop: () => p.requester.call('stop'),
  };
}

function fanoutSpec(f: Fanout) {
  return {
    pids: f.pids,
    start: () => f.publish(),
    count: receivedCount(f.publisher, f.sinks, 9),
    stop: () => f.publisher.call('stop'),
  };
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
  run.rows.push({
    system: 'layer8',
    case: 'vnet-rss-100-vnics',
    ...w,
    rssMB: round(procPeakRssMB(swarm.vnet.pid)),
    connectedVnics: status.locals,
    vnicProcesses: swarm.vnics.length,
    vnicProcessRssMB: round(vnicRss),
    loadInFlight: 100,
    security: 'dev',
  });
  await run.fleet.stop(swarm.children);
}

/** Orders rows by case then system, adds targets, the ratios to the peers, to raw TCP and to the unobserved rows. */
function finish(rows: BenchRow[]): BenchRow[] {
  const rateOf = (s: string, c: string): number | undefined => rows.find((r) => r.system === s && r.case === c)?.rate;
  const sorted = [...rows].sort(
    (a, b) =>
      CASES.indexOf(a.case) - CASES.indexOf(b.case) ||
      SYSTEMS.indexOf(a.system as System) - SYSTEMS.indexOf(b.system as System),
  );
  return sorted.map((r) => {
    if (r.skipped !== undefined) return r;
    const raw = rateOf('raw-tcp', r.case);
    const out: BenchRow =
      raw === undefined || r.system === 'raw-tcp' ? r : { ...r, ofRawTcp: round((r.rate ?? 0) / raw, 2) };
    if (r.system === 'layer8-observed' || r.case === 'req-c100-local-traced') return withCost(out, rateOf);
    if (r.system === 'layer8-plain') return { ...out, ...peerRatios(r, rateOf) };
    if (r.system !== 'layer8') return out;
    return { ...out, ...targetOf(r, rateOf), ...peerRatios(r, rateOf) };
  });
}

/** A Layer8 row's rate against the peers' in the same case (against `nats-tls` when the row ran TLS too). */
function peerRatios(r: BenchRow, rateOf: (s: string, c: string) => number | undefined): object {
  const ratio = (peer: string) => {
    const p = peer === 'nats-tls' && r.security !== 'tls' ? undefined : rateOf(peer, r.case);
    return p === undefined || p === 0 ? undefined : round((r.rate ?? 0) / p, 2);
  };
  const out: Record<string, number> = {};
  for (const [key, peer] of [
    ['ratioVsMoleculer', 'moleculer'],
    ['ratioVsMoleculerCbor', 'moleculer-cbor'],
    ['ratioVsNats', 'nats'],
    ['ratioVsNatsTls', 'nats-tls'],
  ] as const) {
    const x = ratio(peer);
    if (x !== undefined) out[key] = x;
  }
  return out;
}

/** An observed row with its rate as a ratio of the same row without observability (goal: ≥ 0.9). */
function withCost(r: BenchRow, rateOf: (s: string, c: string) => number | undefined): BenchRow {
  const plain = rateOf('layer8', r.case === 'req-c100-local-traced' ? 'req-c100-local' : r.case);
  return plain === undefined ? r : { ...r, ratioVsUnobserved: round((r.rate ?? 0) / plain, 2) };
}
