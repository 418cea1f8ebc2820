/**
 * Services benchmark (issue 13, "Must hold"): the stateful service of @layer8/services on the demo Order
 * model, side by side with NATS JetStream KV, every component in its own process. Case groups:
 *
 * - `patch-replicated-3`: PATCH of one field through 3 instances on 3 VNets (127.0.0.2-4, TLS), 100 in
 *   flight from a client on VNet 0 (round-robin); `convergeMs` from the last acknowledged write to equal
 *   digests (key@version/writer of every entity) on the three instances.
 * - `get-by-key`: GET by primary key in the instance's own process (`mode: 'local'`) and over the overlay
 *   from another process; NATS KV `kv-get` of the same bytes.
 * - `put-durable`: PUT of the whole entity written through to SQLite and to PostgreSQL (`L8_TEST_PG`,
 *   skipped with a hint when unreachable); NATS KV `kv-put` (file storage).
 * - `recovery-100k`: a fresh instance in a new process recovering 100 k entities from a peer.
 *
 * Systems are interleaved within a group and every case is repeated; rows give the median with min and
 * max. `npm run bench -- services [--ms=2500] [--warm=500] [--repeats=3] [--keys=10000] [--in-flight=100]
 * [--only=layer8,nats-kv] [--cases=patch-replicated-3,get-by-key,put-durable,recovery-100k]`;
 * `L8_BENCH_PROF=DIR` writes a CPU profile of every worker into DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDeadline } from '@layer8/testkit';
import { type BenchRow, round, say } from './lib/harness.ts';
import { Fleet } from './lib/overlay-proc.ts';
import { NATS_SERVER, natsInstalled } from './lib/overlay-systems.ts';
import { getByKey, patchReplicated3, putDurable, type Run, recovery100k } from './lib/services-cases.ts';
import { orderBytes } from './lib/services-order.ts';
import { type NatsKv, natsKv, plan } from './lib/services-setup.ts';
import { goalOf, printTable } from './lib/services-stats.ts';

type Group = (run: Run, fleet: Fleet) => Promise<void>;

/** The groups in run order, each with the rows (system, case) it yields. */
const GROUPS: readonly (readonly [string, Group, readonly (readonly [string, string])[]])[] = [
  ['patch-replicated-3', patchReplicated3, [['layer8', 'patch-replicated-3']]],
  [
    'get-by-key',
    getByKey,
    [
      ['layer8', 'get-by-key-in-process'],
      ['layer8', 'get-by-key-overlay'],
      ['nats-kv', 'kv-get'],
    ],
  ],
  [
    'put-durable',
    putDurable,
    [
      ['layer8', 'put-durable-sqlite'],
      ['layer8', 'put-durable-postgres'],
      ['nats-kv', 'kv-put'],
    ],
  ],
  ['recovery-100k', recovery100k, [['layer8', 'recovery-100k']]],
];
const CASES = GROUPS.flatMap(([, , rows]) => rows.map(([, c]) => c));
const PG_DEFAULT = 'postgres://layer8:layer8@127.0.0.1:5432/layer8_test';

export default async function services(args: string[]): Promise<BenchRow[]> {
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const groups = new Set(opt('cases')?.split(',') ?? GROUPS.map(([g]) => g));
  const only = new Set(opt('only')?.split(',') ?? ['layer8', 'nats-kv']);
  const repeats = Math.max(1, Number(opt('repeats') ?? 3));
  const keys = Number(opt('keys') ?? 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'l8-services-'));
  const shared = new Fleet();
  const rows: BenchRow[] = [];
  try {
    const wantKv = only.has('nats-kv') && (groups.has('get-by-key') || groups.has('put-durable'));
    const run: Run = {
      plan: await plan(dir, nodeNames(repeats)),
      timing: { warmMs: Number(opt('warm') ?? 500), ms: Number(opt('ms') ?? 2500) },
      repeats,
      keys,
      inFlight: Number(opt('in-flight') ?? 100),
      entityBytes: meanBytes(keys),
      only,
      kv: wantKv ? await startKv(shared, dir, keys) : { why: 'not selected' },
      pgUrl: process.env.L8_TEST_PG ?? PG_DEFAULT,
      rows,
    };
    for (const [name, group, yields] of GROUPS) if (groups.has(name)) await guarded(run, name, group, yields);
  } finally {
    await shared.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const out = finish(rows);
  printTable(out);
  summary(out);
  return out;
}

/** Certificate names of every service node a run may start. */
function nodeNames(repeats: number): string[] {
  const fresh = Array.from({ length: repeats }, (_, i) => `fresh-${i}`);
  return ['client', 'inst-0', 'inst-1', 'inst-2', 'store-sqlite', 'store-pg', 'peer', ...fresh];
}

function meanBytes(keys: number): number {
  let n = 0;
  for (let i = 1; i <= keys; i++) n += orderBytes(i).length;
  return Math.round(n / keys);
}

async function startKv(fleet: Fleet, dir: string, keys: number): Promise<NatsKv | { why: string }> {
  if (!natsInstalled()) return { why: `${NATS_SERVER} not installed: apt-get install -y nats-server` };
  try {
    return await natsKv(fleet, dir, keys);
  } catch (err) {
    return { why: `nats-server with JetStream failed: ${(err as Error).message}` };
  }
}

/**
 * Runs one group in a fleet of its own, within a deadline; on failure the group's rows not measured yet
 * are recorded as skipped with the error, and its processes are stopped.
 */
async function guarded(run: Run, name: string, group: Group, yields: readonly (readonly [string, string])[]) {
  const fleet = new Fleet();
  const windowMs = run.timing.warmMs + run.timing.ms + 5000;
  const limitMs = 180_000 + run.repeats * yields.length * windowMs;
  try {
    await withDeadline(group(run, fleet), limitMs, `case group ${name}`);
  } catch (err) {
    const message = `error: ${(err as Error).message}`;
    say(`${name}: ${message}`);
    const done = new Set(run.rows.map((r) => `${r.system}/${r.case}`));
    for (const [system, kase] of yields) {
      if (run.only.has(system) && !done.has(`${system}/${kase}`))
        run.rows.push({ system, case: kase, skipped: message });
    }
  } finally {
    await fleet.stopAll();
  }
}

/** Orders rows by case and adds the goals (with the ratios against NATS KV) to the Layer8 rows. */
function finish(rows: readonly BenchRow[]): BenchRow[] {
  const rateOf = (s: string, c: string): number | undefined =>
    rows.find((r) => r.system === s && r.case === c && r.skipped === undefined)?.rate;
  return [...rows]
    .sort((a, b) => CASES.indexOf(a.case) - CASES.indexOf(b.case))
    .map((r) => (r.system !== 'layer8' || r.skipped !== undefined ? r : { ...r, ...goalOf(r, rateOf) }));
}

/** One line per comparison with NATS KV, and the goals met. */
function summary(rows: readonly BenchRow[]): void {
  say('');
  for (const r of rows) {
    if (typeof r.ratioVsNatsKv === 'number') say(`${r.case}: ${round(r.ratioVsNatsKv, 2)}x nats-kv (goal >= 2x)`);
  }
  const goals = rows.filter((r) => r.targetMet !== undefined);
  say(`goals met: ${goals.filter((r) => r.targetMet === true).length} of ${goals.length}`);
}
