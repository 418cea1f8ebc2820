/**
 * Setups of the overlay benchmark, one process per component: for each system a request/stream pair
 * (requester and responder, plus the VNet(s) between them) and a 1 → 9 fan-out; also nats-server, for the
 * NATS systems (bench/lib/overlay-nats-systems.ts) and the services benchmark.
 * Every setup stops the processes it started when it fails half-way.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '@layer8/testkit';
import { script } from './ext.ts';
import { sleep } from './overlay-ipc.ts';
import type { Role, Security } from './overlay-layer8.ts';
import type { MolNode } from './overlay-moleculer.ts';
import type { Observe } from './overlay-observe.ts';
import type { Child, Fleet } from './overlay-proc.ts';

/** A requester and a responder (which also sinks the one-way stream), and whatever sits between them. */
export interface Pair {
  readonly children: readonly Child[];
  /** Every process of the case (children and nats-server). */
  readonly pids: readonly number[];
  readonly requester: Child;
  readonly responder: Child;
  /** Starts `concurrency` request loops in the requester. */
  requests(concurrency: number): Promise<unknown>;
  /** Starts the one-way stream from requester to responder. */
  stream(): Promise<unknown>;
}

/** One publisher and nine subscribers. */
export interface Fanout {
  readonly children: readonly Child[];
  readonly pids: readonly number[];
  readonly publisher: Child;
  readonly sinks: readonly Child[];
  publish(): Promise<unknown>;
}

/** Where Layer8 processes find their security material. */
export interface L8Security {
  readonly kind: 'dev' | 'tls';
  /** The security directory (tls) and the directory for unix sockets. */
  readonly dir: string;
  /** Observability every Layer8 process turns on; none when absent. */
  readonly observe?: Observe;
  /** VNics attach to their VNet over TCP loopback (as the peers' clients do) instead of its unix socket. */
  readonly tcp?: boolean;
  /** Names this setup's unix sockets apart from the others' running at the same time. */
  readonly lane?: string;
}

const L8 = script('overlay-layer8');
const MOL = script('overlay-moleculer');
/** Where Debian's nats-server package installs the server. */
export const NATS_SERVER = '/usr/sbin/nats-server';

/** Forks `roles` in parallel into `into`, so that a later failure can stop them too. */
export async function forkAll(fleet: Fleet, into: Child[], script: string, roles: readonly string[]): Promise<Child[]> {
  const forked = await Promise.all(roles.map((r) => fleet.fork(script, r)));
  into.push(...forked);
  return forked;
}

/** Runs `build` and stops every child it forked if it throws. */
export async function guarded<T>(fleet: Fleet, build: (children: Child[]) => Promise<T>): Promise<T> {
  const children: Child[] = [];
  try {
    return await build(children);
  } catch (err) {
    await fleet.stop(children);
    throw err;
  }
}

function l8sec(s: L8Security, node: string): Security {
  return s.kind === 'tls' ? { kind: 'tls', dir: s.dir, node } : { kind: 'dev' };
}

/** Starts a VNet in `child` on `host`; resolves with its TCP address. */
function l8vnet(
  child: Child,
  s: L8Security,
  i: number,
  peers: readonly object[],
): Promise<{ host: string; port: number }> {
  const args = {
    security: l8sec(s, `vnet-${i}`),
    host: `127.0.0.${i + 2}`,
    socketPath: l8sock(s, i),
    peers,
    observe: s.observe,
  };
  return child.call('vnet', args);
}

function l8sock(s: L8Security, i: number): string {
  return `${s.dir}/vnet-${i}${s.lane ?? ''}.sock`;
}

/** Attaches `count` VNics in `child` to VNet `i` (over TCP to `at` when `s.tcp`); resolves with their node ids. */
function l8vnics(
  child: Child,
  s: L8Security,
  i: number,
  node: string,
  count: number,
  services: Record<string, Role>,
  at?: { host: string; port: number },
): Promise<string[]> {
  const tcp = s.tcp === true && at !== undefined ? { tcp: at } : {};
  const args = {
    security: l8sec(s, node),
    path: l8sock(s, i),
    count,
    alias: node,
    services,
    observe: s.observe,
    ...tcp,
  };
  return child.call('vnics', args, 60_000);
}

