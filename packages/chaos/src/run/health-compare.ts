import type { HealthRecord } from '@layer8/health';
import type { ChaosOverlay } from './overlay.ts';
import type { Agent } from './process-agent.ts';

/** How the health tables of every node compared at the end of a run. */
export interface HealthComparison {
  /** Every table held the same records, and exactly the live nodes, all up. */
  readonly identical: boolean;
  /** Tables compared (every VNet and VNic process). */
  readonly tables: number;
  /** Records in the tables (the largest, when they differ). */
  readonly nodes: number;
  /** Live processes: what every table should hold. */
  readonly expected: number;
  /** How long it took the tables to agree, ms (the deadline when they never did). */
  readonly waitedMs: number;
  /** The nodes whose table differed from the live set at the deadline (none when identical). */
  readonly differing: readonly string[];
  /** The agreed table's fingerprint: one line per record, sorted. */
  readonly fingerprint: readonly string[];
}

/** How often the tables are read while they do not agree yet, ms. */
const POLL_MS = 200;

/**
 * One line per record of what replicas must agree on: id, writer VNet, alias, role, status, start time,
 * proven subject and services. Load figures (`stats`) and `updatedAt` are left out: they are refreshed
 * on their own period and may be one round apart between replicas.
 */
export function recordLine(r: HealthRecord): string {
  const services = r.services.map((s) => `${s.service}/${s.area}${s.state ? `:${s.state}` : ''}`).sort();
  return [r.id, r.vnet, r.alias, r.role, r.status, r.startedAt, r.subject ?? '', services.join(',')].join(' ');
}

/** The sorted lines of a table. */
export function tableLines(records: readonly HealthRecord[]): string[] {
  return records.map(recordLine).sort();
}

/**
 * Reads the health table of every process of `overlay` until all are identical and hold exactly the
 * live nodes, all up, or until `deadlineMs`.
 */
export function compareHealth(overlay: ChaosOverlay, deadlineMs: number): Promise<HealthComparison> {
  return compareTables(
    () => overlay.agents(),
    (agents) => {
      const live = new Set(agents.map((a) => a.nodeId));
      return { expected: live.size, ok: (lines) => matchesLive(lines, live) };
    },
    deadlineMs,
  );
}

/** What every table must hold: `expected` records (as reported), and `ok` on its lines. */
export interface TableExpectation {
  readonly expected: number;
  readonly ok: (lines: readonly string[] | undefined) => boolean;
}

/**
 * Reads the health table of every agent `agents` lists until all are identical and each is what
 * `expect` (asked again each round: restarts change the live set) accepts, or until `deadlineMs`.
 */
export async function compareTables(
  agents: () => readonly Agent[],
  expect: (agents: readonly Agent[]) => TableExpectation,
  deadlineMs: number,
): Promise<HealthComparison> {
  const start = performance.now();
  for (;;) {
    const now = agents();
    const e = expect(now);
    const tables = await Promise.all(now.map((a) => read(a)));
    const differing = now.filter((_, i) => !e.ok(tables[i])).map((a) => a.config.alias);
    const identical = differing.length === 0 && tables.every((t) => same(t, tables[0]));
    const waitedMs = Math.round(performance.now() - start);
    if (identical || waitedMs >= deadlineMs) {
      const nodes = Math.max(...tables.map((t) => t?.length ?? 0));
      const fingerprint = identical ? (tables[0] ?? []) : [];
      return { identical, tables: now.length, nodes, expected: e.expected, waitedMs, differing, fingerprint };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The status of every node of a table, from its lines. */
export function statuses(lines: readonly string[]): Map<string, string> {
  return new Map(
    lines.map((l) => {
      const [id = '', , , , status = ''] = l.split(' ');
      return [id, status];
    }),
  );
}

async function read(agent: Agent): Promise<string[] | undefined> {
  try {
    return tableLines(await agent.call<HealthRecord[]>('health', {}, 5000));
  } catch {
    return undefined;
  }
}

function matchesLive(lines: readonly string[] | undefined, live: ReadonlySet<string>): boolean {
  if (lines === undefined || lines.length !== live.size) return false;
  return lines.every((l) => {
    const [id, , , , status] = l.split(' ');
    return live.has(id ?? '') && status === 'up';
  });
}

function same(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((l, i) => l === b[i]);
}
