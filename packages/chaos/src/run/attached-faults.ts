import { l8error } from '@layer8/protocol';
import { wallNow } from './agent-protocol.ts';
import type { AttachedOverlay } from './attached-overlay.ts';
import { both, type FaultOutcome, type Measured, measured, settle } from './faults.ts';
import { type ProbeOutcome, probeForeignAt } from './hostile.ts';
import type { Ledger } from './ledger.ts';
import { allUp, noneUp, type Observations, type TablePredicate } from './observe.ts';
import type { Agent } from './process-agent.ts';
import type { PlannedFault } from './schedule.ts';

/**
 * The faults of a run against a running overlay (docs/reliability.md, "Against your own deployment"):
 * each hits one VNic process the run started, or its link to its VNet through the run's own proxy. The
 * observers are the run's other VNics, wherever they are attached.
 */

/** What a fault needs from a run against a running overlay. */
export interface AttachedContext {
  readonly overlay: AttachedOverlay;
  readonly observations: Observations;
  readonly ledger: Ledger;
  /** Starts the load on a restarted VNic process. */
  readonly startLoad: (agent: Agent) => Promise<void>;
  /** How long to wait for a detection, a recovery or the overlay to converge, ms. */
  readonly waitMs: number;
  /** Node ids of the incarnations the run killed: none may be seen up again. */
  readonly dead: Set<string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Injects `f` on a VNic of the run, holds it, ends it, and measures detection, recovery and convergence. */
export async function runAttachedFault(f: PlannedFault, ctx: AttachedContext, runStart: number): Promise<FaultOutcome> {
  const at = wallNow();
  const [h, k] = [f.hosts[0] as number, f.vnic as number];
  const link = f.kind === 'partition' || f.kind === 'latency' || f.kind === 'loss';
  const target = `vnic-${h}-${k}${link ? `|vnet-${h}` : ''}`;
  const base = { kind: f.kind, target, holdMs: f.holdMs, atMs: Math.round(at - runStart) };
  const victim = victimOf(ctx, h, k);
  const probes: Promise<ProbeOutcome>[] = [probe(ctx, h)];
  return settle(base, probes, async () => {
    const m = await inject(f, ctx, at, victim);
    const converged = await ctx.observations.when(observers(ctx), m.endedAt, settledOn(ctx), ctx.waitMs);
    return { m, convergedAt: converged.at, spurious: spuriousLosses(ctx, victim, at, converged.at ?? wallNow()) };
  });
}

function inject(f: PlannedFault, ctx: AttachedContext, at: number, victim: Agent): Promise<Measured> {
  switch (f.kind) {
    case 'kill-vnic':
      return killVNic(f, ctx, at, victim);
    case 'pause':
      return pause(f, ctx, at, victim);
    case 'partition':
      return partition(f, ctx, at, victim);
    case 'latency':
    case 'loss':
      return degrade(f, ctx);
    default:
      return Promise.reject(
        l8error('L8_ERR_UNSUPPORTED', `${f.kind} is not a fault of a run against a running overlay`),
      );
  }
}

async function killVNic(f: PlannedFault, ctx: AttachedContext, at: number, old: Agent): Promise<Measured> {
  const watchers = observers(ctx, old);
  await old.kill9();
  ctx.dead.add(old.nodeId);
  const detected = await ctx.observations.when(watchers, at, noneUp([old.nodeId]), ctx.waitMs);
  await sleep(Math.max(0, at + f.holdMs - wallNow()));
  const agent = await ctx.overlay.restartVNic(f.hosts[0] as number, f.vnic as number);
  await ctx.startLoad(agent);
  const back = await ctx.observations.when(watchers, agent.readyAt, allUp([agent.nodeId]), ctx.waitMs);
  return measured(at, detected, agent.readyAt, back, agent.readyAt);
}

async function pause(f: PlannedFault, ctx: AttachedContext, at: number, victim: Agent): Promise<Measured> {
  const watchers = observers(ctx, victim);
  victim.signal('pause');
  const detected = await ctx.observations.when(watchers, at, noneUp([victim.nodeId]), f.holdMs);
  await sleep(Math.max(0, at + f.holdMs - wallNow()));
  victim.signal('resume');
  const resumed = wallNow();
  ctx.ledger.paused(victim.key, at, resumed);
  const back = await ctx.observations.when(watchers, resumed, allUp([victim.nodeId]), ctx.waitMs);
  return measured(at, detected, resumed, back, resumed);
}

/**
 * The link of one VNic to its VNet stalls: its VNet sees the link silent at its heartbeat deadline and
 * tells the overlay; the VNic redials into the stall. Recovery: from the heal to every other VNic seeing
 * it up and it being linked to its VNet again.
 */
async function partition(f: PlannedFault, ctx: AttachedContext, at: number, victim: Agent): Promise<Measured> {
  const [h, k] = [f.hosts[0] as number, f.vnic as number];
  const proxy = ctx.overlay.proxy(h, k);
  const watchers = observers(ctx, victim);
  proxy.stall();
  const detected = await ctx.observations.when(watchers, at, noneUp([victim.nodeId]), f.holdMs);
  await sleep(Math.max(0, at + f.holdMs - wallNow()));
  const healed = wallNow();
  proxy.heal();
  const vnet = ctx.overlay.hosts[h]?.vnetId ?? '';
  const back = await Promise.all([
    ctx.observations.when(watchers, healed, allUp([victim.nodeId]), ctx.waitMs),
    ctx.observations.connected([victim.key], healed, vnet, ctx.waitMs),
  ]);
  return measured(at, detected, healed, both(back), healed);
}

async function degrade(f: PlannedFault, ctx: AttachedContext): Promise<Measured> {
  const proxy = ctx.overlay.proxy(f.hosts[0] as number, f.vnic as number);
  proxy.delayMs = f.delayMs ?? 0;
  proxy.loss = f.loss ?? 0;
  await sleep(f.holdMs);
  proxy.heal();
  return { endedAt: wallNow() };
}

function victimOf(ctx: AttachedContext, h: number, k: number): Agent {
  const victim = ctx.overlay.hosts[h]?.vnics[k];
  if (victim === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `no VNic ${k} on VNet ${h}`);
  return victim;
}

/** A node of another overlay dials the VNet of host `h` directly (not through a proxy): it must be refused. */
function probe(ctx: AttachedContext, h: number): Promise<ProbeOutcome> {
  const provider = ctx.overlay.foreignProvider;
  const tcp = ctx.overlay.hosts[h]?.tcp;
  if (provider === undefined || tcp === undefined)
    return Promise.resolve({ kind: 'foreign-ca', target: `vnet-${h}`, refused: false, code: 'NOT_TRIED' });
  return probeForeignAt(provider, tcp, `vnet-${h}`);
}

/** Keys of the run's VNics (current incarnations), but `except`. */
export function observers(ctx: { overlay: AttachedOverlay }, except?: Agent): string[] {
  return ctx.overlay
    .vnics()
    .filter((a) => a !== except)
    .map((a) => a.key);
}

/** The run's own live nodes and the VNets: what every table must show up. */
export function ownLive(overlay: AttachedOverlay): string[] {
  return [...overlay.hosts.map((h) => h.vnetId), ...overlay.vnics().map((a) => a.nodeId)];
}

/** Settled: the run's live nodes and the VNets up, none of the incarnations it killed up (others' nodes aside). */
export function settledOn(ctx: { overlay: AttachedOverlay; dead: ReadonlySet<string> }): TablePredicate {
  const up = allUp(ownLive(ctx.overlay));
  const gone = noneUp([...ctx.dead]);
  return (t) => up(t) && gone(t);
}

/** Losses of the run's own nodes and VNets that the fault does not explain, seen by VNics other than the victim. */
function spuriousLosses(ctx: AttachedContext, victim: Agent, from: number, to: number): number {
  const ours = new Set(ownLive(ctx.overlay));
  const counted = (node: string): boolean => ours.has(node) && node !== victim.nodeId && !ctx.dead.has(node);
  return ctx.observations.losses(observers(ctx, victim), from, to, counted);
}
