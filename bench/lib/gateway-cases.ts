/**
 * The cases of the gateway benchmark (bench/gateway.ts): the three systems' processes, their windows
 * (bench/lib/overlay-measure.ts) and their rows (bench/lib/services-stats.ts).
 */
import assert from 'node:assert/strict';
import { script } from './ext.ts';
import { type BenchRow, round } from './harness.ts';
import { measure, receivedCount, requestCount, type Timing } from './overlay-measure.ts';
import type { Child, Fleet } from './overlay-proc.ts';
import { type Plan, pidsOf, topology } from './services-setup.ts';
import { median, pidsOfRoles, type Roles, rowOf, type Sample, sharesOf, tallyCpu } from './services-stats.ts';

const SERVERS = script('gateway-servers');
const LOAD = script('gateway-load');

/** What the cases share. */
export interface Ctx {
  readonly fleet: Fleet;
  readonly plan: Plan;
  readonly timing: Timing;
  readonly repeats: number;
  readonly keys: number;
  readonly connections: number;
  readonly subscribers: number;
  /** PATCHes per second of the ws-fanout writer. */
  readonly wsRate: number;
  readonly rows: BenchRow[];
  /** The Layer8 processes, once started. */
  layer8?: Layer8;
}

/** The Layer8 side: VNet, Orders instance, gateway. */
interface Layer8 {
  readonly roles: Roles;
  readonly url: string;
  readonly path: string;
}

/** A system of get-by-key: its URL and processes by role. */
interface System {
  readonly name: string;
  readonly url: string;
  readonly roles: Roles;
}

/** Starts (once) a VNet, an Orders instance preloaded with `keys` orders, and the gateway. */
async function layer8(ctx: Ctx): Promise<Layer8> {
  if (ctx.layer8 !== undefined) return ctx.layer8;
  const t = await topology(ctx.fleet, ctx.plan, 1, [{ role: 'gw-svc', node: 'svc', vnet: 0 }]);
  const svc = t.nodes.svc as Child;
  await svc.call('activate', { name: 'Orders', storage: 'none', web: { actions: ['get', 'patch'] } }, 60_000);
  await svc.call('preload', { name: 'Orders', count: ctx.keys, concurrency: 50 }, 300_000);
  const gw = await ctx.fleet.fork(SERVERS, 'gw');
  const path = t.paths[0] as string;
  const node = { dir: ctx.plan.tlsDir, node: 'gw', path };
  const url = await gw.call<string>('gateway', { ...node, maxConnections: ctx.subscribers + 100 }, 60_000);
  ctx.layer8 = { roles: { vnet: pidsOf(t.vnets), service: [svc.pid], gateway: [gw.pid] }, url, path };
  return ctx.layer8;
}

async function ceiling(ctx: Ctx): Promise<System> {
  const c = await ctx.fleet.fork(SERVERS, 'ceiling');
  return {
    name: 'fastify-ceiling',
    url: await c.call<string>('ceiling', { keys: ctx.keys }),
    roles: { server: [c.pid] },
  };
}

async function moleculerWeb(ctx: Ctx): Promise<System> {
  const base = 21_000 + (process.pid % 20_000);
  const all = [
    { id: 'gw-mol-svc', port: base },
    { id: 'gw-mol-web', port: base + 1 },
  ];
  const svc = await ctx.fleet.fork(SERVERS, 'mol-svc');
  await svc.call('molService', { node: all[0], all, keys: ctx.keys });
  const web = await ctx.fleet.fork(SERVERS, 'mol-web');
  const url = await web.call<string>('molWeb', { node: all[1], all }, 30_000);
  return { name: 'moleculer-web', url, roles: { service: [svc.pid], gateway: [web.pid] } };
}

/** GETs key 7 from every system, checks that the bodies are equal, answers the body's size. */
async function sameBody(systems: readonly System[]): Promise<number> {
  const bodies = await Promise.all(systems.map(async (s) => (await fetch(`${s.url}/l8/0/Orders/7`)).text()));
  const [first] = bodies;
  for (const b of bodies)
    assert.deepEqual(JSON.parse(b), JSON.parse(first as string), 'the systems answer differently');
  return Buffer.byteLength(first as string);
}

