import { toL8Error } from '@layer8/protocol';
import { wallNow } from './agent-protocol.ts';
import { type DiskOutcome, diskFull } from './disk-fault.ts';
import { type ProbeOutcome, probeForeign, probeStolenId } from './hostile.ts';
import type { Ledger } from './ledger.ts';
import { allUp, exactlyUp, noneUp, type Observations } from './observe.ts';
import type { ChaosOverlay } from './overlay.ts';
import type { Agent } from './process-agent.ts';
import type { FaultKind, PlannedFault } from './schedule.ts';

/** What a fault needs from its run. */
export interface FaultContext {
  readonly overlay: ChaosOverlay;
  readonly observations: Observations;
  readonly ledger: Ledger;
  /** Starts the load on a restarted VNic process. */
  readonly startLoad: (agent: Agent) => Promise<void>;
  /** How long to wait for a detection, a recovery or the overlay to converge, ms. */
  readonly waitMs: number;
  /** The deadline of every request (and of every write to the chaos store), ms. Default 2000. */
  readonly timeoutMs?: number;
}

/** What one fault did and what the overlay did about it (times in ms; null: expected and not seen). */
export interface FaultOutcome {
  readonly kind: FaultKind;
  /** What was hit: `vnet-1`, `vnic-0-2`, `vnet-0|vnet-2` (a link). */
  readonly target: string;
  readonly holdMs: number;
  /** When it began, ms after the run's start. */
  readonly atMs: number;
  /** From the fault to every observer seeing the victim not up (kills, partitions, pauses). */
  readonly detectMs?: number | null;
  /**
   * Kill of a VNet: from its return to every VNic of its host connected to it again. Partition: from
   * the heal to both sides seeing each other up. Kill of a VNic: from its return to every other VNic
   * seeing it up. Pause: from SIGCONT to every observer seeing the victim up.
   */
  readonly recoverMs?: number | null;
  /** From the end of the fault to every VNic seeing exactly the live nodes up. */
  readonly convergeMs: number | null;
  /** Nodes seen unreachable or removed that the fault does not explain. */
  readonly spurious: number;
  /** Observers that missed a detection or recovery. */
  readonly missing?: readonly string[];
  /** Hostile joins tried while the fault was on or just after: each must be refused. */
  readonly probes: readonly ProbeOutcome[];
  /** An error that stopped the fault's injection or measurement. */
  readonly error?: string;
  /** `disk-full`: the writes to the chaos store, refused while full and read back after. */
  readonly disk?: DiskOutcome;
}

/** A fault's measurements before the common parts are added. */
export type Measured = Pick<FaultOutcome, 'detectMs' | 'recoverMs' | 'missing' | 'disk'> & { endedAt: number };

/** The hostile joins of one fault, as they are tried. */
type Probes = Promise<ProbeOutcome>[];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Injects `f`, holds it, ends it, and measures detection, recovery and convergence. */
export async function runFault(f: PlannedFault, ctx: FaultContext, runStart: number): Promise<FaultOutcome> {
  const at = wallNow();
  const base = { kind: f.kind, target: targetOf(f), holdMs: f.holdMs, atMs: Math.round(at - runStart) };
  const before = liveIds(ctx.overlay);
  const probes: Probes = [];
  return settle(base, probes, async () => {
    const m = await inject(f, ctx, at, probes);
    const after = liveIds(ctx.overlay);
    const converged = await ctx.observations.when(
      observerKeys(ctx.overlay),
      m.endedAt,
      exactlyUp([...after]),
      ctx.waitMs,
    );
    return { m, convergedAt: converged.at, spurious: spuriousLosses(f, ctx, before, at, converged.at ?? wallNow()) };
  });
}

/** What a fault measured, before its hostile joins are awaited. */
export interface Settled {
  readonly m: Measured;
  /** When the observers agreed again, if they did within the wait. */
  readonly convergedAt: number | undefined;
  readonly spurious: number;
}

/**
 * The outcome of one fault: `measure` run to its end and the hostile joins (`probes`, which the fault may
 * add to while it runs) awaited; a fault that throws is reported with its error and no convergence.
 */
export async function settle(
  base: Pick<FaultOutcome, 'kind' | 'target' | 'holdMs' | 'atMs'>,
  probes: readonly Promise<ProbeOutcome>[],
  measure: () => Promise<Settled>,
): Promise<FaultOutcome> {
  try {
    const { m, convergedAt, spurious } = await measure();
    return {
      ...base,
      ...pick(m),
      convergeMs: since(convergedAt, m.endedAt),
      spurious,
      probes: await Promise.all(probes),
    };
  } catch (err) {
    return { ...base, convergeMs: null, spurious: 0, probes: await Promise.all(probes), error: toL8Error(err).message };
  }
}

function inject(f: PlannedFault, ctx: FaultContext, at: number, probes: Probes): Promise<Measured> {
  switch (f.kind) {
    case 'kill-vnet':
      return killVNet(f, ctx, at, probes);
    case 'kill-vnic':
      return killVNic(f, ctx, at, probes);
    case 'partition':
      return partition(f, ctx, at, probes);
    case 'latency':
    case 'loss':
      probes.push(probeForeign(ctx.overlay, f.hosts[0] as number));
      return degrade(f, ctx);
    case 'pause':
      return pause(f, ctx, at, probes);
    case 'disk-full':
      probes.push(probeForeign(ctx.overlay, 0));
      return diskMeasured(f, ctx);
  }
}

