/**
 * The parent side of the overlay benchmark's processes: forks worker scripts, calls their operations
 * over IPC, reads CPU time and peak RSS of any process from /proc, and kills every child it started,
 * also on error and on exit.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXT } from './ext.ts';
import type { Reply } from './overlay-ipc.ts';

const here = dirname(fileURLToPath(import.meta.url));
const CALL_TIMEOUT_MS = 30_000;

/** A worker process running one of the bench/lib/overlay-*.ts scripts. */
export class Child {
  readonly role: string;
  readonly proc: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #exited = false;

  private constructor(role: string, proc: ChildProcess) {
    this.role = role;
    this.proc = proc;
    proc.on('message', (r: Reply) => this.#answer(r));
    proc.on('exit', (code, signal) => {
      this.#exited = true;
      for (const w of this.#waiting.values()) w.reject(new Error(`${role} exited (${code ?? signal})`));
      this.#waiting.clear();
    });
  }

  /**
   * Forks `bench/lib/<script>` as `role` and resolves once it says ready. With the env variable
   * `L8_BENCH_PROF=DIR` every worker writes V8 CPU profiles (one per thread) into DIR/<role>; with
   * `L8_BENCH_NODE_ARGS="--trace-gc …"` every worker runs with those Node flags too (diagnostics), or only
   * the workers whose role matches the regular expression `L8_BENCH_NODE_ROLES` (`^l8-vnet`).
   */
  static async fork(script: string, role: string): Promise<Child> {
    const prof = process.env.L8_BENCH_PROF;
    const execArgv = EXT === '.ts' ? ['--conditions=source', '--import', 'tsx'] : [];
    if (prof) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(prof, role)}`);
    const roles = process.env.L8_BENCH_NODE_ROLES;
    if (roles === undefined || new RegExp(roles).test(role)) {
      execArgv.push(...(process.env.L8_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []));
    }
    const proc = fork(join(here, script), [role], { execArgv, stdio: ['ignore', 2, 2, 'ipc'] });
    const child = new Child(role, proc);
    await new Promise<void>((resolve, reject) => {
      child.#waiting.set(0, { resolve: () => resolve(), reject });
      proc.once('error', reject);
    });
    return child;
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** Runs operation `op` in the worker. @throws the worker's error, or a timeout after `timeoutMs`. */
  call<T = unknown>(op: string, args: object = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`${this.role} has exited`));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${this.role}.${op} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, op, args });
    });
  }

  /** Asks the worker to exit (so a CPU profile gets written), then kills it after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.call('exit', {}, graceMs).catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kills the worker at once (for the exit handler). */
  kill(): void {
    if (!this.#exited) this.proc.kill('SIGKILL');
  }

  #answer(r: Reply): void {
    const w = this.#waiting.get(r.id);
    if (w === undefined) return;
    this.#waiting.delete(r.id);
    if (r.ok) w.resolve(r.value);
    else w.reject(new Error(`${this.role}: ${r.error}`));
  }
}

/** Every process a benchmark started; {@link Fleet.stopAll} ends them all. */
export class Fleet {
  readonly #children = new Set<Child>();
  readonly #others = new Set<ChildProcess>();
  readonly #onExit = (): void => this.killAll();

  constructor() {
    process.on('exit', this.#onExit);
  }

  /** Forks a worker and keeps track of it. */
  async fork(script: string, role: string): Promise<Child> {
    const child = await Child.fork(script, role);
    this.#children.add(child);
    return child;
  }

  /** Tracks a non-node process (nats-server) so that it is killed with the rest. */
  adopt(proc: ChildProcess): void {
    this.#others.add(proc);
    proc.once('exit', () => this.#others.delete(proc));
  }

  /** Stops `children` (gracefully, then by force) and forgets them. */
  async stop(children: readonly Child[]): Promise<void> {
    await Promise.all(children.map((c) => c.stop()));
    for (const c of children) this.#children.delete(c);
  }

  /** Stops everything still running. */
  async stopAll(): Promise<void> {
    await this.stop([...this.#children]);
    await Promise.all([...this.#others].map((p) => ended(p)));
    process.off('exit', this.#onExit);
  }

  /** Kills everything at once, synchronously. */
  killAll(): void {
    for (const c of this.#children) c.kill();
    for (const p of this.#others) p.kill('SIGKILL');
  }
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
function ended(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  return exited.finally(() => clearTimeout(timer));
}

const TICK_US = 1e6 / clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU time (user + system) of process `pid` in µs, from /proc/PID/stat; 0 once it is gone. */
export function procCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return 0;
  }
}

/** Peak resident set (VmHWM) of process `pid` in MB; 0 once it is gone. */
export function procPeakRssMB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) / 1024;
  } catch {
    return 0;
  }
}

/** Resets the peak RSS of `pid` to its current RSS (Linux clear_refs 5), so a case measures its own peak. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
