import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { l8error } from '@layer8/protocol';
import { withDeadline } from '../run/deadline.ts';
import type { TargetAnswer, TargetConfig, TargetReady, TargetStats } from './target-config.ts';

/** The entry point next to this file: `target-main.ts` under the source condition, `target-main.js` when built. */
const SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = fileURLToPath(new URL(SOURCE ? './target-main.ts' : './target-main.js', import.meta.url));
/** Source files run through tsx, as the fuzzer itself does; `--expose-gc` so memory is read after a collection. */
const EXEC_ARGV = [...(SOURCE ? ['--conditions=source', '--import', 'tsx'] : []), '--expose-gc'];
/** Bytes of a target's stderr kept for a crash report. */
const STDERR_TAIL = 8192;

/** How a target process ended. `expected` is false for a crash: an exit the fuzzer did not ask for. */
export interface TargetExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly expected: boolean;
  /** The end of its stderr (a stack trace, for a crash). */
  readonly stderr: string;
  /** A VNet the fuzzer did not start: it stopped answering (its exit code and stderr cannot be seen). */
  readonly stoppedAnswering?: boolean;
}

/**
 * What the fuzzer needs of a target: a process it started ({@link TargetProcess}) or a VNet that runs
 * already (remote-vnet.ts).
 */
export interface FuzzTarget {
  /** The OS process id; undefined for a VNet the fuzzer did not start. */
  readonly pid: number | undefined;
  /** False once the target ended (a process that exited, a VNet that stopped answering). */
  readonly alive: boolean;
  /** Its counters now. @throws L8_ERR_CLOSED, L8_ERR_TIMEOUT */
  stats(): Promise<TargetStats>;
  /** Resolves when the target ended (only asked once `alive` is false). */
  exited(): Promise<TargetExit>;
  /** Stops what the fuzzer started (nothing for a VNet it did not start). */
  stop(): Promise<void>;
}

/**
 * A VNet or VNic under test in its own process (target-main.ts), so that a crash is a process that
 * exits. Started with {@link TargetProcess.start}; answers `stats` over IPC.
 *
 * Invariants: `#waiting` holds the callers of requests not yet answered; `#stopping` is set before any
 * exit this object asks for, so an exit without it is a crash; `#exit` is set once the process ended.
 */
export class TargetProcess implements FuzzTarget {
  readonly ready: TargetReady;
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (s: TargetStats) => void>();
  readonly #exited: Promise<TargetExit>;
  #next = 1;
  #stopping = false;
  #exit: TargetExit | undefined;
  #stderr: { text: string };

  private constructor(child: ChildProcess, ready: TargetReady, stderr: { text: string }) {
    this.#child = child;
    this.ready = ready;
    this.#stderr = stderr;
    child.on('message', (m: TargetAnswer) => this.#answered(m));
    this.#exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.#exit = { code, signal, expected: this.#stopping, stderr: this.#stderr.text };
        resolve(this.#exit);
      };
      if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
      else child.once('exit', done);
    });
  }

  /**
   * Starts a target and resolves once it is ready.
   * @throws L8_ERR_CONNECT when it exits first; L8_ERR_TIMEOUT when it is not ready within `timeoutMs`
   */
  static async start(config: TargetConfig, timeoutMs = 30_000): Promise<TargetProcess> {
    const child = fork(ENTRY, [JSON.stringify(config)], {
      execArgv: EXEC_ARGV,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const stderr = { text: '' };
    child.stderr?.on('data', (d: Buffer) => {
      stderr.text = (stderr.text + d.toString()).slice(-STDERR_TAIL);
    });
    const ready = new Promise<TargetReady>((resolve, reject) => {
      child.once('message', (m: TargetReady) => resolve(m));
      child.once('exit', (code) =>
        reject(l8error('L8_ERR_CONNECT', `fuzz target exited with ${code}: ${stderr.text}`)),
      );
    });
    try {
      return new TargetProcess(child, await withDeadline(ready, timeoutMs, `fuzz target ${config.role}`), stderr);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** The OS process id. */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** Set once the process ended without being asked to: a crash. */
  get crash(): TargetExit | undefined {
    return this.#exit !== undefined && !this.#exit.expected ? this.#exit : undefined;
  }

  /** Resolves when the process ends. */
  exited(): Promise<TargetExit> {
    return this.#exited;
  }

  /**
   * The target's counters and memory (read after a full collection).
   * @throws L8_ERR_CLOSED when the process has ended; L8_ERR_TIMEOUT when it does not answer within `timeoutMs`
   */
  async stats(timeoutMs = 10_000): Promise<TargetStats> {
    if (!this.alive || !this.#child.connected) throw l8error('L8_ERR_CLOSED', 'the fuzz target is not running');
    const id = this.#next++;
    const answer = new Promise<TargetStats>((resolve) => this.#waiting.set(id, resolve));
    this.#child.send({ id, cmd: 'stats' });
    const ended = this.#exited.then(() => {
      throw l8error('L8_ERR_CLOSED', 'the fuzz target ended before it answered');
    });
    try {
      return await withDeadline(Promise.race([answer, ended]), timeoutMs, 'fuzz target stats');
    } finally {
      this.#waiting.delete(id);
    }
  }

  /** Stops the process (IPC disconnect: it closes its component and exits), with SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.#stopping = true;
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000).unref();
    await this.#exited;
    clearTimeout(timer);
  }

  #answered(m: TargetAnswer): void {
    const w = this.#waiting.get(m.id);
    this.#waiting.delete(m.id);
    w?.(m.stats);
  }
}
