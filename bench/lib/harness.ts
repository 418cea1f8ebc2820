/** Shared pieces of the benchmarks: the row shape, timing, CPU and RSS sampling. */

/** One result row of the JSON line every benchmark prints last. Extra fields are allowed. */
export interface BenchRow {
  readonly system: string;
  readonly case: string;
  /** Operations per second. */
  readonly rate?: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly bytes?: number;
  /** Peak resident set in MB (largest process of the case where several run). */
  readonly rssMB?: number;
  /** CPU time per operation in µs, summed over every process of the case. */
  readonly cpuUsPerOp?: number;
  readonly skipped?: string;
  readonly [extra: string]: unknown;
}

/** A benchmark module's default export. */
export type BenchMain = (args: string[]) => Promise<BenchRow[]>;

/** CPU time of this process in µs (user + system). */
export function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Runs `op` for about `ms` milliseconds in batches of `batch`; returns ops done, wall ms and CPU µs. */
export function timeLoop(ms: number, batch: number, op: () => void): { ops: number; wallMs: number; cpu: number } {
  const cpu0 = cpuUs();
  const t0 = performance.now();
  let ops = 0;
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < batch; i++) op();
    ops += batch;
    now = performance.now();
  }
  return { ops, wallMs: now - t0, cpu: cpuUs() - cpu0 };
}

/** Percentile of sorted samples (0-100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return sorted[i] as number;
}

/** Rounds to 3 significant decimals for printing. */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Peak RSS of this process in MB. */
export function peakRssMB(): number {
  return round(process.resourceUsage().maxRSS / 1024);
}

/** Prints a human line to stderr so the last stdout line stays the JSON object. */
export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}
