/**
 * Set-ups of the services benchmark, one OS process per component: VNets (127.0.0.2, .3, … in a full
 * mesh, bench/lib/overlay-layer8.ts workers), service nodes on them (bench/lib/services-layer8.ts), the
 * TLS material they prove themselves with, nats-server with JetStream and its KV client, and a
 * PostgreSQL schema of the run's own.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { initSecurity, TlsProvider } from '@layer8/security';
import pg from 'pg';
import { script } from './ext.ts';
import type { Security } from './overlay-layer8.ts';
import type { Child, Fleet } from './overlay-proc.ts';
import { type NatsServer, startNatsServer } from './overlay-systems.ts';

const VNET = script('overlay-layer8');
const NODE = script('services-layer8');
const KV = script('services-nats');

/** The certificates of a run (or why the dev provider is used), and the folder for sockets. */
export interface Plan {
  readonly dir: string;
  readonly tlsDir?: string;
  /** `tls`, or `dev (why TLS is not used)`. */
  readonly security: string;
}

/** A service node to start: its process role, certificate name and VNet. */
export interface NodeSpec {
  readonly role: string;
  readonly node: string;
  readonly vnet: number;
}

/** Running VNets and service nodes. */
export interface Topology {
  readonly children: Child[];
  readonly vnets: Child[];
  readonly nodes: Record<string, Child>;
  readonly paths: string[];
}

/**
 * Issues certificates for `nodes` and three VNets (SAN 127.0.0.2-4) under `dir`, as the default TLS
 * provider reads them; falls back to the dev provider, saying why, when that fails.
 */
export async function plan(dir: string, nodes: readonly string[]): Promise<Plan> {
  const tlsDir = join(dir, 'security');
  try {
    const vnets = ['vnet-0', 'vnet-1', 'vnet-2'];
    const san = { dns: ['localhost'], ips: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] };
    await initSecurity({ dir: tlsDir, nodes, vnets, san });
    new TlsProvider({ dir: tlsDir, node: nodes[0] as string });
    return { dir, tlsDir, security: 'tls' };
  } catch (err) {
    return { dir, security: `dev (TlsProvider unavailable: ${(err as Error).message})` };
  }
}

function security(p: Plan, node: string): Security {
  return p.tlsDir === undefined ? { kind: 'dev' } : { kind: 'tls', dir: p.tlsDir, node };
}

/** Starts `vnets` VNets in a full mesh and the service `nodes` on them, one process each. */
export async function topology(fleet: Fleet, p: Plan, vnets: number, nodes: readonly NodeSpec[]): Promise<Topology> {
  const t: Topology = { children: [], vnets: [], nodes: {}, paths: [] };
  const peers: object[] = [];
  for (let i = 0; i < vnets; i++) {
    const v = await fork(fleet, t, VNET, `svc-vnet-${i}`);
    const socketPath = join(p.dir, `svc-vnet-${i}.sock`);
    const args = { security: security(p, `vnet-${i}`), host: `127.0.0.${i + 2}`, socketPath, peers: [...peers] };
    peers.push(await v.call('vnet', args));
    t.vnets.push(v);
    t.paths.push(socketPath);
  }
  await Promise.all(nodes.map((n) => addNode(fleet, p, t, n)));
  return t;
}

/** Starts one more service node in `t`. */
export async function addNode(fleet: Fleet, p: Plan, t: Topology, n: NodeSpec): Promise<Child> {
  const c = await fork(fleet, t, NODE, n.role);
  await c.call('node', { security: security(p, n.node), path: t.paths[n.vnet], alias: n.node });
  t.nodes[n.node] = c;
  return c;
}

async function fork(fleet: Fleet, t: Topology, file: string, role: string): Promise<Child> {
  const c = await fleet.fork(file, role);
  t.children.push(c);
  return c;
}

/** The process ids of `children`. */
export function pidsOf(children: readonly Child[]): number[] {
  return children.map((c) => c.pid);
}

/** nats-server with JetStream (store in `dir`) and a KV client process with bucket `orders` open. */
export interface NatsKv {
  readonly server: NatsServer;
  readonly client: Child;
  readonly valueBytes: number;
}

/** Starts nats-server `-js -sd <dir>` and the KV client; the bucket holds values of keys 1…keys. */
export async function natsKv(fleet: Fleet, dir: string, keys: number): Promise<NatsKv> {
  const server = await startNatsServer(fleet, ['-js', '-sd', join(dir, 'jetstream')]);
  const client = await fleet.fork(KV, 'kv-client');
  const valueBytes = await client.call<number>('open', { port: server.port, name: 'orders', keys });
  return { server, client, valueBytes };
}

/** A PostgreSQL schema of this run: the URL that works in it, its backends' pids, and its removal. */
export interface PgSchema {
  readonly url: string;
  /** The server processes serving this run's connections (their CPU counts for the case). */
  backendPids(): Promise<number[]>;
  drop(): Promise<void>;
}

const APP = 'l8-bench-services';

/** Creates a schema of its own on `base` (dropped by `drop`); undefined with why when unreachable. */
export async function pgSchema(base: string): Promise<PgSchema | { why: string }> {
  const schema = `l8_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: base, max: 1, connectionTimeoutMillis: 3000 });
  admin.on('error', () => {});
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } catch (err) {
    await admin.end();
    return { why: `PostgreSQL unreachable at ${redact(base)}: ${(err as Error).message}` };
  }
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  u.searchParams.set('application_name', APP);
  return {
    url: u.toString(),
    backendPids: async () =>
      (await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [APP])).rows.map((r) =>
        Number(r.pid),
      ),
    drop: async () => {
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
    },
  };
}

/** `url` without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
