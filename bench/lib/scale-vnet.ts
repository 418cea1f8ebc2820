/**
 * Worker process of the scale benchmark: one VNet with the default TLS provider on its own loopback
 * address, driven over IPC by bench/scale.ts. Reports its traffic and CPU time, the state of its health
 * table, and when that table shows a node or a VNet gone (timestamps are `Date.now()` taken in the
 * health table's change listener, so one clock serves every process of the machine).
 */
import type { HealthTable } from '@layer8/health';
import type { NodeId } from '@layer8/protocol';
import { TlsProvider } from '@layer8/security';
import { VNet, type VNetLogger } from '@layer8/vnet';
import { serve } from './overlay-ipc.ts';

/** Arguments of the `start` and `join` operations. */
export interface ScaleVNetArgs {
  /** The security directory (overlay CA and node files). */
  readonly dir: string;
  /** This VNet's certificate name (`vnet-<i>`). */
  readonly node: string;
  readonly host: string;
  readonly socketPath: string;
  readonly peers: readonly { host: string; port: number }[];
  /** The heartbeat deadline; the product's default when absent. */
  readonly heartbeatMs?: number;
}

/** What `start` answers: where the VNet listens and its node id. */
export interface ScaleVNetAddress {
  readonly host: string;
  readonly port: number;
  readonly id: string;
}

/** Counters read at both ends of the idle window: frames and bytes sent, CPU time, and when. */
export interface Traffic {
  readonly framesOut: number;
  readonly bytesOut: number;
  /** `write()` calls on the sockets. */
  readonly writes: number;
  /** CPU time of the process (user + system), µs. */
  readonly cpuUs: number;
  /** `Date.now()` when read. */
  readonly at: number;
  /** Links this process saw closed so far (VNets only; 0 in a VNic process). */
  readonly linksClosed: number;
  /** Heartbeats and health messages (deltas, dumps) a VNet sent, from its control counters (0 in a VNic process). */
  readonly heartbeats: number;
  readonly health: number;
}

/** The health table as this VNet sees it, and its links. */
export interface ScaleVNetStatus {
  readonly size: number;
  /** Records whose status is `up`. */
  readonly up: number;
  readonly peers: number;
  readonly locals: number;
  /** Links closed so far, by kind (a peer link lost during setup shows here). */
  readonly closed: { readonly local: number; readonly peer: number };
}

/** What a watch waits for: `node`'s record not `up` (unreachable or removed), or `vnet`'s slice gone. */
export interface WatchArgs {
  readonly key: string;
  readonly node?: string;
  readonly vnet?: string;
  readonly timeoutMs: number;
}

let vnet: VNet | undefined;

/** With `L8_BENCH_SCALE_LOG=1` the VNet's warnings and changes of the overlay go to stderr (diagnostics). */
function logger(name: string): VNetLogger | undefined {
  if (process.env.L8_BENCH_SCALE_LOG !== '1') return undefined;
  const line = (level: string) => (obj: object, msg?: string) =>
    process.stderr.write(`${new Date().toISOString()} ${name} ${level} ${msg ?? ''} ${JSON.stringify(obj)}\n`);
  return { info: line('info'), warn: line('warn') };
}
const watches = new Map<string, Promise<number | null>>();

function started(): VNet {
  if (vnet === undefined) throw new Error('no VNet started in this process');
  return vnet;
}

async function start(a: ScaleVNetArgs): Promise<ScaleVNetAddress> {
  const provider = new TlsProvider({ dir: a.dir, node: a.node });
  const hb = a.heartbeatMs === undefined ? {} : { heartbeatMs: a.heartbeatMs };
  const { host, socketPath, peers } = a;
  const log = logger(a.node);
  const logged = log === undefined ? {} : { logger: log };
  vnet = new VNet({ provider, host, port: 0, socketPath, peers, alias: a.node, ...logged, ...hb });
  const { tcp } = await vnet.start();
  return { host: tcp.host, port: tcp.port, id: vnet.id };
}

/** Resolves with `Date.now()` once `probe` holds on `table` (checked now and on every change), or null after `timeoutMs`. */
function whenTrue(table: HealthTable, probe: () => boolean, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    let off = (): void => undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (at: number | null): void => {
      clearTimeout(timer);
      off();
      resolve(at);
    };
    if (probe()) return finish(Date.now());
    off = table.onChange(() => probe() && finish(Date.now()));
    timer = setTimeout(() => finish(null), timeoutMs);
  });
}

function arm(a: WatchArgs): void {
  const table = started().health;
  const node = a.node as NodeId | undefined;
  const slice = a.vnet as NodeId | undefined;
  const probe =
    node !== undefined ? () => table.get(node)?.status !== 'up' : () => table.sliceSize(slice as NodeId) === 0;
  watches.set(a.key, whenTrue(table, probe, a.timeoutMs));
}

async function result({ key }: { key: string }): Promise<number | null> {
  const w = watches.get(key);
  if (w === undefined) throw new Error(`no watch ${key}`);
  watches.delete(key);
  return w;
}

/** Starts this VNet as a newcomer and answers how long its table took to hold `expected` records. */
async function join(a: ScaleVNetArgs & { expected: number; timeoutMs: number }): Promise<object> {
  const t0 = Date.now();
  await start(a);
  const table = started().health;
  const at = await whenTrue(table, () => table.size >= a.expected, a.timeoutMs);
  return { ms: at === null ? null : at - t0, size: table.size };
}

function traffic(): Traffic {
  const v = started();
  const local = v.counters.traffic(
    'local',
    [...v.locals.values()].map((c) => c.link.stats),
  );
  const peer = v.counters.traffic(
    'peer',
    [...v.peers.values()].map((c) => c.link.stats),
  );
  const cpu = process.cpuUsage();
  return {
    framesOut: local.framesOut + peer.framesOut,
    bytesOut: local.bytesOut + peer.bytesOut,
    writes: local.writes + peer.writes,
    cpuUs: cpu.user + cpu.system,
    at: Date.now(),
    linksClosed: v.counters.linksClosed.local + v.counters.linksClosed.peer,
    heartbeats: v.control.counters.heartbeatsSent,
    health: v.control.counters.healthSent,
  };
}

function status(): ScaleVNetStatus {
  const v = started();
  let up = 0;
  for (const r of v.health.all()) if (r.status === 'up') up++;
  const closed = { ...v.counters.linksClosed };
  return { size: v.health.size, up, peers: v.peers.size, locals: v.locals.size, closed };
}

serve({
  start,
  join,
  arm,
  result,
  traffic,
  status,
  close: () => vnet?.close(),
});