async function killVNet(f: PlannedFault, ctx: FaultContext, at: number, probes: Probes): Promise<Measured> {
  const h = f.hosts[0] as number;
  const host = ctx.overlay.hosts[h] as NonNullable<(typeof ctx.overlay.hosts)[number]>;
  const old = host.vnet;
  const observers = others(ctx.overlay, [h]);
  await old.kill9();
  // its VNics are out of every table now: another host's VNet must still refuse their ids to another certificate
  const orphan = host.vnics[0] as Agent;
  const away = (h + 1) % ctx.overlay.hosts.length;
  await ctx.observations.when(others(ctx.overlay, [h]), at, noneUp([orphan.nodeId]), f.holdMs);
  probes.push(probeStolenId(ctx.overlay, away, orphan.nodeId, orphan.config.alias));
  await sleep(Math.max(0, at + f.holdMs - wallNow()));
  const vnet = await ctx.overlay.restartVNet(h);
  probes.push(probeForeign(ctx.overlay, h));
  const detected = await ctx.observations.when(observers, at, noneUp([old.nodeId]), ctx.waitMs);
  const locals = host.vnics.map((a) => a.key);
  const back = await ctx.observations.connected(locals, vnet.readyAt, vnet.nodeId, ctx.waitMs);
  return measured(at, detected, vnet.readyAt, back, vnet.readyAt);
}

async function killVNic(f: PlannedFault, ctx: FaultContext, at: number, probes: Probes): Promise<Measured> {
  const [h, k] = [f.hosts[0] as number, f.vnic as number];
  const old = ctx.overlay.hosts[h]?.vnics[k] as Agent;
  const observers = observerKeys(ctx.overlay).filter((o) => o !== old.key);
  await old.kill9();
  probes.push(probeStolenId(ctx.overlay, h, old.nodeId, old.config.alias));
  const detected = await ctx.observations.when(observers, at, noneUp([old.nodeId]), ctx.waitMs);
  await sleep(Math.max(0, at + f.holdMs - wallNow()));
  const agent = await ctx.overlay.restartVNic(h, k);
  await ctx.startLoad(agent);
  const back = await ctx.observations.when(observers, agent.readyAt, allUp([agent.nodeId]), ctx.waitMs);
  return measured(at, detected, agent.readyAt, back, agent.readyAt);
}

async function partition(f: PlannedFault, ctx: FaultContext, at: number, probes: Probes): Promise<Measured> {
  const [a, b] = [f.hosts[0] as number, f.hosts[1] as number];
  const proxy = ctx.overlay.link(a, b);
  const [onA, onB] = [keysOn(ctx.overlay, a), keysOn(ctx.overlay, b)];
  const [vnetA, vnetB] = [vnetId(ctx.overlay, a), vnetId(ctx.overlay, b)];
  proxy.stall();
  const seen = await Promise.all([
    ctx.observations.when(onA, at, noneUp([vnetB]), f.holdMs),
    ctx.observations.when(onB, at, noneUp([vnetA]), f.holdMs),
  ]);
  const across = ctx.overlay.hosts[b]?.vnics[0] as Agent;
  probes.push(probeStolenId(ctx.overlay, a, across.nodeId, across.config.alias), probeForeign(ctx.overlay, a));
  await sleep(Math.max(0, at + f.holdMs - wallNow()));
  const healed = wallNow();
  proxy.heal();
  const back = await Promise.all([
    ctx.observations.when(onA, healed, allUp(hostIds(ctx.overlay, b)), ctx.waitMs),
    ctx.observations.when(onB, healed, allUp(hostIds(ctx.overlay, a)), ctx.waitMs),
  ]);
  return measured(at, both(seen), healed, both(back), healed);
}

/** A full disk under the chaos store: detected at the first refusal, recovered at the first write after the free. */
async function diskMeasured(f: PlannedFault, ctx: FaultContext): Promise<Measured> {
  const r = await diskFull(f, ctx.overlay, ctx.waitMs, ctx.timeoutMs ?? 2000);
  const seen = (t: number | undefined, what: string) => ({ at: t, missing: t === undefined ? [what] : [] });
  const refused = seen(r.refusedAt, 'a write refused while full');
  const back = seen(r.backAt, 'a write acknowledged after the free');
  return { ...measured(r.filledAt, refused, r.freedAt, back, r.backAt ?? r.freedAt), disk: r.disk };
}

async function degrade(f: PlannedFault, ctx: FaultContext): Promise<Measured> {
  const proxy = ctx.overlay.link(f.hosts[0] as number, f.hosts[1] as number);
  proxy.delayMs = f.delayMs ?? 0;
  proxy.loss = f.loss ?? 0;
  await sleep(f.holdMs);
  proxy.heal();
  return { endedAt: wallNow() };
}

