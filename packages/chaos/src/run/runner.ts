import { l8error } from '@layer8/protocol';
import { wallNow } from './agent-protocol.ts';
import { type FaultContext, type FaultOutcome, liveIds, observerKeys, runFault } from './faults.ts';
import { compareHealth } from './health-compare.ts';
import { Ledger } from './ledger.ts';
import type { LoadBatch, LoadFinal, LoadOptions } from './load-batch.ts';
import { exactlyUp, Observations } from './observe.ts';
import { ChaosOverlay, type PushListener } from './overlay.ts';
import type { Agent } from './process-agent.ts';
import { buildReport, type ChaosReport, type ChaosSetup } from './report.ts';
import { ALL_FAULT_KINDS, FAULT_KINDS, type FaultKind, planSchedule } from './schedule.ts';

/** Options of {@link runChaos}. */
export interface ChaosRunOptions {
  /** Seed of the fault schedule (and of the load's choices): the same seed replays the same faults. */
  readonly seed: number;
  /** How long the run lasts at least; faults are planned to fit in it, ms. */
  readonly durationMs: number;
  /** Requests per second each VNic sends. Default 20. */
  readonly rate?: number;
  /** Multicasts per second each VNic sends. Default 2. */
  readonly mcastRate?: number;
  /** Deadline of every request, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** Told what happens, one line at a time (a fault and its outcome). */
  readonly onProgress?: (line: string) => void;
  /**
   * The fault kinds to inject (each once first, then more picked by the seed). Default every kind the
   * overlay allows: {@link FAULT_KINDS}, and `disk-full` when it has a store disk.
   */
  readonly kinds?: readonly FaultKind[];
}

/** Options of {@link chaosRun}: a run on an overlay it starts and stops. */
export interface ChaosRunTopology extends ChaosRunOptions {
  readonly vnets: number;
  readonly vnicsPerVnet: number;
  /** Heartbeat deadline of every link, ms. Default 1000. */
  readonly heartbeatMs?: number;
  /**
   * Add `disk-full` faults: a stateful service on SQLite on a tmpfs the run mounts (needs root; when it
   * cannot, the kind is left out and the report says why). Default false.
   */
  readonly diskFull?: boolean;
}

/** How long a run waits for a detection, a recovery, convergence or the health tables to agree, ms. */
export const WAIT_MS = 20_000;

/**
 * `l8 chaos run`: starts a {@link ChaosOverlay}, runs {@link runChaos} on it and stops it.
 * @throws L8_ERR_INVALID_ARGUMENT for a bad shape, duration or seed; L8_ERR_CONNECT when a process cannot start
 */
export async function chaosRun(o: ChaosRunTopology): Promise<ChaosReport> {
  checkRun(o);
  const overlay = await ChaosOverlay.start({
    vnets: o.vnets,
    vnicsPerVnet: o.vnicsPerVnet,
    seed: o.seed,
    ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
    ...(o.diskFull === true ? { diskFull: true } : {}),
  });
  try {
    return await runChaos(overlay, o);
  } finally {
    await overlay.close();
  }
}

/**
 * Records the load batches the VNic agents of `overlay` push: each operation in a {@link Ledger}, each
 * health view in {@link Observations}, until `unlisten` is called.
 */
export function recordLoad(overlay: { onPush(listener: PushListener): () => void }): {
  ledger: Ledger;
  observations: Observations;
  unlisten: () => void;
} {
  const ledger = new Ledger();
  const observations = new Observations();
  const unlisten = overlay.onPush((agent, push) => {
    if (push.push !== 'load') return;
    const batch = push.body as LoadBatch;
    ledger.add(agent.key, batch);
    observations.add(agent.key, batch.health, batch.states);
  });
  return { ledger, observations, unlisten };
}

/**
 * Drives request and multicast load from every VNic of `overlay` while the seed's fault schedule runs,
 * one fault at a time (docs/reliability.md), then stops the load, lets every request settle and compares
 * the health tables of every node. Resolves with the report; the overlay stays up.
 */
export async function runChaos(overlay: ChaosOverlay, o: ChaosRunOptions): Promise<ChaosReport> {
  checkRun(o);
  const setup = setupOf(overlay, o);
  const { ledger, observations, unlisten } = recordLoad(overlay);
  const crashesBefore = overlay.crashes.length;
  const startLoad = (agent: Agent): Promise<void> => agent.call('chaos.start', loadOptions(o, setup, agent));
  const start = wallNow();
  let stopped = false;
  try {
    await Promise.all(overlay.vnics().map(startLoad));
    await settled(observations, overlay, start, 'the overlay to converge before the first fault');
    const ctx = { overlay, observations, ledger, startLoad, waitMs: WAIT_MS, timeoutMs: setup.timeoutMs };
    const faults = await runSchedule(ctx, o, setup, start);
    await new Promise((r) => setTimeout(r, Math.max(0, start + o.durationMs - wallNow())));
    await stopLoad(overlay, ledger, setup.timeoutMs);
    stopped = true;
    const durationMs = wallNow() - start;
    const health = await compareHealth(overlay, WAIT_MS);
    const crashed = overlay.crashes.slice(crashesBefore);
    const [requests, multicast, maxLagMs] = [ledger.requests(setup.timeoutMs), ledger.multicast(), ledger.maxLagMs];
    return buildReport({ seed: o.seed, setup, durationMs, requests, multicast, crashed, faults, health, maxLagMs });
  } finally {
    // a run that failed half-way leaves no load behind: the next run on this overlay starts afresh
    if (!stopped) await stopLoad(overlay, ledger, setup.timeoutMs);
    unlisten();
  }
}

