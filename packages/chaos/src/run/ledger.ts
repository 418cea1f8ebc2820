import { LATE_GRACE_MS } from './load.ts';
import { ANSWERED, type LoadBatch, type SettledRequest } from './load-batch.ts';

/**
 * Where every request of a run ended. Each request is in exactly one bucket: `answered` (on time),
 * `failedByCode` (a coded error on time), `lost` (no outcome by its deadline and the grace: never settled,
 * or settled late), `abandoned` (its requester was killed by the run before it settled) or `mismatched`
 * (answered with another request's reply). So `requests` is the sum of the other buckets.
 */
export interface RequestTally {
  readonly requests: number;
  readonly answered: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  readonly lost: number;
  /** Of `lost`: settled, but later than the deadline and the grace. */
  readonly late: number;
  readonly abandoned: number;
  readonly mismatched: number;
  /** Durations of the answered requests, ms. */
  readonly latencies: readonly number[];
}

/** One requester incarnation's record of its load. */
export interface IncarnationLoad {
  /** Requests it sent (the last batch's total). */
  readonly sent: number;
  readonly settled: readonly SettledRequest[];
  /** Send times of what was unsettled after its deadline when the load stopped; undefined when it never stopped (killed). */
  readonly unsettled: readonly number[] | undefined;
  /**
   * Windows when the process did not run, epoch ms: stopped by the run (SIGSTOP) or stalled (starved of
   * CPU). Lateness in them is the process's own, not the overlay's.
   */
  readonly paused: readonly (readonly [number, number])[];
}

/** The time a window [from, to] overlaps the union of the windows `paused` (which may overlap), ms. */
export function overlapMs(paused: readonly (readonly [number, number])[], from: number, to: number): number {
  const clipped = paused
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let ms = 0;
  let end = from;
  for (const [a, b] of clipped) {
    if (b <= end) continue;
    ms += b - Math.max(a, end);
    end = b;
  }
  return ms;
}

/** Sorts one incarnation's requests into the buckets of {@link RequestTally}. */
export function tallyIncarnation(load: IncarnationLoad, timeoutMs: number): RequestTally {
  const failed: Record<string, number> = {};
  const latencies: number[] = [];
  let late = 0;
  let mismatched = 0;
  for (const [sentAt, ms, code] of load.settled) {
    const over = ms - timeoutMs - overlapMs(load.paused, sentAt, sentAt + ms);
    if (over > LATE_GRACE_MS) late++;
    else if (code === ANSWERED) latencies.push(ms);
    else if (code === 'MISMATCH') mismatched++;
    else failed[code] = (failed[code] ?? 0) + 1;
  }
  const unsettled = load.unsettled?.length ?? 0;
  const abandoned = Math.max(0, load.sent - load.settled.length - unsettled);
  return {
    requests: load.sent,
    answered: latencies.length,
    failedByCode: failed,
    lost: late + unsettled,
    late,
    abandoned,
    mismatched,
    latencies,
  };
}

/** The sum of tallies. */
export function sumTallies(tallies: readonly RequestTally[]): RequestTally {
  const failed: Record<string, number> = {};
  for (const t of tallies)
    for (const [code, n] of Object.entries(t.failedByCode)) failed[code] = (failed[code] ?? 0) + n;
  const sum = (f: (t: RequestTally) => number): number => tallies.reduce((s, t) => s + f(t), 0);
  return {
    requests: sum((t) => t.requests),
    answered: sum((t) => t.answered),
    failedByCode: failed,
    lost: sum((t) => t.lost),
    late: sum((t) => t.late),
    abandoned: sum((t) => t.abandoned),
    mismatched: sum((t) => t.mismatched),
    latencies: tallies.flatMap((t) => t.latencies),
  };
}

/** The value below which `q` (0-1) of the sorted `values` fall (nearest rank); 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Multicast totals of a run. */
export interface MulticastTally {
  readonly sent: number;
  readonly refusedByCode: Readonly<Record<string, number>>;
  readonly delivered: number;
  readonly duplicates: number;
}

/**
 * The load of every incarnation of a run, fed by the agents' batches: the last batch's totals, every
 * settled request, the pauses the run made, and the unsettled requests of those that stopped cleanly.
 *
 * Invariant: an incarnation's `settled` holds every request its batches reported settled, in order, and
 * its `lagMs` the largest `lagMs` of its batches.
 */
export class Ledger {
  readonly #runs = new Map<
    string,
    { last: LoadBatch; settled: SettledRequest[]; lagMs: number; unsettled?: readonly number[] }
  >();
  /** Windows each incarnation did not run: stopped by the run, or stalled (they may overlap: see overlapMs). */
  readonly #paused = new Map<string, [number, number][]>();
  /** Incarnations the run stopped (SIGSTOP). */
  readonly #stopped = new Set<string>();

  /** Adds a batch of incarnation `key` (its stalls count as times it was stopped). */
  add(key: string, batch: LoadBatch): void {
    for (const [from, to] of batch.stalls) this.#stalled(key, from, to);
    const run = this.#runs.get(key);
    if (run === undefined) this.#runs.set(key, { last: batch, settled: [...batch.settled], lagMs: batch.lagMs });
    else {
      run.last = batch;
      run.settled.push(...batch.settled);
      run.lagMs = Math.max(run.lagMs, batch.lagMs);
    }
  }

  /** Records that the run stopped incarnation `key` from `from` to `to` (epoch ms). */
  paused(key: string, from: number, to: number): void {
    this.#stopped.add(key);
    this.#stalled(key, from, to);
  }

  #stalled(key: string, from: number, to: number): void {
    const list = this.#paused.get(key) ?? [];
    list.push([from, to]);
    this.#paused.set(key, list);
  }

  /** Records what incarnation `key` left unsettled when its load stopped. */
  finished(key: string, unsettled: readonly number[]): void {
    const run = this.#runs.get(key);
    if (run !== undefined) run.unsettled = unsettled;
  }

  /** The requests of every incarnation, sorted into buckets. */
  requests(timeoutMs: number): RequestTally {
    const tallies = [...this.#runs].map(([key, r]) =>
      tallyIncarnation(
        { sent: r.last.sent, settled: r.settled, unsettled: r.unsettled, paused: this.#paused.get(key) ?? [] },
        timeoutMs,
      ),
    );
    return sumTallies(tallies);
  }

  /** Multicasts of every incarnation, and requests served twice (counted as duplicates with the copies). */
  multicast(): MulticastTally & { readonly dupRequests: number } {
    const refused: Record<string, number> = {};
    let [sent, delivered, duplicates, dupRequests] = [0, 0, 0, 0];
    for (const { last } of this.#runs.values()) {
      sent += last.mcastSent;
      delivered += last.delivered;
      duplicates += last.dupDeliveries;
      dupRequests += last.dupRequests;
      for (const [code, n] of Object.entries(last.mcastRefused)) refused[code] = (refused[code] ?? 0) + n;
    }
    return { sent, refusedByCode: refused, delivered, duplicates, dupRequests };
  }

  /** The largest event-loop delay a requester reported, ms; those the run stopped (SIGSTOP) are left out. */
  get maxLagMs(): number {
    let max = 0;
    for (const [key, r] of this.#runs) if (!this.#stopped.has(key)) max = Math.max(max, r.lagMs);
    return max;
  }
}
