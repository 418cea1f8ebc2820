/** Targets of the overlay benchmark (from its issue) and the human table printed to stderr. */
import { type BenchRow, say } from './harness.ts';

type RateOf = (system: string, kase: string) => number | undefined;

/** The target of a Layer8 row, and whether this run met it. */
export function targetOf(r: BenchRow, rateOf: RateOf): { target?: string; targetMet?: boolean } {
  const rate = r.rate ?? 0;
  switch (r.case) {
    case 'req-seq-local':
      return { target: '>= 5 k/s, p50 <= 220 µs', targetMet: rate >= 5000 && (r.p50Us ?? Infinity) <= 220 };
    case 'req-c100-local': {
      const mol = rateOf('moleculer', r.case) ?? 0;
      const nats = rateOf('nats', r.case) ?? 0;
      const met = rate >= 160_000 && rate >= 3 * mol && rate >= 2 * nats && (r.cpuUsPerOp ?? Infinity) <= 15;
      return { target: '>= 160 k/s, >= 3x moleculer, >= 2x nats, <= 15 µs CPU/op', targetMet: met };
    }
    case 'req-c100-cross':
      return { target: '>= 100 k/s with TLS', targetMet: rate >= 100_000 && r.security === 'tls' };
    case 'stream-oneway':
      return { target: '>= 1 M msgs/s', targetMet: rate >= 1_000_000 };
    case 'vnet-rss-100-vnics':
      return { target: '<= 120 MB', targetMet: (r.rssMB ?? Infinity) <= 120 };
    default:
      return {};
  }
}

const COLUMNS: [string, number, (r: BenchRow) => string][] = [
  ['case', 22, (r) => r.case],
  ['system', 16, (r) => r.system],
  ['rate/s', 10, (r) => num(r.rate)],
  ['p50 µs', 8, (r) => num(r.p50Us)],
  ['p99 µs', 8, (r) => num(r.p99Us)],
  ['rss MB', 8, (r) => num(r.rssMB)],
  ['cpu µs/op', 10, (r) => num(r.cpuUsPerOp)],
];

function num(n: number | undefined): string {
  return n === undefined ? '-' : n >= 10_000 ? Math.round(n).toLocaleString('en-US') : String(n);
}

function note(r: BenchRow): string {
  if (r.skipped !== undefined) return `skipped: ${r.skipped}`;
  const parts: string[] = [];
  if (r.security !== undefined) parts.push(`security ${String(r.security)}`);
  if (r.target !== undefined) parts.push(`target ${String(r.target)} ${r.targetMet ? 'MET' : 'MISSED'}`);
  for (const [key, peer] of [
    ['ratioVsMoleculer', 'moleculer'],
    ['ratioVsMoleculerCbor', 'moleculer-cbor'],
    ['ratioVsNats', 'nats'],
    ['ratioVsNatsTls', 'nats-tls'],
    ['ofRawTcp', 'raw-tcp'],
    ['ratioVsUnobserved', 'unobserved'],
  ] as const)
    if (r[key] !== undefined) parts.push(`${String(r[key])}x ${peer}`);
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