/** Runs the seed's faults one after the other, telling each outcome as it comes. */
async function runSchedule(ctx: FaultContext, o: ChaosRunOptions, setup: ChaosSetup, start: number) {
  const faults: FaultOutcome[] = [];
  for (const f of planSchedule({ ...o, ...setup, kinds: kindsOf(ctx.overlay, o) })) {
    const outcome = await runFault(f, ctx, start);
    faults.push(outcome);
    o.onProgress?.(progressLine(outcome));
  }
  return faults;
}

/** The kinds a run on `overlay` injects: those asked, or every one it allows; `disk-full` only with a store disk. */
function kindsOf(overlay: ChaosOverlay, o: ChaosRunOptions): FaultKind[] {
  const all: FaultKind[] = overlay.disk === undefined ? [...FAULT_KINDS] : [...FAULT_KINDS, 'disk-full'];
  return o.kinds === undefined ? all : o.kinds.filter((k) => all.includes(k));
}

function setupOf(overlay: ChaosOverlay, o: ChaosRunOptions): ChaosSetup {
  const leftOut = overlay.diskLeftOut === undefined ? {} : { leftOut: { 'disk-full': overlay.diskLeftOut } };
  return {
    ...leftOut,
    vnets: overlay.hosts.length,
    vnicsPerVnet: overlay.hosts[0]?.vnics.length ?? 0,
    heartbeatMs: overlay.heartbeatMs,
    provider: 'tls',
    rate: o.rate ?? 20,
    mcastRate: o.mcastRate ?? 2,
    timeoutMs: o.timeoutMs ?? 2000,
  };
}

/** What `chaos.start` asks of a VNic agent: the run's load, with a seed of its own. */
export function loadOptions(o: ChaosRunOptions, setup: ChaosSetup, agent: Agent): Record<string, unknown> {
  const load: LoadOptions = {
    rate: setup.rate,
    mcastRate: setup.mcastRate,
    timeoutMs: setup.timeoutMs,
    maxInFlight: Math.max(16, Math.ceil((setup.rate * setup.timeoutMs) / 1000)),
    seed: (o.seed ^ agent.pid) >>> 0,
  };
  return { ...load };
}

async function settled(observations: Observations, overlay: ChaosOverlay, since: number, what: string): Promise<void> {
  const seen = await observations.when(observerKeys(overlay), since, exactlyUp([...liveIds(overlay)]), WAIT_MS);
  if (seen.at === undefined)
    throw l8error('L8_ERR_TIMEOUT', `timed out waiting for ${what}: ${seen.missing.join(', ')}`);
}

/** Stops every VNic's load and records what each left unsettled past its deadline. */
export async function stopLoad(overlay: { vnics(): Agent[] }, ledger: Ledger, timeoutMs: number): Promise<void> {
  await Promise.all(
    overlay.vnics().map(async (a) => {
      const final = await a.call<LoadFinal>('chaos.stop', {}, timeoutMs + 10_000).catch(() => undefined);
      if (final !== undefined) ledger.finished(a.key, final.unsettled);
    }),
  );
}

/** One line of progress: a fault and what came of it. */
export function progressLine(f: FaultOutcome): string {
  const ms = (v: number | null | undefined): string => (v === undefined ? '-' : v === null ? 'missed' : `${v} ms`);
  const error = f.error === undefined ? '' : `  error: ${f.error}`;
  return `${f.kind} ${f.target} for ${f.holdMs} ms at +${f.atMs} ms: detected ${ms(f.detectMs)}, recovered ${ms(f.recoverMs)}, converged ${ms(f.convergeMs)}${error}`;
}

/** @throws L8_ERR_INVALID_ARGUMENT for a duration, rate or deadline out of range */
export function checkRun(o: ChaosRunOptions): void {
  const positive = (v: number | undefined, what: string, max: number): void => {
    if (v !== undefined && !(v > 0 && v <= max))
      throw l8error('L8_ERR_INVALID_ARGUMENT', `${what} must be above 0 and at most ${max} (got ${v})`);
  };
  positive(o.durationMs, 'duration (ms)', 24 * 3600_000);
  positive(o.rate, 'request rate', 10_000);
  positive(o.mcastRate, 'multicast rate', 10_000);
  positive(o.timeoutMs, 'request deadline (ms)', 600_000);
  const unknown = (o.kinds ?? []).filter((k) => !ALL_FAULT_KINDS.includes(k));
  if (unknown.length > 0 || o.kinds?.length === 0)
    throw l8error('L8_ERR_INVALID_ARGUMENT', `fault kinds must be some of ${ALL_FAULT_KINDS.join(', ')}`);
}
