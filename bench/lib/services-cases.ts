/**
 * The four case groups of the services benchmark. Each starts its processes, measures every system of
 * the group in turn (interleaved) `repeats` times, pushes one row per case and stops what it started.
 * Windows come from bench/lib/overlay-measure.ts: CPU over every process of the case, peak RSS reset
 * per window. `cpuShare` says which of the case's processes the CPU went to.
 */
import { join } from 'node:path';
import type { ServiceCounters } from '@layer8/services';
import { type BenchRow, round, say } from './harness.ts';
import { sleep } from './overlay-ipc.ts';
import { measure, requestCount, type Timing } from './overlay-measure.ts';
import { type Child, type Fleet, procCpuUs, procPeakRssMB, resetPeakRss } from './overlay-proc.ts';
import type { Digest, LoadArgs } from './services-layer8.ts';
import type { KvLoadArgs } from './services-nats.ts';
import { addNode, type NatsKv, type PgSchema, type Plan, pgSchema, pidsOf, topology } from './services-setup.ts';
import { pidsOfRoles, type Roles, rowOf, type Sample, sharesOf, tallyCpu } from './services-stats.ts';

/** What every group needs. */
export interface Run {
  readonly plan: Plan;
  readonly timing: Timing;
  readonly repeats: number;
  /** Keys of the patch, get and put cases (written in turn). */
  readonly keys: number;
  readonly inFlight: number;
  /** Mean protobuf size of the entities of keys 1…keys (NATS KV stores these bytes). */
  readonly entityBytes: number;
  /** Systems to run: `layer8`, `nats-kv`. */
  readonly only: ReadonlySet<string>;
  /** NATS KV, when it runs; else why not. */
  readonly kv: NatsKv | { readonly why: string };
  readonly pgUrl: string;
  readonly rows: BenchRow[];
}

/** Entities of the recovery case. */
export const RECOVERY_ENTITIES = 100_000;
/** How long the instances may take to converge after the last acknowledged write before it counts as a miss. */
const CONVERGE_LIMIT_MS = 15_000;
const ORDERS = 'Orders';
const SETUP_MS = 180_000;

/** One system of an interleaved group: the worker that drives the load, and the case's processes by role. */
interface Lane {
  readonly system: string;
  readonly kase: string;
  readonly driver: Child;
  readonly roles: Roles;
  readonly load: LoadArgs | KvLoadArgs;
  /** Processes listed once warm whose CPU counts too (the PostgreSQL backends of the store). */
  readonly cpuPids?: () => Promise<readonly number[]>;
  readonly extra?: object;
}

/** PATCH of one field through 3 instances on 3 VNets (a client on VNet 0, round-robin), then convergence. */
export async function patchReplicated3(run: Run, fleet: Fleet): Promise<void> {
  const specs = [0, 1, 2].map((i) => ({ role: `svc-inst-${i}`, node: `inst-${i}`, vnet: i }));
  const t = await topology(fleet, run.plan, 3, [...specs, { role: 'svc-client', node: 'client', vnet: 0 }]);
  const insts = specs.map((s) => t.nodes[s.node] as Child);
  const client = t.nodes.client as Child;
  for (const i of insts) await i.call('activate', { name: ORDERS, storage: 'none' }, SETUP_MS);
  await Promise.all([...insts, client].map((c) => c.call('wait', { name: ORDERS, count: 3 })));
  await (insts[0] as Child).call('preload', { name: ORDERS, count: run.keys, concurrency: 100 }, SETUP_MS);
  if ((await converge(insts, 0)) === undefined) throw new Error('the preloaded instances did not converge');
  const roles = { client: [client.pid], vnets: pidsOf(t.vnets), instances: pidsOf(insts) };
  const load: LoadArgs = { ...loadOf(run, 'patch'), name: ORDERS, mode: 'round-robin' };
  const lane = { driver: client, roles, load };
  const spent: Record<string, number> = {};
  const samples: Sample[] = [];
  for (let r = 0; r < run.repeats; r++) {
    let lastAckMs = 0;
    const stop = async (): Promise<void> => {
      lastAckMs = (await client.call<{ lastAckMs: number }>('stop')).lastAckMs;
    };
    const w = await tallyCpu(roles, spent, () => measure({ ...specOf(lane), stop }, run.timing));
    const convergeMs = await converge(insts, lastAckMs);
    samples.push(convergeMs === undefined ? w : { ...w, convergeMs });
    say(`layer8 patch-replicated-3 #${r + 1}: ${w.rate} writes/s, converged ${convergeMs ?? 'NOT'} ms`);
  }
  const extra = await replicationFacts(run, insts);
  run.rows.push(rowOf('layer8', 'patch-replicated-3', samples, { ...extra, cpuShare: sharesOf(spent) }));
  await fleet.stop(t.children);
}