/** VNet(s), a responder VNic (echo + stream sink) and a requester VNic; `cross` puts them on two VNets. */
export function layer8Pair(fleet: Fleet, s: L8Security, cross: boolean): Promise<Pair> {
  return guarded(fleet, async (children) => {
    const roles = cross ? ['l8-vnet-a', 'l8-vnet-b'] : ['l8-vnet'];
    const vnets = await forkAll(fleet, children, L8, roles);
    const [responder, requester] = await forkAll(fleet, children, L8, ['l8-responder', 'l8-requester']);
    if (responder === undefined || requester === undefined) throw new Error('fork failed');
    const a = await l8vnet(vnets[0] as Child, s, 0, []);
    const b = cross ? await l8vnet(vnets[1] as Child, s, 1, [a]) : a;
    const [sinkId] = await l8vnics(responder, s, cross ? 1 : 0, 'resp', 1, { echo: 'echo', st: 'sink' }, b);
    await l8vnics(requester, s, 0, 'req', 1, {}, a);
    await requester.call('wait', { service: 'echo', count: 1 });
    return pairOf(children, [], requester, responder, {
      requests: (concurrency) => requester.call('requests', { service: 'echo', concurrency }),
      stream: () => requester.call('unicast', { node: sinkId, service: 'st' }),
    });
  });
}

/** Three VNets in a full mesh, 3 × 3 subscriber VNics (one process per VNet), a publisher on VNet 0. */
export function layer8Fanout(fleet: Fleet, s: L8Security): Promise<Fanout> {
  return guarded(fleet, async (children) => {
    const vnets = await forkAll(fleet, children, L8, ['l8-vnet-0', 'l8-vnet-1', 'l8-vnet-2']);
    const addrs: object[] = [];
    for (const [i, v] of vnets.entries()) addrs.push(await l8vnet(v, s, i, [...addrs]));
    const sinks = await forkAll(fleet, children, L8, ['l8-subs-0', 'l8-subs-1', 'l8-subs-2']);
    await Promise.all(sinks.map((c, i) => l8vnics(c, s, i, `subs-${i}`, 3, { mc: 'sink' })));
    const [publisher] = await forkAll(fleet, children, L8, ['l8-publisher']);
    await l8vnics(publisher as Child, s, 0, 'pub', 1, {});
    await (publisher as Child).call('wait', { service: 'mc', count: 9 });
    return fanoutOf(children, [], publisher as Child, sinks, () =>
      (publisher as Child).call('multicast', { service: 'mc' }),
    );
  });
}

/** A pair over `children` (and `others`, processes not forked by the fleet, such as nats-server). */
export function pairOf(
  children: readonly Child[],
  others: readonly number[],
  requester: Child,
  responder: Child,
  load: Pick<Pair, 'requests' | 'stream'>,
): Pair {
  return { children, pids: [...children.map((c) => c.pid), ...others], requester, responder, ...load };
}

/** A fan-out over `children` (and `others`, processes not forked by the fleet, such as nats-server). */
export function fanoutOf(
  children: readonly Child[],
  others: readonly number[],
  publisher: Child,
  sinks: readonly Child[],
  publish: () => Promise<unknown>,
): Fanout {
  return { children, pids: [...children.map((c) => c.pid), ...others], publisher, sinks, publish };
}

