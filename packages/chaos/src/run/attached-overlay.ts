import { randomBytes } from 'node:crypto';
import { l8error } from '@layer8/protocol';
import { DevProvider, initSecurity, type SecurityProvider, TlsProvider } from '@layer8/security';
import type { AgentConfig, AgentSecurity } from './agent-protocol.ts';
import { FaultProxy } from './fault-proxy.ts';
import type { PushListener } from './overlay.ts';
import { tempDir } from './ports.ts';
import { Prng } from './prng.ts';
import { Agent, type AgentExit } from './process-agent.ts';

/** Options of {@link AttachedOverlay.start}. */
export interface AttachedOptions {
  /** The running VNets' TCP addresses. */
  readonly vnets: readonly { readonly host: string; readonly port: number }[];
  /**
   * Their unix sockets, one per VNet in the same order: the VNic processes attach there instead of over
   * TCP (then no fault can be put on their links: a proxy stands on TCP only).
   */
  readonly sockets?: readonly string[];
  /** VNic processes the run starts per VNet. */
  readonly vnicsPerVnet: number;
  /** How they prove membership: a node bundle (a VNic certificate) or the dev passphrase. */
  readonly security: AgentSecurity;
  /** Their heartbeat deadline, ms (give the VNets' own). Default 3000. */
  readonly heartbeatMs?: number;
  /** Seed of the proxies' loss decisions. Default 1. */
  readonly seed?: number;
  /** Where the proxies listen. Default 127.0.0.1. */
  readonly proxyHost?: string;
}

/** One running VNet and the VNic processes the run attached to it (current incarnations). */
export interface AttachedHost {
  readonly index: number;
  /** The VNet's TCP address. */
  readonly tcp: { readonly host: string; readonly port: number };
  /** Its node id, as its VNics were told when they linked. */
  vnetId: string;
  readonly vnics: Agent[];
}

/** The heartbeat deadline of a VNet started with the defaults, ms. */
const DEFAULT_HEARTBEAT_MS = 3000;

/**
 * A chaos run's own processes on an overlay that runs already: VNic processes attached to the given
 * VNets, each over TCP through a {@link FaultProxy} of its own placed in front of its VNet's port (so
 * that its link can be partitioned, delayed or made lossy), or over the VNet's unix socket. Only the
 * processes and proxies it started are ever killed, stopped or closed: the VNets and every other node of
 * the overlay are left alone.
 *
 * Invariants: `hosts[i].vnics[k]` is the current incarnation (a restart replaces it); `#proxies` holds one
 * proxy per VNic slot, keyed `i-k`, when `via` is `tcp`; `crashes` every exit of an agent that no kill or
 * stop of this overlay asked for.
 */
export class AttachedOverlay {
  readonly hosts: AttachedHost[] = [];
  readonly heartbeatMs: number;
  readonly crashes: AgentExit[] = [];
  readonly via: 'tcp' | 'unix';
  /** A node of another overlay (another CA, or another passphrase): what a hostile host holds. */
  foreignProvider: SecurityProvider | undefined;
  readonly #o: AttachedOptions;
  readonly #listeners = new Set<PushListener>();
  readonly #proxies = new Map<string, { proxy: FaultProxy; address: { host: string; port: number } }>();
  readonly #foreign = tempDir('l8-chaos-foreign-');

  private constructor(o: AttachedOptions) {
    this.#o = o;
    this.heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.via = o.sockets === undefined ? 'tcp' : 'unix';
  }

  /**
   * Starts the VNic processes and resolves once each is linked to its VNet.
   * @throws L8_ERR_INVALID_ARGUMENT for sockets that do not pair with the VNets; L8_ERR_CONNECT when a VNic cannot join
   */
  static async start(o: AttachedOptions): Promise<AttachedOverlay> {
    if (o.sockets !== undefined && o.sockets.length !== o.vnets.length)
      throw l8error(
        'L8_ERR_INVALID_ARGUMENT',
        `${o.sockets.length} sockets for ${o.vnets.length} VNets: give one per VNet`,
      );
    if (o.vnets.length === 0 || o.vnets.length * o.vnicsPerVnet < 2)
      throw l8error('L8_ERR_INVALID_ARGUMENT', 'a run needs a VNet and 2 VNics at least (one sees the other)');
    const overlay = new AttachedOverlay(o);
    try {
      await overlay.#start();
    } catch (err) {
      await overlay.close();
      throw err;
    }
    return overlay;
  }

  /** The VNets' addresses, `host:port`. */
  get addresses(): string[] {
    return this.#o.vnets.map((v) => `${v.host}:${v.port}`);
  }