/** Whether the instances hold identical entities (bytes included), and what replication did. */
async function replicationFacts(run: Run, insts: readonly Child[]): Promise<object> {
  const full = await Promise.all(insts.map((c) => c.call<Digest>('digest', { name: ORDERS, full: true })));
  type Counters = ServiceCounters & { lost: number };
  const counters = await Promise.all(insts.map((c) => c.call<Counters>('counters', { name: ORDERS })));
  const sum = (f: (c: Counters) => number): number => counters.reduce((n, c) => n + f(c), 0);
  return {
    ...l8extra(run),
    instances: 3,
    vnets: 3,
    identical: full.every((d) => d.hash === full[0]?.hash && d.size === run.keys),
    replicated: sum((c) => c.replicated),
    fetched: sum((c) => c.fetched),
    healthLost: sum((c) => c.lost),
    serviceErrors: sum((c) => c.errors),
  };
}

/**
 * Polls the instances' digests until they agree; answers the ms from `since` (epoch ms) to the latest
 * digest of the round that agreed, or undefined past the limit.
 */
async function converge(insts: readonly Child[], since: number): Promise<number | undefined> {
  const end = performance.now() + CONVERGE_LIMIT_MS;
  while (performance.now() < end) {
    const ds = await Promise.all(insts.map((c) => c.call<Digest>('digest', { name: ORDERS })));
    if (ds.every((d) => d.hash === ds[0]?.hash)) return round(Math.max(...ds.map((d) => d.at)) - since);
    await sleep(2);
  }
  return undefined;
}

/** GET by key in the instance's process (`local`), over the overlay from another process, and NATS KV get. */
export async function getByKey(run: Run, fleet: Fleet): Promise<void> {
  const t = await topology(fleet, run.plan, 1, [
    { role: 'svc-inst-0', node: 'inst-0', vnet: 0 },
    { role: 'svc-client', node: 'client', vnet: 0 },
  ]);
  const [vnet, inst, client] = [t.vnets[0], t.nodes['inst-0'], t.nodes.client] as [Child, Child, Child];
  await inst.call('activate', { name: ORDERS, storage: 'none' }, SETUP_MS);
  await client.call('wait', { name: ORDERS, count: 1 });
  await inst.call('preload', { name: ORDERS, count: run.keys, concurrency: 100 }, SETUP_MS);
  const get = (mode: LoadArgs['mode']): LoadArgs => ({ ...loadOf(run, 'get'), name: ORDERS, mode });
  const local = { instance: [inst.pid], vnet: [vnet.pid] };
  const remote = { client: [client.pid], vnet: [vnet.pid], instance: [inst.pid] };
  const lanes = [
    l8(run, 'get-by-key-in-process', inst, local, get('local'), { via: 'in-process (mode local)' }),
    l8(run, 'get-by-key-overlay', client, remote, get('round-robin'), { via: 'overlay, another process' }),
  ];
  const kv = await kvLane(run, 'kv-get', 'get');
  await interleave(run, kv === undefined ? lanes : [...lanes, kv], kvMissing(run, 'kv-get'));
  await fleet.stop(t.children);
}

/** PUT of the whole entity, written through to SQLite and to PostgreSQL, and NATS KV put. */
export async function putDurable(run: Run, fleet: Fleet): Promise<void> {
  const pg = await pgSchema(run.pgUrl);
  try {
    const nodes = [
      { role: 'svc-store-sqlite', node: 'store-sqlite', vnet: 0 },
      ...('url' in pg ? [{ role: 'svc-store-pg', node: 'store-pg', vnet: 0 }] : []),
      { role: 'svc-client', node: 'client', vnet: 0 },
    ];
    const t = await topology(fleet, run.plan, 1, nodes);
    const lanes = await putLanes(run, t.vnets[0] as Child, t.nodes, pg);
    const kv = await kvLane(run, 'kv-put', 'put');
    const missing = [...kvMissing(run, 'kv-put'), ...('why' in pg ? [pgMissing(pg.why)] : [])];
    await interleave(run, kv === undefined ? lanes : [...lanes, kv], missing);
    await fleet.stop(t.children);
  } finally {
    if ('url' in pg) await pg.drop();
  }
}

