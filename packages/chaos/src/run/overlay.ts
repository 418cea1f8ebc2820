import { l8error } from '@layer8/protocol';
import { initSecurity } from '@layer8/security';
import type { AgentConfig, AgentPush } from './agent-protocol.ts';
import { FaultProxy } from './fault-proxy.ts';
import { freePort, hostAddress, tempDir } from './ports.ts';
import { Prng } from './prng.ts';
import { Agent, type AgentExit } from './process-agent.ts';
import { StoreDisk } from './store-disk.ts';

/** Options of {@link ChaosOverlay.start}. */
export interface ChaosOverlayOptions {
  /** VNets, one per host: 127.0.0.2, 127.0.0.3, … */
  readonly vnets: number;
  /** VNic processes attached to each VNet over its unix socket. */
  readonly vnicsPerVnet: number;
  /** Heartbeat deadline of every link, ms. Default 1000. */
  readonly heartbeatMs?: number;
  /** Seed of the links' loss decisions. Default 1. */
  readonly seed?: number;
  /**
   * Also run the chaos store on host 0 on a tmpfs of its own, for `disk-full` faults (needs root: when
   * the tmpfs cannot be mounted, {@link ChaosOverlay.diskLeftOut} says why). Default false.
   */
  readonly diskFull?: boolean;
}

/** Listens to what every agent (every incarnation) of an overlay sends by itself (load batches). */
export type PushListener = (agent: Agent, push: AgentPush) => void;

/** One host: its VNet and the VNic processes attached to it (the current incarnation of each). */
export interface ChaosHost {
  readonly index: number;
  readonly address: string;
  vnet: Agent;
  readonly vnics: Agent[];
  /** The chaos store's process (`diskFull`, host 0): a VNic on this VNet that runs no load. */
  store?: Agent;
}

/** Default heartbeat deadline of a chaos overlay, ms. */
export const CHAOS_HEARTBEAT_MS = 1000;

/**
 * A real overlay for a chaos run: a temporary overlay CA with a VNet certificate per host and a VNic
 * certificate per process, one VNet process per host on its own loopback address (the TLS provider, in
 * a full mesh), VNic processes on each VNet's unix socket, and a {@link FaultProxy} on every peer link
 * (the VNet with the higher index dials the lower one through the proxy of their pair), so that a link can
 * be partitioned, delayed or made lossy. Processes are killed, stopped and restarted on their address.
 *
 * Invariants: `hosts[i].vnet` and `hosts[i].vnics[k]` are the current incarnations (a restart replaces
 * them); `#links` holds one proxy per pair of hosts, keyed `low-high`; `crashes` every exit that no kill
 * or stop of this overlay asked for, in order.
 */
export class ChaosOverlay {
  readonly hosts: ChaosHost[] = [];
  readonly heartbeatMs: number;
  /** Processes that exited by themselves (crashes), in order. */
  readonly crashes: AgentExit[] = [];
  /** The overlay CA's directory: certificates `vnet-<i>`, `vnic-<i>-<k>` and `intruder` (a VNic of this overlay in no host). */
  readonly securityDir: string;
  /** Another overlay's CA, with the VNic certificate `stranger`: what a hostile host holds. */
  readonly foreignDir: string;
  /** The file system under the chaos store (`diskFull`, mounted). */
  disk: StoreDisk | undefined;
  /** Why `diskFull` was asked and there is no store disk. */
  diskLeftOut: string | undefined;
  readonly #o: ChaosOverlayOptions;
  readonly #listeners = new Set<PushListener>();
  readonly #dir = tempDir('l8-chaos-');
  readonly #foreign = tempDir('l8-chaos-foreign-');
  readonly #addresses: { host: string; port: number }[] = [];
  readonly #links = new Map<string, FaultProxy>();
  readonly #configs = new Map<string, AgentConfig>();

  private constructor(o: ChaosOverlayOptions) {
    this.#o = o;
    this.heartbeatMs = o.heartbeatMs ?? CHAOS_HEARTBEAT_MS;
    this.securityDir = this.#dir.path;
    this.foreignDir = this.#foreign.path;
  }

  /** Starts the overlay; resolves once every process is up. @throws L8_ERR_CONNECT when a process cannot start */
  static async start(o: ChaosOverlayOptions): Promise<ChaosOverlay> {
    const overlay = new ChaosOverlay(o);
    try {
      await overlay.#start();
    } catch (err) {
      await overlay.close();
      throw err;
    }
    return overlay;
  }

