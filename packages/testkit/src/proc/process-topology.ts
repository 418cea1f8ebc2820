import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fromWire, l8error } from '@layer8/protocol';
import { freePort, hostAddress, tempDir } from '../ports.ts';
import { withDeadline } from '../wait.ts';
import type { AgentAnswer, AgentConfig, AgentReady } from './agent-protocol.ts';

const AGENT = fileURLToPath(new URL('./agent.ts', import.meta.url));

/** One running agent process: a VNet or a VNic. */
export class Agent {
  readonly config: AgentConfig;
  nodeId = '';
  #child: ChildProcess | undefined;
  #next = 1;
  readonly #waiting = new Map<number, (a: AgentAnswer) => void>();

  constructor(config: AgentConfig) {
    this.config = config;
  }

  /** The OS process id. */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Starts the process and resolves when it is ready (deadline `timeoutMs`). */
  async start(timeoutMs = 30_000): Promise<this> {
    const child = fork(AGENT, [JSON.stringify(this.config)], {
      execArgv: ['--conditions=source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child = child;
    child.on('message', (m) => this.#onMessage(m as AgentAnswer | AgentReady));
    const ready = new Promise<AgentReady>((resolve, reject) => {
      this.#waiting.set(0, (a) => resolve(a as unknown as AgentReady));
      child.once('exit', (code) => reject(l8error('L8_ERR_CONNECT', `agent ${this.config.alias} exited with ${code}`)));
    });
    this.nodeId = (await withDeadline(ready, timeoutMs, `agent ${this.config.alias} start`)).nodeId;
    return this;
  }

  /** Sends a command and resolves with its value; an agent-side L8Error is rebuilt here. */
  async call<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    const id = this.#next++;
    const answer = new Promise<AgentAnswer>((resolve) => this.#waiting.set(id, resolve));
    this.#child?.send({ id, cmd, args });
    const a = await withDeadline(answer, timeoutMs, `agent ${this.config.alias} ${cmd}`);
    if (!a.ok) throw fromWire({ code: a.error?.code ?? 'L8_ERR_INTERNAL', message: a.error?.message ?? '' });
    return a.value as T;
  }

  /** Kills the process with SIGKILL and waits for its exit. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the process gracefully (disconnect), falling back to SIGKILL after 3 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  #onMessage(m: AgentAnswer | AgentReady): void {
    const id = 'ready' in m ? 0 : m.id;
    const w = this.#waiting.get(id);
    this.#waiting.delete(id);
    w?.(m as AgentAnswer);
  }
}

/** Options of {@link startProcessTopology}. */
export interface ProcessTopologyOptions {
  readonly vnets: number;
  readonly vnicsPerVnet: number;
  readonly passphrase: string;
  readonly heartbeatMs?: number;
  readonly maxFrame?: number;
}

/** VNets and VNics in separate processes, VNets on 127.0.0.2, .3, … in a full mesh. */
export interface ProcessTopology {
  readonly vnets: Agent[];
  readonly vnics: Agent[][];
  /** Restarts VNet `i` on the same address and socket (after a kill). */
  restartVNet(i: number): Promise<Agent>;
  close(): Promise<void>;
}

/** Starts a {@link ProcessTopology}; VNet ports are chosen free beforehand so a restart can reuse them. */
export async function startProcessTopology(o: ProcessTopologyOptions): Promise<ProcessTopology> {
  const dir = tempDir('l8-proc-');
  const hb = o.heartbeatMs ?? 1000;
  const configs: Extract<AgentConfig, { role: 'vnet' }>[] = [];
  for (let i = 0; i < o.vnets; i++) {
    const host = hostAddress(i);
    const peers = configs.map((c) => ({ host: c.host, port: c.port }));
    const base = {
      role: 'vnet',
      alias: `vnet-${i}`,
      host,
      port: await freePort(host),
      socketPath: `${dir.path}/vnet-${i}.sock`,
    } as const;
    configs.push({
      ...base,
      peers,
      passphrase: o.passphrase,
      heartbeatMs: hb,
      ...(o.maxFrame === undefined ? {} : { maxFrame: o.maxFrame }),
    });
  }
  const vnets = await Promise.all(configs.map((c) => new Agent(c).start()));
  const vnics = await Promise.all(
    configs.map((c, i) =>
      Promise.all(
        Array.from({ length: o.vnicsPerVnet }, (_, j) =>
          new Agent({
            role: 'vnic',
            alias: `vnic-${i}-${j}`,
            socketPath: c.socketPath,
            passphrase: o.passphrase,
            heartbeatMs: hb,
          }).start(),
        ),
      ),
    ),
  );
  return {
    vnets,
    vnics,
    restartVNet: async (i) => {
      vnets[i] = await new Agent(configs[i] as AgentConfig).start();
      return vnets[i];
    },
    close: async () => {
      await Promise.all([...vnics.flat(), ...vnets].map((a) => a.stop()));
      dir.remove();
    },
  };
}