async function putLanes(run: Run, vnet: Child, nodes: Record<string, Child>, pg: PgSchema | { why: string }) {
  const client = nodes.client as Child;
  const sqlite = nodes['store-sqlite'] as Child;
  await sqlite.call('activate', { name: 'OrdersSqlite', storage: { sqlite: join(run.plan.dir, 'data') } }, SETUP_MS);
  await client.call('wait', { name: 'OrdersSqlite', count: 1 });
  const put = (name: string): LoadArgs => ({ ...loadOf(run, 'put'), name, mode: 'round-robin' });
  const roles = (store: Child): Roles => ({ client: [client.pid], vnet: [vnet.pid], store: [store.pid] });
  const lanes = [l8(run, 'put-durable-sqlite', client, roles(sqlite), put('OrdersSqlite'), { store: 'sqlite' })];
  const store = nodes['store-pg'];
  if ('url' in pg && store !== undefined) {
    await store.call('activate', { name: 'OrdersPg', storage: { postgres: pg.url } }, SETUP_MS);
    await client.call('wait', { name: 'OrdersPg', count: 1 });
    const extra = { store: 'postgres', cpuIncludes: 'the PostgreSQL backends of the store' };
    const lane = l8(run, 'put-durable-postgres', client, roles(store), put('OrdersPg'), extra);
    lanes.push({ ...lane, cpuPids: () => pg.backendPids() });
  }
  return lanes;
}

/** A fresh instance (new process, new node) recovering `RECOVERY_ENTITIES` entities from a peer. */
export async function recovery100k(run: Run, fleet: Fleet): Promise<void> {
  const t = await topology(fleet, run.plan, 1, [{ role: 'svc-peer', node: 'peer', vnet: 0 }]);
  const [vnet, peer] = [t.vnets[0], t.nodes.peer] as [Child, Child];
  await peer.call('activate', { name: ORDERS, storage: 'none' }, SETUP_MS);
  const load = { name: ORDERS, count: RECOVERY_ENTITIES, concurrency: 200 };
  const loadMs = await peer.call<number>('preload', load, SETUP_MS);
  say(`layer8 recovery-100k: the peer took ${Math.round(loadMs)} ms to load ${RECOVERY_ENTITIES} entities`);
  const spent: Record<string, number> = {};
  const samples: Sample[] = [];
  for (let r = 0; r < run.repeats; r++) {
    const fresh = await addNode(fleet, run.plan, t, { role: `svc-fresh-${r}`, node: `fresh-${r}`, vnet: 0 });
    await fresh.call('wait', { name: ORDERS, count: 1 });
    const roles = { fresh: [fresh.pid], peer: [peer.pid], vnet: [vnet.pid] };
    samples.push(await tallyCpu(roles, spent, () => recoverOnce(roles, fresh)));
    say(`layer8 recovery-100k #${r + 1}: ${samples.at(-1)?.ms} ms`);
    await fleet.stop([fresh]);
  }
  const extra = { entities: RECOVERY_ENTITIES, security: run.plan.security, peerLoadMs: Math.round(loadMs) };
  run.rows.push(rowOf('layer8', 'recovery-100k', samples, { ...extra, cpuShare: sharesOf(spent) }));
  await fleet.stop(t.children);
}