/** One window of autocannon against `s`. */
async function window(ctx: Ctx, load: Child, s: System, spent: Record<string, number>): Promise<Sample> {
  const roles = { ...s.roles, load: [load.pid] };
  const spec = {
    pids: pidsOfRoles(roles),
    start: () => load.call('http', { url: s.url, connections: ctx.connections, keys: ctx.keys }),
    count: requestCount(load),
    stop: () => load.call('stop'),
  };
  return tallyCpu(roles, spent, () => measure(spec, ctx.timing));
}

/** `get-by-key`: the three systems interleaved (the order turns each repeat), `repeats` windows each. */
export async function getByKey(ctx: Ctx): Promise<void> {
  const l8 = await layer8(ctx);
  const systems = [
    { name: 'layer8-gateway', url: l8.url, roles: l8.roles },
    await ceiling(ctx),
    await moleculerWeb(ctx),
  ];
  const bytes = await sameBody(systems);
  const load = await ctx.fleet.fork(LOAD, 'autocannon');
  const samples = new Map<string, Sample[]>(systems.map((s) => [s.name, []]));
  const spent = new Map<string, Record<string, number>>(systems.map((s) => [s.name, {}]));
  for (let r = 0; r < ctx.repeats; r++) {
    for (let i = 0; i < systems.length; i++) {
      const s = systems[(i + r) % systems.length] as System;
      samples.get(s.name)?.push(await window(ctx, load, s, spent.get(s.name) as Record<string, number>));
    }
  }
  for (const s of systems) {
    const share = sharesOf(spent.get(s.name) as Record<string, number>);
    const row = rowOf(s.name, 'get-by-key', samples.get(s.name) as Sample[], { bytes, cpuShare: share });
    const server =
      row.cpuUsPerOp === undefined
        ? {}
        : { serverCpuUsPerOp: round(row.cpuUsPerOp * (1 - (share.load ?? 0) / 100), 2) };
    ctx.rows.push({ ...row, ...server });
  }
  await ctx.fleet.stop([load]);
}

/** The orders of customer `cust-1` among keys 1…keys (demoOrder gives order i to cust-(i mod 997)). */
function matching(keys: number): number[] {
  const ids: number[] = [];
  for (let i = 1; i <= keys; i++) if (i % 997 === 1) ids.push(i);
  return ids;
}

/**
 * `ws-fanout`: `subscribers` WebSockets (two client processes) subscribed to the orders of one
 * customer, a writer PATCHing those orders at `wsRate`/s; counts change messages delivered.
 */
export async function wsFanout(ctx: Ctx): Promise<void> {
  const l8 = await layer8(ctx);
  const q = "select * from Order where customerId = 'cust-1'";
  const clients = [await ctx.fleet.fork(LOAD, 'ws-a'), await ctx.fleet.fork(LOAD, 'ws-b')];
  const half = Math.ceil(ctx.subscribers / 2);
  for (const c of clients) await c.call('ws', { url: l8.url, count: half, q }, 120_000);
  const writer = await ctx.fleet.fork(SERVERS, 'writer');
  await writer.call('writerNode', { dir: ctx.plan.tlsDir, node: 'writer', path: l8.path }, 30_000);
  const roles = { ...l8.roles, subscribers: pidsOf(clients), writer: [writer.pid] };
  const keys = matching(ctx.keys);
  const spent: Record<string, number> = {};
  const samples: Sample[] = [];
  const spec = {
    pids: pidsOfRoles(roles),
    start: () => writer.call('write', { rate: ctx.wsRate, keys }),
    count: receivedCount(writer, clients),
    stop: () => writer.call('stop'),
  };
  for (let r = 0; r < ctx.repeats; r++) samples.push(await tallyCpu(roles, spent, () => measure(spec, ctx.timing)));
  const writes = samples.map((s) => (s as { sentRate?: number }).sentRate ?? 0);
  const subscribers = half * 2;
  const extra = { subscribers, writesPerSec: writes, dueRate: median(writes) * subscribers, matchingKeys: keys.length };
  Object.assign(extra, { cpuShare: sharesOf(spent) });
  ctx.rows.push(rowOf('layer8-gateway', 'ws-fanout', samples, extra));
}