  /** Adds a listener of agents' pushes; returns the function that removes it. */
  onPush(listener: PushListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The proxy on the link between hosts `a` and `b`. @throws L8_ERR_INVALID_ARGUMENT for a pair without a link */
  link(a: number, b: number): FaultProxy {
    const proxy = this.#links.get(`${Math.min(a, b)}-${Math.max(a, b)}`);
    if (proxy === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `no link between hosts ${a} and ${b}`);
    return proxy;
  }

  /** Where the VNet of host `i` listens: its unix socket and its TCP address. */
  addressesOf(i: number): { unix: string; tcp: { host: string; port: number } } {
    const tcp = this.#addresses[i];
    if (tcp === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `no host ${i}`);
    return { unix: `${this.#dir.path}/vnet-${i}.sock`, tcp };
  }

  /** Every proxy. */
  links(): FaultProxy[] {
    return [...this.#links.values()];
  }

  /** Every VNic process (current incarnations). */
  vnics(): Agent[] {
    return this.hosts.flatMap((h) => h.vnics);
  }

  /** Every process (current incarnations), VNets first, the chaos store's last. */
  agents(): Agent[] {
    const stores = this.hosts.flatMap((h) => (h.store === undefined ? [] : [h.store]));
    return [...this.hosts.map((h) => h.vnet), ...this.vnics(), ...stores];
  }

  /** Starts a new incarnation of the VNet of host `i` (after a kill) on the same address and socket. */
  async restartVNet(i: number): Promise<Agent> {
    const host = this.#host(i);
    host.vnet = await this.#agent(`vnet-${i}`);
    return host.vnet;
  }

  /** Starts a new incarnation of VNic `k` of host `i` (after a kill). */
  async restartVNic(i: number, k: number): Promise<Agent> {
    const host = this.#host(i);
    const agent = await this.#agent(`vnic-${i}-${k}`);
    host.vnics[k] = agent;
    return agent;
  }

  /** Stops every process and proxy and removes the overlay's files (idempotent). */
  async close(): Promise<void> {
    await Promise.all(this.vnics().map((a) => a.stop()));
    await this.hosts[0]?.store?.stop();
    this.disk?.close();
    this.disk = undefined;
    await Promise.all(this.hosts.map((h) => h.vnet.stop()));
    await Promise.all(this.links().map((p) => p.close()));
    this.#links.clear();
    this.#dir.remove();
    this.#foreign.remove();
  }

  async #start(): Promise<void> {
    const { vnets, vnicsPerVnet } = this.#o;
    const vnetNames = Array.from({ length: vnets }, (_, i) => `vnet-${i}`);
    const vnicNames = vnetNames.flatMap((_, i) => Array.from({ length: vnicsPerVnet }, (_, k) => `vnic-${i}-${k}`));
    await initSecurity({ dir: this.#dir.path, vnets: vnetNames, nodes: [...vnicNames, 'intruder', 'store'] });
    await initSecurity({ dir: this.#foreign.path, vnets: [], nodes: ['stranger'] });
    const ports = await Promise.all(vnetNames.map((_, i) => freePort(hostAddress(i))));
    this.#addresses.push(...ports.map((port, i) => ({ host: hostAddress(i), port })));
    const prng = new Prng(this.#o.seed ?? 1);
    for (let i = 0; i < vnets; i++) await this.#configureHost(i, ports, prng);
    const started = await Promise.all(vnetNames.map((name) => this.#agent(name)));
    started.forEach((vnet, i) => {
      this.hosts.push({ index: i, address: hostAddress(i), vnet, vnics: [] });
    });
    const nics = await Promise.all(vnicNames.map((name) => this.#agent(name)));
    for (const [n, agent] of nics.entries()) this.#host(Math.floor(n / vnicsPerVnet)).vnics.push(agent);
    if (this.#o.diskFull === true) await this.#startStore();
  }

  /** Mounts the store's tmpfs and starts the store's process on host 0, or notes why it cannot. */
  async #startStore(): Promise<void> {
    const mounted = StoreDisk.mount();
    if ('why' in mounted) {
      this.diskLeftOut = mounted.why;
      return;
    }
    this.disk = mounted.disk;
    const socketPath = `${this.#dir.path}/vnet-0.sock`;
    const common = { heartbeatMs: this.heartbeatMs, tls: this.#tls('store') };
    this.#configs.set('store', {
      role: 'vnic',
      alias: 'store',
      socketPath,
      ...common,
      store: { dir: mounted.disk.dataDir },
    });
    this.#host(0).store = await this.#agent('store');
  }

  /** Writes the configs of host `i`'s VNet and VNics; its VNet dials every lower host through a new proxy. */
  async #configureHost(i: number, ports: readonly number[], prng: Prng): Promise<void> {
    const host = hostAddress(i);
    const peers: { host: string; port: number }[] = [];
    for (let j = 0; j < i; j++) {
      const proxy = new FaultProxy({ host: hostAddress(j), port: ports[j] as number }, { random: () => prng.next() });
      this.#links.set(`${j}-${i}`, proxy);
      peers.push(await proxy.listen(host));
    }
    const socketPath = `${this.#dir.path}/vnet-${i}.sock`;
    const common = { heartbeatMs: this.heartbeatMs };
    const port = ports[i] as number;
    this.#configs.set(`vnet-${i}`, {
      role: 'vnet',
      alias: `vnet-${i}`,
      host,
      port,
      socketPath,
      peers,
      ...common,
      tls: this.#tls(`vnet-${i}`),
    });
    for (let k = 0; k < this.#o.vnicsPerVnet; k++) {
      const alias = `vnic-${i}-${k}`;
      this.#configs.set(alias, { role: 'vnic', alias, socketPath, ...common, tls: this.#tls(alias) });
    }
  }

  #tls(node: string): { dir: string; node: string } {
    return { dir: this.#dir.path, node };
  }

  async #agent(name: string): Promise<Agent> {
    const config = this.#configs.get(name) as AgentConfig;
    const agent: Agent = new Agent(config, {
      stderr: 'capture',
      onPush: (push) => {
        for (const l of this.#listeners) l(agent, push);
      },
      onExit: (exit) => void (exit.expected || this.crashes.push(exit)),
    });
    return agent.start();
  }

  /** @throws L8_ERR_INVALID_ARGUMENT for an index without a host */
  #host(i: number): ChaosHost {
    const host = this.hosts[i];
    if (host === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `no host ${i}`);
    return host;
  }
}
