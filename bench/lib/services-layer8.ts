/**
 * Worker process of the services benchmark for Layer8: one VNic with a service manager, which may run an
 * instance of an Orders service, a client load (PATCH, PUT or GET by key, N in flight), or both; driven
 * over IPC by bench/services.ts. The VNets run in bench/lib/overlay-layer8.ts workers.
 */
import { createHash } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { type Order, OrderSchema } from '@layer8/fixtures';
import { DevProvider, type SecurityProvider, TlsProvider } from '@layer8/security';
import {
  type CallOptions,
  type ServiceClient,
  ServiceManager,
  type StorageSpec,
  type WebExposure,
} from '@layer8/services';
import { type InstanceMode, VNic } from '@layer8/vnic';
import { nextTurn, serve, until } from './overlay-ipc.ts';
import type { Security } from './overlay-layer8.ts';
import { Driver } from './overlay-load.ts';
import { demoOrder, keyOf, orderRegistry, priorityPatch } from './services-order.ts';

/** What a load does per operation. */
export type Action = 'patch' | 'put' | 'get';

/** Arguments of the `load` operation. */
export interface LoadArgs {
  readonly name: string;
  readonly action: Action;
  /** Keys 1…keys, taken in turn. */
  readonly keys: number;
  readonly concurrency: number;
  /** How the client picks the instance; `local` calls this process's instance without the overlay. */
  readonly mode: InstanceMode;
}

/** What `digest` answers: the entities held and a hash of every `key@version/writer` (and bytes if `full`). */
export interface Digest {
  readonly size: number;
  readonly hash: string;
  /** When it was computed, ms since the epoch (high resolution). */
  readonly at: number;
}

/** Operations of a `local` lane between two turns of the event loop. */
const YIELD_EVERY = 32;
const driver = new Driver();
let services: ServiceManager | undefined;
/** When the last write or read of the load was acknowledged, ms since the epoch. */
let lastAckMs = 0;
/** Health events that took a node away (unreachable or removed) since this node started. */
let lost = 0;

function provider(s: Security): SecurityProvider {
  if (s.kind === 'tls') return new TlsProvider({ dir: s.dir, node: s.node });
  return new DevProvider({ passphrase: 'bench-passphrase', warn: () => {} });
}

function manager(): ServiceManager {
  if (services === undefined) throw new Error('no node in this process: call `node` first');
  return services;
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

async function startNode(a: { security: Security; path: string; alias: string }): Promise<string> {
  const vnic = new VNic({ provider: provider(a.security), vnet: { path: a.path }, alias: a.alias });
  await vnic.connect();
  services = new ServiceManager(vnic, { registry: orderRegistry() });
  vnic.health.onChange((e) => {
    if (e.type === 'unreachable' || e.type === 'removed') lost++;
  });
  return vnic.id;
}

/**
 * Activates Orders as `name` with `storage` (and `web`, published by gateways, when given); answers how
 * long activation (recovery included) took.
 */
async function activate(a: {
  name: string;
  storage: StorageSpec;
  web?: WebExposure;
}): Promise<{ ms: number; items: number }> {
  const t0 = performance.now();
  const web = a.web === undefined ? {} : { web: a.web };
  await manager().activate({ name: a.name, type: OrderSchema, storage: a.storage, ...web });
  const ms = performance.now() - t0;
  return { ms, items: manager().instance(a.name)?.cache.size ?? 0 };
}

function client(name: string): ServiceClient<Order> {
  return manager().client(name, 0, OrderSchema);
}

/** One operation of `a` on key number `i`. */
function operation(a: LoadArgs): (i: number) => Promise<unknown> {
  const c = client(a.name);
  const o: CallOptions = { mode: a.mode, timeoutMs: 30_000 };
  if (a.action === 'patch') return (i) => c.patch(priorityPatch(keyOf(i, a.keys), i & 0x7fffffff), o);
  if (a.action === 'put') return (i) => c.put(demoOrder(keyOf(i, a.keys)), o);
  return (i) => c.getByKey(keyOf(i, a.keys), o);
}

/**
 * Starts `a.concurrency` lanes of `a.action`, each taking the next key in turn. A `local` call settles
 * in microtasks only, so its lanes yield a turn every YIELD_EVERY operations to let IPC (mark, stop) in.
 */
function load(a: LoadArgs): void {
  const op = operation(a);
  let next = 0;
  const call = async (): Promise<void> => {
    await op(next++);
    lastAckMs = epochMs();
  };
  driver.requests(call, a.concurrency, a.mode === 'local' ? YIELD_EVERY : 0);
}

/**
 * Puts orders 1…count through this process's instance (`local`), `concurrency` in flight, each lane
 * yielding a turn after every put: in one microtask burst the VNic neither reads nor flushes its link,
 * the VNet drops the silent link after its heartbeat deadline and the notifications fail meanwhile.
 */
async function preload(a: { name: string; count: number; concurrency: number }): Promise<number> {
  const c = client(a.name);
  const t0 = performance.now();
  let next = 1;
  const lane = async (): Promise<void> => {
    while (next <= a.count) {
      await c.put(demoOrder(next++), { mode: 'local', timeoutMs: 60_000 });
      await nextTurn();
    }
  };
  await Promise.all(Array.from({ length: a.concurrency }, lane));
  return performance.now() - t0;
}

/** A hash of every held entity's key, version and writer (with its bytes when `full`), in key order. */
function digest(a: { name: string; full?: boolean }): Digest {
  const instance = manager().instance(a.name);
  if (instance === undefined) throw new Error(`${a.name} does not run here`);
  const h = createHash('sha256');
  for (const [k, held] of instance.cache.entries()) {
    h.update(`${k}@${held.version}/${held.writer}\n`);
    if (a.full === true) h.update(toBinary(OrderSchema, held.entity as Order));
  }
  return { size: instance.cache.size, hash: h.digest('hex'), at: epochMs() };
}

serve({
  node: startNode,
  activate,
  /** Waits until this node sees `count` instances of `name` in health. */
  wait: ({ name, count }: { name: string; count: number }) =>
    until(() => manager().vnic.health.instances(name, 0).length >= count, 20_000, `${count} × ${name}`),
  preload,
  load,
  digest,
  /** The service's counters, with `lost`: health events that took a node away (unreachable, removed). */
  counters: ({ name }: { name: string }) => ({
    ...manager()
      .services()
      .find((s) => s.name === name)?.counters,
    lost,
  }),
  mark: () => driver.mark(),
  stop: async () => ({ ...(await driver.stop()), lastAckMs }),
  close: async () => {
    await services?.close();
    await services?.vnic.close();
  },
});
