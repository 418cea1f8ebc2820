/**
 * The parent side of the scale benchmark's overlay: the overlay CA and node files, then V VNets, each
 * in its own process on 127.0.0.<2+i> with VNets 0..i-1 as static peers (a full mesh), and their VNics
 * in a few processes (the VNics of {@link VNETS_PER_HOST} VNets each) attached over the VNets' unix
 * sockets. One VNic of VNet 1 lives alone in a process of its own (the `victim`), so that it can crash
 * as a process does: the VNic API has no abrupt close (`close()` says goodbye). The setup is not
 * measured and goes one VNet, then one VNic process, at a time, so that the machine's two cores are not
 * flooded with handshakes and health deltas before the overlay even exists.
 */
import { initSecurity } from '@layer8/security';
import { script } from './ext.ts';
import { say } from './harness.ts';
import { sleep } from './overlay-ipc.ts';
import type { Child, Fleet } from './overlay-proc.ts';
import { forkAll, guarded } from './overlay-systems.ts';
import type { ScaleVNetAddress, ScaleVNetStatus } from './scale-vnet.ts';
import type { AttachArgs, VNicGroup, VNicsStatus } from './scale-vnics.ts';

/** VNets whose VNics share one VNic process. */
export const VNETS_PER_HOST = 4;
/** The VNet the victim VNic is attached to. */
export const VICTIM_VNET = 1;
const VNET_JS = script('scale-vnet');
const VNICS_JS = script('scale-vnics');
const POLL_MS = 250;
/** How long one step of the setup may take to converge before the size is given up, ms. */
const STEP_TIMEOUT_MS = 90_000;

/** What every size of the run shares. */
export interface ScaleEnv {
  readonly fleet: Fleet;
  /** The security directory (written once by {@link initScaleSecurity}). */
  readonly dir: string;
  /** The directory of the VNets' unix sockets. */
  readonly sockets: string;
  /** VNics per VNet. */
  readonly vnics: number;
  /** The heartbeat deadline given to every VNet and VNic; the product's default when absent. */
  readonly heartbeatMs?: number;
}

/** One VNet process of the overlay. */
export interface VNetProc {
  readonly index: number;
  readonly child: Child;
  readonly address: ScaleVNetAddress;
  /** False once the benchmark killed it. */
  alive: boolean;
}

/** A built overlay of `size` VNets. */
export interface ScaleOverlay {
  readonly size: number;
  readonly vnets: VNetProc[];
  /** The processes holding VNics (the victim's included while it lives). */
  readonly hosts: Child[];
  /** The process of the lone VNic of VNet {@link VICTIM_VNET}, and its node id. */
  victim: { readonly child: Child; readonly id: string };
  /** Records every health table should hold once the overlay is quiet. */
  expected: number;
  /** Every process started for this size. */
  readonly children: Child[];
}

/** The loopback address of VNet `i`. */
export function hostOf(i: number): string {
  return `127.0.0.${i + 2}`;
}

/** Writes an overlay CA with certificates for VNets 0..maxVNets (the last one joins) and one VNic name per VNet. */
export async function initScaleSecurity(dir: string, maxVNets: number): Promise<void> {
  const count = maxVNets + 1;
  const vnets = Array.from({ length: count }, (_, i) => `vnet-${i}`);
  const nodes = Array.from({ length: count }, (_, i) => `vnics-${i}`);
  const ips = Array.from({ length: count }, (_, i) => hostOf(i));
  await initSecurity({ dir, nodes, vnets, san: { dns: ['localhost'], ips } });
}

/** The unix socket of VNet `i` of an overlay of `size`. */
function socketOf(env: ScaleEnv, size: number, i: number): string {
  return `${env.sockets}/v${size}-${i}.sock`;
}

/** The arguments that start VNet `i` of an overlay of `size` with `peers` as its static peers. */
export function vnetArgs(env: ScaleEnv, size: number, i: number, peers: readonly ScaleVNetAddress[]): object {
  return {
    dir: env.dir,
    node: `vnet-${i}`,
    host: hostOf(i),
    socketPath: socketOf(env, size, i),
    peers: peers.map(({ host, port }) => ({ host, port })),
    ...(env.heartbeatMs === undefined ? {} : { heartbeatMs: env.heartbeatMs }),
  };
}

/** Forks the joining VNet's process (index `size`), ready to be started. */
export async function forkJoiner(env: ScaleEnv, o: ScaleOverlay): Promise<Child> {
  const [child] = await forkAll(env.fleet, o.children, VNET_JS, [`l8-vnet-${o.size}`]);
  return child as Child;
}

/** Builds the overlay of `size` VNets and resolves once every table holds all of its records. */
export function buildOverlay(env: ScaleEnv, size: number): Promise<ScaleOverlay> {
  return guarded(env.fleet, async (children) => {
    const hostCount = Math.ceil(size / VNETS_PER_HOST);
    const vnetRoles = Array.from({ length: size }, (_, i) => `l8-vnet-${i}`);
    const hostRoles = Array.from({ length: hostCount }, (_, h) => `l8-vnics-${h}`);
    const forked = await forkAll(env.fleet, children, VNET_JS, vnetRoles);
    const hosts = await forkAll(env.fleet, children, VNICS_JS, [...hostRoles, 'l8-vnic-victim']);
    const victimChild = hosts[hostCount] as Child;
    const vnets = await startVNets(env, size, forked);
    const o: ScaleOverlay = { size, vnets, hosts, victim: { child: victimChild, id: '' }, expected: size, children };
    say(`scale ${size}: ${children.length} processes up, ${size} VNets in a full mesh`);
    await converge(o, STEP_TIMEOUT_MS, false);
    o.victim = { child: victimChild, id: await attachVNics(env, o, hostCount) };
    return o;
  });
}