async function pause(f: PlannedFault, ctx: FaultContext, at: number, probes: Probes): Promise<Measured> {
  const h = f.hosts[0] as number;
  const host = ctx.overlay.hosts[h];
  const victim = (f.vnic === undefined ? host?.vnet : host?.vnics[f.vnic]) as Agent;
  const observers =
    f.vnic === undefined ? others(ctx.overlay, [h]) : observerKeys(ctx.overlay).filter((o) => o !== victim.key);
  victim.signal('pause');
  const detected = await ctx.observations.when(observers, at, noneUp([victim.nodeId]), f.holdMs);
  await sleep(Math.max(0, at + f.holdMs - wallNow()));
  victim.signal('resume');
  const resumed = wallNow();
  if (f.vnic !== undefined) ctx.ledger.paused(victim.key, at, resumed);
  const ids = f.vnic === undefined ? hostIds(ctx.overlay, h) : [victim.nodeId];
  const back = await ctx.observations.when(observers, resumed, allUp(ids), ctx.waitMs);
  probes.push(probeForeign(ctx.overlay, h));
  return measured(at, detected, resumed, back, resumed);
}

/** Detection and recovery from the times seen; null where an observer missed it. */
export function measured(
  at: number,
  detected: { at: number | undefined; missing: readonly string[] },
  from: number,
  back: { at: number | undefined; missing: readonly string[] },
  endedAt: number,
): Measured {
  const missing = [...detected.missing.map((o) => `${o} (detect)`), ...back.missing.map((o) => `${o} (recover)`)];
  return {
    detectMs: since(detected.at, at),
    recoverMs: since(back.at, from),
    endedAt,
    ...(missing.length ? { missing } : {}),
  };
}

/** The latest of several sightings (undefined when one was missed), and who missed them. */
export function both(seen: readonly { at: number | undefined; missing: readonly string[] }[]) {
  const missing = seen.flatMap((s) => s.missing);
  const times = seen.map((s) => s.at);
  return { at: times.includes(undefined) ? undefined : Math.max(...(times as number[])), missing };
}

/** Ms from `from` to `t`, null when `t` never came. */
export function since(t: number | undefined, from: number): number | null {
  return t === undefined ? null : Math.max(0, Math.round(t - from));
}

/** The measurements without the end time. */
export function pick(m: Measured): Omit<Measured, 'endedAt'> {
  const { endedAt: _, ...rest } = m;
  return rest;
}

/**
 * Losses the fault does not explain: nodes seen unreachable or removed by observers it did not cut off,
 * other than its victims (the killed, stopped or partitioned nodes, and incarnations that died).
 */
function spuriousLosses(
  f: PlannedFault,
  ctx: FaultContext,
  before: ReadonlySet<string>,
  from: number,
  to: number,
): number {
  const live = liveIds(ctx.overlay);
  const dead = [...before].filter((id) => !live.has(id));
  const h = f.hosts[0] as number;
  let observers = observerKeys(ctx.overlay);
  let victims: string[] = dead;
  if (f.vnic !== undefined) {
    const victim = ctx.overlay.hosts[h]?.vnics[f.vnic];
    observers = observers.filter((o) => o !== victim?.key);
    victims = [...dead, victim?.nodeId ?? ''];
  } else if (f.kind === 'kill-vnet' || f.kind === 'pause') {
    observers = others(ctx.overlay, [h]);
    victims = [...dead, ...hostIds(ctx.overlay, h)];
  } else if (f.kind === 'partition') observers = others(ctx.overlay, f.hosts);
  const hit = new Set(victims);
  return ctx.observations.losses(observers, from, to, (node) => !hit.has(node));
}

function targetOf(f: PlannedFault): string {
  if (f.kind === 'disk-full') return `store@vnet-${f.hosts[0]}`;
  if (f.hosts.length === 2) return `vnet-${f.hosts[0]}|vnet-${f.hosts[1]}`;
  return f.vnic === undefined ? `vnet-${f.hosts[0]}` : `vnic-${f.hosts[0]}-${f.vnic}`;
}

/** Keys of every VNic process (the observers). */
export function observerKeys(overlay: ChaosOverlay): string[] {
  return overlay.vnics().map((a) => a.key);
}

/** Node ids of every live process. */
export function liveIds(overlay: ChaosOverlay): Set<string> {
  return new Set(overlay.agents().map((a) => a.nodeId));
}

function others(overlay: ChaosOverlay, hosts: readonly number[]): string[] {
  return overlay.hosts.filter((h) => !hosts.includes(h.index)).flatMap((h) => h.vnics.map((a) => a.key));
}

function keysOn(overlay: ChaosOverlay, h: number): string[] {
  return overlay.hosts[h]?.vnics.map((a) => a.key) ?? [];
}

function vnetId(overlay: ChaosOverlay, h: number): string {
  return overlay.hosts[h]?.vnet.nodeId ?? '';
}

function hostIds(overlay: ChaosOverlay, h: number): string[] {
  const host = overlay.hosts[h];
  const store = host?.store === undefined ? [] : [host.store.nodeId];
  return host === undefined ? [] : [host.vnet.nodeId, ...host.vnics.map((a) => a.nodeId), ...store];
}
