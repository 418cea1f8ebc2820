/**
 * Gateway benchmark (issue 14, "Must hold"), every component in its own process:
 *
 * - `get-by-key`: GET /l8/0/Orders/<key> (10 000 keys in turn) by autocannon over 100 connections.
 *   `layer8-gateway`: the Layer8 gateway (auth off) → its VNet (TLS, 127.0.0.2) → an Orders instance in
 *   another process; `fastify-ceiling`: a bare Fastify 5 route answering the same JSON from a Map in its
 *   own process; `moleculer-web`: moleculer-web → an `orders` service over Moleculer's TCP transporter.
 *   The three answer the same body, `{item, version}`. Systems interleaved, repeated, median with min-max.
 * - `ws-fanout`: 1 000 WebSocket subscribers of the Layer8 gateway to one query, a writer process
 *   PATCHing the entities it matches through the overlay at a steady rate; the rate is change messages
 *   delivered per second over all subscribers, the CPU per delivered message.
 *
 * CPU µs/op counts every process of the case, the load generator included (`cpuShare` says which
 * processes it went to, `serverCpuUsPerOp` leaves the load generator out). `npm run bench -- gateway
 * [--ms=5000] [--warm=1000] [--repeats=3] [--keys=10000] [--connections=100] [--subscribers=1000]
 * [--ws-rate=20] [--cases=get-by-key,ws-fanout]`; `L8_BENCH_PROF=DIR` writes CPU profiles per process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDeadline } from '@layer8/testkit';
import { type Ctx, getByKey, wsFanout } from './lib/gateway-cases.ts';
import { type BenchRow, round, say } from './lib/harness.ts';
import { Fleet } from './lib/overlay-proc.ts';
import { plan } from './lib/services-setup.ts';
import { printTable } from './lib/services-stats.ts';

const GOALS = { ceilingShare: 0.5, vsMoleculer: 2 };

export default async function gatewayBench(args: string[]): Promise<BenchRow[]> {
  const opt = (name: string, d: string): string => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d;
  const cases = new Set(opt('cases', 'get-by-key,ws-fanout').split(','));
  const dir = mkdtempSync(join(tmpdir(), 'l8-gateway-'));
  const fleet = new Fleet();
  const rows: BenchRow[] = [];
  try {
    const ctx: Ctx = {
      fleet,
      plan: await plan(dir, ['svc', 'gw', 'writer']),
      timing: { warmMs: Number(opt('warm', '1000')), ms: Number(opt('ms', '5000')) },
      repeats: Math.max(1, Number(opt('repeats', '3'))),
      keys: Number(opt('keys', '10000')),
      connections: Number(opt('connections', '100')),
      subscribers: Number(opt('subscribers', '1000')),
      wsRate: Number(opt('ws-rate', '20')),
      rows,
    };
    if (ctx.plan.tlsDir === undefined) throw new Error(`no TLS: ${ctx.plan.security}`);
    const limit = 240_000 + ctx.repeats * 3 * (ctx.timing.warmMs + ctx.timing.ms + 5000);
    if (cases.has('get-by-key')) await guarded(withDeadline(getByKey(ctx), limit, 'get-by-key'), 'get-by-key', rows);
    if (cases.has('ws-fanout')) await guarded(withDeadline(wsFanout(ctx), limit, 'ws-fanout'), 'ws-fanout', rows);
  } finally {
    await fleet.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const out = rows.map((r) => (r.system === 'layer8-gateway' ? { ...r, ...goals(r, rows) } : r));
  printTable(out);
  for (const r of out) if (r.target !== undefined) say(`${r.case}: ${r.target} ${r.targetMet ? 'MET' : 'MISSED'}`);
  return out;
}

async function guarded(p: Promise<void>, name: string, rows: BenchRow[]): Promise<void> {
  try {
    await p;
  } catch (err) {
    say(`${name}: error: ${(err as Error).message}`);
    rows.push({ system: 'layer8-gateway', case: name, skipped: `error: ${(err as Error).message}` });
  }
}

/** The goals of the get-by-key row: ≥ 50 % of the ceiling, ≥ 2× moleculer-web (same run). */
function goals(r: BenchRow, rows: readonly BenchRow[]): object {
  if (r.case !== 'get-by-key' || r.skipped !== undefined) return {};
  const rateOf = (s: string) => rows.find((x) => x.case === r.case && x.system === s)?.rate;
  const ceiling = rateOf('fastify-ceiling');
  const mol = rateOf('moleculer-web');
  const rate = r.rate ?? 0;
  const shareOfCeiling = ceiling ? round(rate / ceiling, 2) : undefined;
  const ratioVsMoleculer = mol ? round(rate / mol, 2) : undefined;
  const met = (shareOfCeiling ?? 0) >= GOALS.ceilingShare && (ratioVsMoleculer ?? 0) >= GOALS.vsMoleculer;
  return { target: '>= 0.5x fastify-ceiling, >= 2x moleculer-web', targetMet: met, shareOfCeiling, ratioVsMoleculer };
}
