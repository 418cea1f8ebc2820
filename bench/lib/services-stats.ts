/**
 * Rows of the services benchmark: a case's repeated windows summed up as median with min and max, the
 * goals of issue 13 with whether this run met them, the ratios against NATS KV, and the human table.
 */
import { type BenchRow, round, say } from './harness.ts';
import { procCpuUs } from './overlay-proc.ts';

/** One window of one case (a measure() Window or a recovery), with case-specific figures. */
export interface Sample {
  readonly rate: number;
  readonly cpuUsPerOp: number;
  readonly rssMB: number;
  readonly errors: number;
  readonly lastError?: string;
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly convergeMs?: number;
  readonly ms?: number;
}

/** Figures given as median with `…Min` and `…Max` when every sample has them. */
const SPREAD = ['rate', 'cpuUsPerOp', 'p50Us', 'p99Us', 'convergeMs', 'ms'] as const;

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** One row from the samples of a case: medians, min and max, the peak RSS, every error. */
export function rowOf(system: string, kase: string, samples: readonly Sample[], extra: object = {}): BenchRow {
  const row: Record<string, unknown> = { system, case: kase };
  for (const f of SPREAD) {
    const xs = samples.map((s) => s[f]).filter((x): x is number => x !== undefined);
    if (xs.length === 0 || xs.length < samples.length) continue;
    const digits = f === 'rate' ? 0 : f === 'cpuUsPerOp' ? 2 : 1;
    row[f] = round(median(xs), digits);
    row[`${f}Min`] = round(Math.min(...xs), digits);
    row[`${f}Max`] = round(Math.max(...xs), digits);
  }
  row.rssMB = round(Math.max(...samples.map((s) => s.rssMB)));
  row.repeats = samples.length;
  row.errors = samples.reduce((n, s) => n + s.errors, 0);
  const lastError = samples.findLast((s) => s.lastError !== undefined)?.lastError;
  if (lastError !== undefined) row.lastError = lastError;
  return { ...row, ...extra } as BenchRow;
}

/** The processes of a case by role (`client`, `vnets`, `instances`, …). */
export type Roles = Readonly<Record<string, readonly number[]>>;

/** Every process of `roles`. */
export function pidsOfRoles(roles: Roles): number[] {
  return Object.values(roles).flat();
}

/**
 * Runs `body` and adds the CPU µs each role spent meanwhile to `spent`, so that a row can say which
 * processes the CPU went to (the span includes the warm-up, hence shares rather than µs per operation).
 */
export async function tallyCpu<T>(roles: Roles, spent: Record<string, number>, body: () => Promise<T>): Promise<T> {
  const now = (): [string, number][] =>
    Object.entries(roles).map(([role, pids]) => [role, pids.reduce((n, p) => n + procCpuUs(p), 0)]);
  const before = new Map(now());
  const result = await body();
  for (const [role, cpu] of now()) spent[role] = (spent[role] ?? 0) + cpu - (before.get(role) ?? 0);
  return result;
}

/** The share of each role in `spent`, in percent. */
export function sharesOf(spent: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(spent).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(spent).map(([role, us]) => [role, total > 0 ? round((100 * us) / total) : 0]),
  );
}

type RateOf = (system: string, kase: string) => number | undefined;

/** The goal of a Layer8 row and whether it was met (ratios against NATS KV from the same run). */
export function goalOf(r: BenchRow, rateOf: RateOf): object {
  const rate = r.rate ?? 0;
  const vs = (kase: string): number | undefined => {
    const n = rateOf('nats-kv', kase);
    return n === undefined || n === 0 ? undefined : round(rate / n, 2);
  };
  switch (r.case) {
    case 'patch-replicated-3': {
      const met = rate >= 30_000 && typeof r.convergeMs === 'number' && r.convergeMs <= 1000;
      return { target: '>= 30 k writes/s, converged <= 1 s', targetMet: met };
    }
    case 'get-by-key-in-process':
      return { target: '>= 500 k/s', targetMet: rate >= 500_000 };
    case 'get-by-key-overlay': {
      const ratio = vs('kv-get');
      return { target: '>= 2x nats-kv kv-get', targetMet: (ratio ?? 0) >= 2, ratioVsNatsKv: ratio };
    }
    case 'put-durable-sqlite':
    case 'put-durable-postgres': {
      const ratio = vs('kv-put');
      const met = rate >= 20_000 && (ratio ?? 0) >= 2;
      return { target: '>= 20 k/s, >= 2x nats-kv kv-put', targetMet: met, ratioVsNatsKv: ratio };
    }
    case 'recovery-100k':
      return { target: '<= 5000 ms', targetMet: typeof r.ms === 'number' && r.ms <= 5000 };
    default:
      return {};
  }
}

const COLUMNS: [string, number, (r: BenchRow) => string][] = [
  ['case', 22, (r) => r.case],
  ['system', 8, (r) => r.system],
  ['rate/s', 10, (r) => num(r.rate)],
  ['min-max', 20, (r) => range(r.rateMin, r.rateMax)],
  ['cpu µs/op', 10, (r) => num(r.cpuUsPerOp)],
  ['rss MB', 7, (r) => num(r.rssMB)],
  ['p50 µs', 8, (r) => latency(r.p50Us)],
  ['p99 µs', 8, (r) => latency(r.p99Us)],
];

/** The latency histogram (bench/lib/overlay-load.ts) counts everything from 100 ms on as 100 ms. */
function latency(us: unknown): string {
  return us === 100_000 ? '>=100 ms' : num(us);
}

function num(n: unknown): string {
  if (typeof n !== 'number') return '-';
  return n >= 10_000 ? Math.round(n).toLocaleString('en-US') : String(n);
}

function range(lo: unknown, hi: unknown): string {
  return typeof lo === 'number' && typeof hi === 'number' ? `${num(lo)}-${num(hi)}` : '';
}

function note(r: BenchRow): string {
  if (r.skipped !== undefined) return `skipped: ${r.skipped}`;
  const parts: string[] = [];
  if (r.convergeMs !== undefined)
    parts.push(`converge ${r.convergeMs} ms (${range(r.convergeMsMin, r.convergeMsMax)})`);
  if (r.ms !== undefined) parts.push(`${r.ms} ms (${range(r.msMin, r.msMax)})`);
  if (r.ratioVsNatsKv !== undefined) parts.push(`${String(r.ratioVsNatsKv)}x nats-kv`);
  if (r.target !== undefined) parts.push(`goal ${String(r.target)} ${r.targetMet ? 'MET' : 'MISSED'}`);
  if (typeof r.errors === 'number' && r.errors > 0) parts.push(`${r.errors} errors (${String(r.lastError)})`);
  return parts.join('; ');
}

/** Prints `rows` as an aligned table to stderr. */
export function printTable(rows: readonly BenchRow[]): void {
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(COLUMNS[i]?.[1] ?? 0)).join(' ');
  say('');
  say(`${line(COLUMNS.map((c) => c[0]))} notes`);
  for (const r of rows) say(`${line(COLUMNS.map((c) => c[2](r)))} ${note(r)}`);
}
