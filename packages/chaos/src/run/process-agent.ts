import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fromWire, l8error } from '@layer8/protocol';
import {
  type AgentAnswer,
  type AgentConfig,
  type AgentPush,
  type AgentReady,
  PASSPHRASE_ENV,
} from './agent-protocol.ts';
import { withDeadline } from './deadline.ts';

/** The agent entry point next to this file: `agent.ts` under the source condition, `agent.js` when built. */
const SOURCE = import.meta.url.endsWith('.ts');
const AGENT = fileURLToPath(new URL(SOURCE ? './agent.ts' : './agent.js', import.meta.url));
/** Source files run through tsx, as the controller itself does; built files on plain node. */
const EXEC_ARGV = SOURCE ? ['--conditions=source', '--import', 'tsx'] : [];
/** Bytes of an agent's stderr kept for a crash report. */
const STDERR_TAIL = 4096;

/** How an agent process ended. `expected` is false for a crash: an exit no kill or stop asked for. */
export interface AgentExit {
  readonly alias: string;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly expected: boolean;
  /** The end of its stderr (only when started with `stderr: 'capture'`). */
  readonly stderr: string;
}

/** Options of {@link Agent}. */
export interface AgentOptions {
  /** `inherit` (default) shows the agent's stderr; `capture` keeps its tail for {@link AgentExit}. */
  readonly stderr?: 'inherit' | 'capture';
  /** Called with every message the agent sends by itself. */
  readonly onPush?: (push: AgentPush) => void;
  /** Called once when the process exits. */
  readonly onExit?: (exit: AgentExit) => void;
}

/**
 * One running agent process: a VNet or a VNic (agent.ts), driven over IPC. A new `Agent` is one
 * incarnation: restarting a killed node makes a new one with the same config.
 *
 * Invariants: `#waiting` holds the callers of commands not yet answered (key 0 is the ready message);
 * `#expected` is set before every kill or stop this object makes, so an exit without it is a crash.
 */
export class Agent {
  readonly config: AgentConfig;
  nodeId = '';
  /** When the agent said it was up (epoch ms, the agent's clock). */
  readyAt = 0;
  #child: ChildProcess | undefined;
  #next = 1;
  #expected = false;
  #stderr = '';
  readonly #options: AgentOptions;
  readonly #waiting = new Map<number, (a: AgentAnswer) => void>();

  constructor(config: AgentConfig, options: AgentOptions = {}) {
    this.config = config;
    this.#options = options;
  }

  /** This incarnation's name in reports: alias and process id. */
  get key(): string {
    return `${this.config.alias}#${this.pid}`;
  }

  /** The OS process id. */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Whether the process is running (a stopped process still runs). */
  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts the process and resolves when it is ready (deadline `timeoutMs`). @throws L8_ERR_CONNECT, L8_ERR_TIMEOUT */
  async start(timeoutMs = 30_000): Promise<this> {
    const capture = this.#options.stderr === 'capture';
    const { passphrase, ...config } = this.config;
    const child = fork(AGENT, [JSON.stringify(config)], {
      execArgv: EXEC_ARGV,
      stdio: ['ignore', 'ignore', capture ? 'pipe' : 'inherit', 'ipc'],
      env: passphrase === undefined ? process.env : { ...process.env, [PASSPHRASE_ENV]: passphrase },
    });
    this.#child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-STDERR_TAIL);
    });
    child.on('message', (m) => this.#onMessage(m as AgentAnswer | AgentReady | AgentPush));
    const ready = new Promise<AgentReady>((resolve, reject) => {
      this.#waiting.set(0, (a) => resolve(a as unknown as AgentReady));
      child.once('exit', (code) =>
        reject(l8error('L8_ERR_CONNECT', `agent ${this.config.alias} exited with ${code}: ${this.#stderr}`)),
      );
    });
    child.once('exit', (code, signal) => this.#exited(child, code, signal));
    const r = await withDeadline(ready, timeoutMs, `agent ${this.config.alias} start`);
    this.nodeId = r.nodeId;
    this.readyAt = r.at ?? 0;
    return this;
  }

  /** Sends a command and resolves with its value; an agent-side L8Error is rebuilt here. @throws L8_ERR_TIMEOUT */
  async call<T = unknown>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    const id = this.#next++;
    const answer = new Promise<AgentAnswer>((resolve) => this.#waiting.set(id, resolve));
    if (!this.alive) throw l8error('L8_ERR_CLOSED', `agent ${this.config.alias} is not running`);
    this.#child?.send({ id, cmd, args });
    try {
      const a = await withDeadline(answer, timeoutMs, `agent ${this.config.alias} ${cmd}`);
      if (!a.ok) throw fromWire({ code: a.error?.code ?? 'L8_ERR_INTERNAL', message: a.error?.message ?? '' });
      return a.value as T;
    } finally {
      this.#waiting.delete(id);
    }
  }

  /** Kills the process with SIGKILL and waits for its exit. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.alive) return;
    this.#expected = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Sends SIGSTOP (`pause`) or SIGCONT (`resume`): the process keeps its sockets but runs nothing. */
  signal(what: 'pause' | 'resume'): void {
    if (this.alive) this.#child?.kill(what === 'pause' ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Stops the process gracefully (IPC disconnect), falling back to SIGKILL after 3 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.alive) return;
    this.#expected = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT');
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  #onMessage(m: AgentAnswer | AgentReady | AgentPush): void {
    if ('push' in m) return this.#options.onPush?.(m);
    const id = 'ready' in m ? 0 : m.id;
    const w = this.#waiting.get(id);
    this.#waiting.delete(id);
    w?.(m as AgentAnswer);
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const exit = { alias: this.config.alias, pid: child.pid ?? 0, code, signal, expected: this.#expected };
    this.#options.onExit?.({ ...exit, stderr: this.#stderr });
  }
}