/**
 * Starts the VNets one at a time, each once the previous one is linked to all before it: the setup is
 * not measured, and a burst of hundreds of TLS handshakes on a shared 2-core machine only makes links
 * miss their deadlines before the overlay is even built.
 */
async function startVNets(env: ScaleEnv, size: number, forked: readonly Child[]): Promise<VNetProc[]> {
  const vnets: VNetProc[] = [];
  for (const [i, child] of forked.entries()) {
    const peers = vnets.map((v) => v.address);
    const address = await child.call<ScaleVNetAddress>('start', vnetArgs(env, size, i, peers));
    vnets.push({ index: i, child, address, alive: true });
    await linked(child, i, STEP_TIMEOUT_MS);
  }
  return vnets;
}

/** Waits until the VNet in `child` has `peers` peer links. @throws after `timeoutMs` */
async function linked(child: Child, peers: number, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while ((await child.call<ScaleVNetStatus>('status')).peers < peers) {
    if (performance.now() > end) throw new Error(`${child.role} has not linked to ${peers} peers in ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Attaches N VNics per VNet (one of VNet 1's in the victim process); answers the victim's node id. */
async function attachVNics(env: ScaleEnv, o: ScaleOverlay, hostCount: number): Promise<string> {
  const group = (i: number, count: number): VNicGroup => ({
    vnet: i,
    path: socketOf(env, o.size, i),
    node: `vnics-${i}`,
    count,
  });
  const args = (groups: VNicGroup[]): AttachArgs => ({
    dir: env.dir,
    groups,
    ...(env.heartbeatMs === undefined ? {} : { heartbeatMs: env.heartbeatMs }),
  });
  const t0 = performance.now();
  const victim = o.hosts[hostCount] as Child;
  const ids = await victim.call<Record<number, string[]>>('attach', args([group(VICTIM_VNET, 1)]));
  o.expected += 1;
  // one VNet's VNics at a time, each once every table holds the VNics before it: see startVNets
  for (let i = 0; i < o.size; i++) {
    const g = group(i, i === VICTIM_VNET ? env.vnics - 1 : env.vnics);
    await (o.hosts[Math.floor(i / VNETS_PER_HOST)] as Child).call('attach', args([g]), 120_000);
    o.expected += g.count;
    await converge(o, STEP_TIMEOUT_MS, true);
    if (i % 8 === 7) say(`scale ${o.size}: VNics of VNets 0-${i} attached and seen everywhere`);
  }
  say(`scale ${o.size}: ${o.size * env.vnics} VNics attached in ${Math.round(performance.now() - t0)} ms`);
  return ids[VICTIM_VNET]?.[0] as string;
}

/** The VNets still running. */
export function alive(o: ScaleOverlay): VNetProc[] {
  return o.vnets.filter((v) => v.alive);
}

/** One line on how far the tables are from `o.expected` (for progress and timeouts). */
interface Progress {
  readonly done: boolean;
  readonly line: string;
}

async function progress(o: ScaleOverlay, withVNics: boolean): Promise<Progress> {
  const vs = await Promise.all(alive(o).map((v) => v.child.call<ScaleVNetStatus>('status')));
  const hs = withVNics ? await Promise.all(o.hosts.map((h) => h.call<VNicsStatus>('status'))) : [];
  const withNics = hs.filter((h) => h.vnics > 0);
  const e = o.expected;
  const vnetsDone = vs.every((s) => s.size === e && s.up === e);
  const nicsDone = withNics.every((h) => h.minSize === e && h.maxSize === e && h.minUp === e);
  const sizes = vs.map((s) => s.size);
  const nicMin = Math.min(...withNics.map((h) => h.minUp));
  const nics = withVNics ? `, VNics min ${nicMin} up` : '';
  const closed = `links closed: ${sumOf(vs, (s) => s.closed.peer)} peer, ${sumOf(vs, (s) => s.closed.local)} local`;
  return {
    done: vnetsDone && nicsDone,
    line: `VNet tables ${Math.min(...sizes)}-${Math.max(...sizes)} of ${e}${nics}; ${closed}`,
  };
}

function sumOf<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0);
}

/**
 * Waits until every live VNet's table (and, `withVNics`, every VNic's) holds exactly `o.expected` records,
 * all `up`; answers the time it took, ms. @throws after `timeoutMs`, saying how far it got
 */
export async function converge(o: ScaleOverlay, timeoutMs: number, withVNics: boolean): Promise<number> {
  const t0 = performance.now();
  let lastSaid = t0;
  for (;;) {
    const p = await progress(o, withVNics);
    const now = performance.now();
    if (p.done) return now - t0;
    if (now - t0 > timeoutMs) throw new Error(`scale ${o.size}: not converged after ${timeoutMs} ms: ${p.line}`);
    if (now - lastSaid > 10_000) {
      say(`scale ${o.size}: ${p.line}`);
      lastSaid = now;
    }
    await sleep(POLL_MS);
  }
}