  /** Adds a listener of agents' pushes; returns the function that removes it. */
  onPush(listener: PushListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The proxy on the link of VNic `k` of host `i` to its VNet. @throws L8_ERR_INVALID_ARGUMENT over unix sockets */
  proxy(i: number, k: number): FaultProxy {
    return this.#slot(i, k).proxy;
  }

  #slot(i: number, k: number): { proxy: FaultProxy; address: { host: string; port: number } } {
    const p = this.#proxies.get(`${i}-${k}`);
    if (p === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `no proxy for VNic ${k} of VNet ${i}`);
    return p;
  }

  /** Every VNic process (current incarnations). */
  vnics(): Agent[] {
    return this.hosts.flatMap((h) => h.vnics);
  }

  /** Every process of the run: its VNics (the VNets are not its own). */
  agents(): Agent[] {
    return this.vnics();
  }

  /** Starts a new incarnation of VNic `k` of host `i` (after a kill), through the same proxy. */
  async restartVNic(i: number, k: number): Promise<Agent> {
    const host = this.hosts[i];
    if (host === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `no VNet ${i}`);
    const agent = await this.#agent(this.#config(i, k));
    host.vnics[k] = agent;
    return agent;
  }

  /** Stops the run's processes and proxies and removes its files (idempotent); the VNets keep running. */
  async close(): Promise<void> {
    await Promise.all(this.vnics().map((a) => a.stop()));
    await Promise.all([...this.#proxies.values()].map((p) => p.proxy.close()));
    this.#proxies.clear();
    this.#foreign.remove();
  }

  async #start(): Promise<void> {
    this.foreignProvider = await this.#foreignNode();
    const prng = new Prng(this.#o.seed ?? 1);
    for (const [i, tcp] of this.#o.vnets.entries()) {
      this.hosts.push({ index: i, tcp, vnetId: '', vnics: [] });
      if (this.via === 'tcp') await this.#proxiesOf(i, prng);
    }
    const started = await Promise.all(this.hosts.flatMap((h) => this.#slots(h.index)));
    for (const [n, agent] of started.entries()) this.hosts[Math.floor(n / this.#o.vnicsPerVnet)]?.vnics.push(agent);
    for (const h of this.hosts) h.vnetId = await vnetOf(h.vnics[0] as Agent);
  }

  #slots(i: number): Promise<Agent>[] {
    return Array.from({ length: this.#o.vnicsPerVnet }, (_, k) => this.#agent(this.#config(i, k)));
  }

  async #proxiesOf(i: number, prng: Prng): Promise<void> {
    for (let k = 0; k < this.#o.vnicsPerVnet; k++) {
      const proxy = new FaultProxy(this.#o.vnets[i] as { host: string; port: number }, { random: () => prng.next() });
      const address = await proxy.listen(this.#o.proxyHost ?? '127.0.0.1');
      this.#proxies.set(`${i}-${k}`, { proxy, address });
    }
  }

  #config(i: number, k: number): AgentConfig {
    const common = {
      role: 'vnic' as const,
      alias: `chaos-vnic-${i}-${k}`,
      heartbeatMs: this.heartbeatMs,
      // the run's own VNics redial fast: a recovery measures the overlay, not a back-off of 5 s
      reconnect: { firstMs: 100, maxMs: 1000 },
      ...this.#o.security,
    };
    const socket = this.#o.sockets?.[i];
    if (socket !== undefined) return { ...common, socketPath: socket };
    return { ...common, vnetTcp: this.#slot(i, k).address };
  }

  async #foreignNode(): Promise<SecurityProvider> {
    if (this.#o.security.tls === undefined)
      return new DevProvider({ passphrase: randomBytes(16).toString('hex'), warn: () => undefined });
    await initSecurity({ dir: this.#foreign.path, vnets: [], nodes: ['stranger'] });
    return new TlsProvider({ dir: this.#foreign.path, node: 'stranger' });
  }

  async #agent(config: AgentConfig): Promise<Agent> {
    const agent: Agent = new Agent(config, {
      stderr: 'capture',
      onPush: (push) => {
        for (const l of this.#listeners) l(agent, push);
      },
      onExit: (exit) => void (exit.expected || this.crashes.push(exit)),
    });
    return agent.start();
  }
}

/** The id of the VNet an agent's VNic is linked to. */
async function vnetOf(agent: Agent): Promise<string> {
  const s = await agent.call<{ state: string; vnet: string }>('state');
  return s.vnet;
}
