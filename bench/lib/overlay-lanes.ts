/**
 * The fair order of the overlay benchmark (issue 17): every system's setup for a group of cases is built
 * first, then each case runs its measurement windows in turns, A B C A B C …, `repeats` times, so that
 * the machine's drift hits every system alike; a row is the median of its windows with min and max.
 * Also the `raw-tcp` pair, the physical limit every row is read against.
 */

import { join } from 'node:path';
import { initSecurity, TlsProvider } from '@layer8/security';
import { script } from './ext.ts';
import { type BenchRow, say } from './harness.ts';
import { type CaseSpec, measure, type Timing } from './overlay-measure.ts';
import type { Fleet } from './overlay-proc.ts';
import { type Fanout, forkAll, guarded, type L8Security, type Pair, pairOf } from './overlay-systems.ts';

const RAW = script('overlay-raw');

import { rowOf, type Sample } from './services-stats.ts';

/** One system's setup for a group of cases, with the tags its rows carry. */
export interface Lane<S extends Pair | Fanout> {
  readonly system: string;
  readonly setup: () => Promise<S>;
  readonly tags?: object;
}

/** One case of a group: its name and the window it measures on a built setup. */
export interface LaneCase<S extends Pair | Fanout> {
  readonly name: string;
  readonly spec: (s: S) => CaseSpec;
  readonly tags?: object;
}

/** What a group run needs: the fleet, timing, repeats, and where its rows go. */
export interface LaneRun {
  readonly fleet: Fleet;
  readonly timing: Timing;
  readonly repeats: number;
  readonly rows: BenchRow[];
}

/**
 * Builds every lane, runs `cases` interleaved over them, `run.repeats` times, and adds one row per
 * (system, case). A lane whose setup fails gets rows `skipped` with the error; the others go on.
 */
export async function interleave<S extends Pair | Fanout>(
  run: LaneRun,
  lanes: readonly Lane<S>[],
  cases: readonly LaneCase<S>[],
): Promise<void> {
  if (cases.length === 0) return;
  const built: { lane: Lane<S>; value: S; samples: Map<string, Sample[]> }[] = [];
  try {
    for (const lane of lanes) {
      try {
        built.push({ lane, value: await lane.setup(), samples: new Map() });
      } catch (err) {
        skip(run, lane.system, cases, err);
      }
    }
    for (const c of cases) {
      for (let r = 0; r < run.repeats; r++) {
        for (const b of built) await window(run, b, c);
      }
    }
  } finally {
    for (const b of built) await run.fleet.stop(b.value.children);
  }
  for (const b of built) for (const c of cases) addRow(run, b.lane, c, b.samples.get(c.name) ?? []);
}

async function window<S extends Pair | Fanout>(
  run: LaneRun,
  b: { lane: Lane<S>; value: S; samples: Map<string, Sample[]> },
  c: LaneCase<S>,
): Promise<void> {
  try {
    const w = await measure(c.spec(b.value), run.timing);
    say(
      `${b.lane.system} ${c.name}: ${w.rate} /s cpu ${w.cpuUsPerOp} µs/op${w.errors > 0 ? ` ${w.errors} errors` : ''}`,
    );
    const list = b.samples.get(c.name) ?? [];
    list.push(w);
    b.samples.set(c.name, list);
  } catch (err) {
    say(`${b.lane.system} ${c.name}: error ${(err as Error).message}`);
  }
}

function addRow<S extends Pair | Fanout>(run: LaneRun, lane: Lane<S>, c: LaneCase<S>, samples: Sample[]): void {
  if (samples.length === 0) run.rows.push({ system: lane.system, case: c.name, skipped: 'every window failed' });
  else run.rows.push(rowOf(lane.system, c.name, samples, { ...lane.tags, ...c.tags }));
}

function skip(run: LaneRun, system: string, cases: readonly { name: string }[], err: unknown): void {
  const message = `error: ${(err as Error).message}`;
  say(`${system}: ${message}`);
  for (const c of cases) run.rows.push({ system, case: c.name, skipped: message });
}

/** Two processes over one TCP loopback connection, length-prefixed frames (bench/lib/overlay-raw.ts). */
export function rawPair(fleet: Fleet): Promise<Pair> {
  return guarded(fleet, async (children) => {
    const [responder, requester] = await forkAll(fleet, children, RAW, ['raw-responder', 'raw-requester']);
    if (responder === undefined || requester === undefined) throw new Error('fork failed');
    await requester.call('dial', { port: await responder.call<number>('listen') });
    return pairOf(children, [], requester, responder, {
      requests: (concurrency) => requester.call('requests', { concurrency }),
      stream: () => requester.call('stream'),
    });
  });
}

/** The default TLS provider when it is exported and works here, else the reason it is not used. */
export async function tlsSecurity(dir: string): Promise<L8Security | { why: string }> {
  const sec = join(dir, 'security');
  try {
    const nodes = ['req', 'resp', 'pub', 'subs-0', 'subs-1', 'subs-2'];
    const vnets = ['vnet-0', 'vnet-1', 'vnet-2'];
    const san = { dns: ['localhost'], ips: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] };
    await initSecurity({ dir: sec, nodes, vnets, san });
    new TlsProvider({ dir: sec, node: 'req' });
    return { kind: 'tls', dir: sec };
  } catch (err) {
    return { kind: 'dev', why: `TlsProvider unavailable: ${(err as Error).message}` };
  }
}
