/**
 * One measurement window of the overlay benchmark: start the load, warm up, read counters and the CPU
 * time of every process of the case, wait, read again, stop. Rates are per second of the window; CPU is
 * summed over all the case's processes (workers and nats-server alike, from /proc).
 */
import { round } from './harness.ts';
import { sleep } from './overlay-ipc.ts';
import type { Mark } from './overlay-load.ts';
import { type Child, procCpuUs, procPeakRssMB, resetPeakRss } from './overlay-proc.ts';

/** Warm-up and measurement durations, ms. */
export interface Timing {
  readonly warmMs: number;
  readonly ms: number;
}

/** A count of operations at one instant, with the latency since the previous count where it applies. */
export interface Count {
  readonly ops: number;
  readonly sent?: number;
  readonly errors: number;
  readonly lastError?: string;
  readonly p50Us?: number;
  readonly p99Us?: number;
}

/** What a case measures: the processes it spans, how to start and stop its load, how to count. */
export interface CaseSpec {
  readonly pids: readonly number[];
  /** Keep the processes' peak RSS from before the window (set-up included). Default false. */
  readonly keepPeak?: boolean;
  /**
   * More processes whose CPU counts but whose RSS does not (a database server's backends for this
   * client), listed once the load has warmed up.
   */
  readonly cpuPids?: () => Promise<readonly number[]>;
  readonly start: () => Promise<unknown>;
  readonly count: () => Promise<Count>;
  readonly stop: () => Promise<unknown>;
}

/** The figures of one window. */
export interface Window {
  readonly rate: number;
  readonly ops: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly rssMB: number;
  readonly cpuUsPerOp: number;
  readonly errors: number;
  readonly lastError?: string;
  readonly sentRate?: number;
}

const cpuOf = (pids: readonly number[]): number => pids.reduce((s, p) => s + procCpuUs(p), 0);

/** Runs one window of `spec`. The load is stopped even when counting fails. */
export async function measure(spec: CaseSpec, t: Timing): Promise<Window> {
  if (spec.keepPeak !== true) for (const pid of spec.pids) resetPeakRss(pid);
  await spec.start();
  try {
    await sleep(t.warmMs);
    const cpuPids = [...spec.pids, ...((await spec.cpuPids?.()) ?? [])];
    const c0 = await spec.count();
    const cpu0 = cpuOf(cpuPids);
    const t0 = performance.now();
    await sleep(t.ms);
    const cpu1 = cpuOf(cpuPids);
    const c1 = await spec.count();
    const seconds = (performance.now() - t0) / 1000;
    const ops = c1.ops - c0.ops;
    const latency = c1.p50Us === undefined ? {} : { p50Us: c1.p50Us, p99Us: c1.p99Us as number };
    const sent = c1.sent === undefined ? {} : { sentRate: Math.round((c1.sent - (c0.sent ?? 0)) / seconds) };
    const err = c1.lastError === undefined ? {} : { lastError: c1.lastError };
    return {
      rate: Math.round(ops / seconds),
      ops,
      ...latency,
      rssMB: round(Math.max(...spec.pids.map(procPeakRssMB))),
      cpuUsPerOp: ops > 0 ? round((cpu1 - cpu0) / ops, 2) : 0,
      errors: c1.errors - c0.errors,
      ...err,
      ...sent,
    };
  } finally {
    await spec.stop();
  }
}

/** Counts the requests completed by `requester`, with its latency percentiles. */
export function requestCount(requester: Child): () => Promise<Count> {
  return async () => {
    const { done, sent: _sent, received: _received, ...rest } = await requester.call<Mark>('mark');
    return { ...rest, ops: done };
  };
}

/**
 * Counts one-way messages received by `sinks`, divided by `fanout` (9 for multicast-9: a message counts
 * once all its copies arrived on average), with what `sender` sent.
 */
export function receivedCount(sender: Child, sinks: readonly Child[], fanout = 1): () => Promise<Count> {
  return async () => {
    const [s, ...marks] = await Promise.all([sender, ...sinks].map((c) => c.call<Mark>('mark')));
    const received = marks.reduce((n, m) => n + m.received, 0);
    const sent = s as Mark;
    const err = sent.lastError === undefined ? {} : { lastError: sent.lastError };
    return { ops: received / fanout, sent: sent.sent, errors: sent.errors, ...err };
  };
}