/** Activates the service on `fresh` and measures its recovery: ms, entities/s, CPU per entity. */
async function recoverOnce(roles: Roles, fresh: Child): Promise<Sample> {
  const pids = pidsOfRoles(roles);
  for (const p of pids) resetPeakRss(p);
  const cpu0 = pids.reduce((s, p) => s + procCpuUs(p), 0);
  const args = { name: ORDERS, storage: 'none' };
  const { ms, items } = await fresh.call<{ ms: number; items: number }>('activate', args, SETUP_MS);
  const cpu = pids.reduce((s, p) => s + procCpuUs(p), 0) - cpu0;
  const errors = items === RECOVERY_ENTITIES ? 0 : 1;
  return {
    ms: round(ms),
    rate: Math.round(items / (ms / 1000)),
    cpuUsPerOp: items > 0 ? round(cpu / items, 2) : 0,
    rssMB: round(Math.max(...pids.map(procPeakRssMB))),
    errors,
    ...(errors > 0 ? { lastError: `recovered ${items} of ${RECOVERY_ENTITIES} entities` } : {}),
  };
}

/** Measures every lane in turn, `repeats` times over, and pushes a row per lane (and the `missing` ones). */
async function interleave(run: Run, lanes: readonly Lane[], missing: readonly BenchRow[]): Promise<void> {
  const chosen = lanes.filter((l) => run.only.has(l.system));
  const samples = chosen.map((): Sample[] => []);
  const spent = chosen.map((): Record<string, number> => ({}));
  for (let r = 0; r < run.repeats; r++) {
    for (const [i, l] of chosen.entries()) {
      const w = await tallyCpu(l.roles, spent[i] ?? {}, () => measure(specOf(l), run.timing));
      samples[i]?.push(w);
      const errors = w.errors > 0 ? `, ${w.errors} errors` : '';
      say(`${l.system} ${l.kase} #${r + 1}: ${w.rate} /s, cpu ${w.cpuUsPerOp} µs/op${errors}`);
    }
  }
  for (const [i, l] of chosen.entries()) {
    const extra = { ...l.extra, cpuShare: sharesOf(spent[i] ?? {}) };
    run.rows.push(rowOf(l.system, l.kase, samples[i] ?? [], extra));
  }
  run.rows.push(...missing.filter((m) => run.only.has(m.system)));
}

/** The measure() spec of a lane: start its load, count and stop through its driver. */
function specOf(l: Pick<Lane, 'driver' | 'roles' | 'load' | 'cpuPids'>) {
  return {
    pids: pidsOfRoles(l.roles),
    start: () => l.driver.call('load', l.load),
    count: requestCount(l.driver),
    stop: () => l.driver.call('stop'),
    ...(l.cpuPids === undefined ? {} : { cpuPids: l.cpuPids }),
  };
}

/** A Layer8 lane: `driver` runs `load`. */
function l8(run: Run, kase: string, driver: Child, roles: Roles, load: LoadArgs, extra: object): Lane {
  return { system: 'layer8', kase, driver, roles, load, extra: { ...l8extra(run), ...extra } };
}

function l8extra(run: Run): object {
  return { inFlight: run.inFlight, keys: run.keys, entityBytes: run.entityBytes, security: run.plan.security };
}

function loadOf(run: Run, action: LoadArgs['action']): Omit<LoadArgs, 'name' | 'mode'> {
  return { action, keys: run.keys, concurrency: run.inFlight };
}

/** The NATS KV lane of a group (keys preloaded for gets), or undefined when NATS KV does not run. */
async function kvLane(run: Run, kase: string, action: KvLoadArgs['action']): Promise<Lane | undefined> {
  if (!run.only.has('nats-kv') || 'why' in run.kv) return undefined;
  const { server, client, valueBytes } = run.kv;
  if (action === 'get') await client.call('preload', { count: run.keys, concurrency: run.inFlight }, SETUP_MS);
  const load: KvLoadArgs = { action, keys: run.keys, concurrency: run.inFlight };
  const extra = { inFlight: run.inFlight, keys: run.keys, valueBytes, server: server.version, storage: 'file' };
  const roles = { server: [server.pid], client: [client.pid] };
  return { system: 'nats-kv', kase, driver: client, roles, load, extra };
}

function kvMissing(run: Run, kase: string): BenchRow[] {
  return 'why' in run.kv ? [{ system: 'nats-kv', case: kase, skipped: run.kv.why }] : [];
}

function pgMissing(why: string): BenchRow {
  const hint = `${why}; start PostgreSQL (role layer8 / password layer8 owning database layer8_test) or set L8_TEST_PG`;
  return { system: 'layer8', case: 'put-durable-postgres', skipped: hint };
}