/** One VNet with `processes` × `perProcess` echo VNics attached over the unix socket. */
export function layer8Swarm(
  fleet: Fleet,
  s: L8Security,
  processes: number,
  perProcess: number,
): Promise<{ children: Child[]; vnet: Child; vnics: Child[] }> {
  return guarded(fleet, async (children) => {
    const [vnet] = await forkAll(fleet, children, L8, ['l8-vnet-100']);
    await l8vnet(vnet as Child, s, 0, []);
    const roles = Array.from({ length: processes }, (_, i) => `l8-vnics-${i}`);
    const vnics = await forkAll(fleet, children, L8, roles);
    await Promise.all(vnics.map((c, i) => l8vnics(c, s, 0, `swarm-${i}`, perProcess, { echo: 'echo' })));
    const total = processes * perProcess;
    await Promise.all(vnics.map((c) => c.call('wait', { service: 'echo', count: total }, 60_000)));
    return { children, vnet: vnet as Child, vnics };
  });
}

async function molNodes(ids: readonly string[]): Promise<MolNode[]> {
  const out: MolNode[] = [];
  for (const id of ids) out.push({ id, port: await freePort() });
  return out;
}

/** Two brokers in two processes over the TCP transporter: requester, and responder (echo + sink). */
export function moleculerPair(fleet: Fleet, serializer: 'JSON' | 'CBOR' = 'JSON'): Promise<Pair> {
  return guarded(fleet, async (children) => {
    const all = await molNodes(['req', 'resp']);
    const [requester, responder] = await forkAll(fleet, children, MOL, ['mol-requester', 'mol-responder']);
    if (responder === undefined || requester === undefined) throw new Error('fork failed');
    await Promise.all([
      responder.call('brokers', { nodes: [all[1]], all, services: ['echo', 'sink'], serializer }),
      requester.call('brokers', { nodes: [all[0]], all, services: [], serializer }),
    ]);
    await requester.call('wait', { services: ['echo', 'sink'], nodes: 1 });
    return pairOf(children, [], requester, responder, {
      requests: (concurrency) => requester.call('requests', { concurrency }),
      stream: () => requester.call('emit'),
    });
  });
}

/** A publisher broker and nine subscriber brokers, three per process; `broadcast` reaches all nine. */
export function moleculerFanout(fleet: Fleet, serializer: 'JSON' | 'CBOR' = 'JSON'): Promise<Fanout> {
  return guarded(fleet, async (children) => {
    const all = await molNodes(['pub', ...Array.from({ length: 9 }, (_, i) => `sub-${i}`)]);
    const [publisher, ...sinks] = await forkAll(fleet, children, MOL, [
      'mol-pub',
      'mol-subs-0',
      'mol-subs-1',
      'mol-subs-2',
    ]);
    await Promise.all([
      (publisher as Child).call('brokers', { nodes: [all[0]], all, services: [], serializer }),
      ...sinks.map((c, i) =>
        c.call('brokers', { nodes: all.slice(1 + 3 * i, 4 + 3 * i), all, services: ['sink'], serializer }),
      ),
    ]);
    await (publisher as Child).call('wait', { services: ['sink'], nodes: 9 });
    return fanoutOf(children, [], publisher as Child, sinks, () => (publisher as Child).call('broadcast'));
  });
}

/** A running nats-server. */
export interface NatsServer {
  readonly port: number;
  readonly pid: number;
  readonly version: string;
}

/**
 * Starts nats-server on 127.0.0.1 and a free port, with `extra` arguments (`['-js', '-sd', dir]` for
 * JetStream); resolves once it accepts connections.
 */
export async function startNatsServer(fleet: Fleet, extra: readonly string[] = []): Promise<NatsServer> {
  const version = execFileSync(NATS_SERVER, ['--version'], { encoding: 'utf8' }).trim();
  const port = await freePort();
  const args = ['-a', '127.0.0.1', '-p', String(port), ...extra];
  const proc: ChildProcess = spawn(NATS_SERVER, args, { stdio: 'ignore' });
  fleet.adopt(proc);
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await sleep(25);
  return { port, pid: proc.pid as number, version };
}

/** Whether nats-server is installed where Debian puts it. */
export function natsInstalled(): boolean {
  return existsSync(NATS_SERVER);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
