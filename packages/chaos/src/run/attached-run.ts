import { l8error } from '@layer8/protocol';
import type { AgentSecurity } from './agent-protocol.ts';
import { wallNow } from './agent-protocol.ts';
import { type AttachedContext, observers, ownLive, runAttachedFault, settledOn } from './attached-faults.ts';
import { AttachedOverlay } from './attached-overlay.ts';
import type { FaultOutcome } from './faults.ts';
import { compareTables, statuses } from './health-compare.ts';
import type { Agent } from './process-agent.ts';
import { buildReport, type ChaosReport, type ChaosSetup } from './report.ts';
import { type ChaosRunOptions, checkRun, loadOptions, progressLine, recordLoad, stopLoad, WAIT_MS } from './runner.ts';
import { ATTACHED_KINDS, type FaultKind, planSchedule } from './schedule.ts';

/** Options of {@link chaosRunAttached}: a run against VNets that run already. */
export interface AttachedRunOptions extends ChaosRunOptions {
  /** The running VNets' TCP addresses. */
  readonly vnets: readonly { readonly host: string; readonly port: number }[];
  /** Their unix sockets, one per VNet: the run's VNics attach there instead (no link faults then). */
  readonly sockets?: readonly string[];
  /** VNic processes the run starts per VNet. */
  readonly vnicsPerVnet: number;
  /** How they prove membership: a node bundle (a VNic certificate) or the dev passphrase. */
  readonly security: AgentSecurity;
  /** Their heartbeat deadline, ms: give the VNets' own (`l8 vnet start --heartbeat`). Default 3000. */
  readonly heartbeatMs?: number;
}

/** Why a kind is left out of a run against a running overlay. */
const NOT_OURS = 'the VNets are not the run’s own: it kills and stops only the processes it started';
const NO_PROXY = 'the VNics attach over unix sockets: no proxy stands on their links';
const NO_STORE = 'the chaos store runs only on an overlay of the run’s own, with --disk-full';

/**
 * `l8 chaos run --vnet HOST:PORT …`: attaches VNic processes of its own to running VNets
 * ({@link AttachedOverlay}), runs {@link runAttached} and stops them. The VNets and every other node are
 * left alone. @throws L8_ERR_INVALID_ARGUMENT for bad options; L8_ERR_CONNECT when a VNic cannot join
 */
export async function chaosRunAttached(o: AttachedRunOptions): Promise<ChaosReport> {
  checkRun(o);
  const overlay = await AttachedOverlay.start({
    vnets: o.vnets,
    vnicsPerVnet: o.vnicsPerVnet,
    security: o.security,
    seed: o.seed,
    ...(o.sockets === undefined ? {} : { sockets: o.sockets }),
    ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
  });
  try {
    return await runAttached(overlay, o);
  } finally {
    await overlay.close();
  }
}

/** The kinds a run against `overlay` injects, and those it leaves out with why. */
export function attachedKinds(
  overlay: AttachedOverlay,
  asked?: readonly FaultKind[],
): { kinds: FaultKind[]; leftOut: Partial<Record<FaultKind, string>> } {
  const leftOut: Partial<Record<FaultKind, string>> = { 'kill-vnet': NOT_OURS, 'disk-full': NO_STORE };
  const links: FaultKind[] = ['partition', 'latency', 'loss'];
  if (overlay.via === 'unix') for (const k of links) leftOut[k] = NO_PROXY;
  const kinds = ATTACHED_KINDS.filter((k) => leftOut[k] === undefined && (asked === undefined || asked.includes(k)));
  return { kinds, leftOut };
}

/**
 * Drives request and multicast load from every VNic of `overlay` while the seed's faults run on them and
 * their links, one at a time; then stops the load, lets every request settle and compares the VNics'
 * health tables. Resolves with the report (the same shape as a run on an overlay of its own).
 */
export async function runAttached(overlay: AttachedOverlay, o: ChaosRunOptions): Promise<ChaosReport> {
  checkRun(o);
  const { kinds, leftOut } = attachedKinds(overlay, o.kinds);
  const setup = setupOf(overlay, o, leftOut);
  const { ledger, observations, unlisten } = recordLoad(overlay);
  const crashesBefore = overlay.crashes.length;
  const startLoad = (agent: Agent): Promise<void> => agent.call('chaos.start', loadOptions(o, setup, agent));
  const ctx: AttachedContext = { overlay, observations, ledger, startLoad, waitMs: WAIT_MS, dead: new Set() };
  const start = wallNow();
  let stopped = false;
  try {
    await Promise.all(overlay.vnics().map(startLoad));
    const seen = await observations.when(observers(ctx), start, settledOn(ctx), WAIT_MS);
    if (seen.at === undefined)
      throw l8error('L8_ERR_TIMEOUT', `timed out waiting for every VNic to see the others: ${seen.missing.join(', ')}`);
    const faults = await schedule(ctx, o, setup, kinds, start);
    await new Promise((r) => setTimeout(r, Math.max(0, start + o.durationMs - wallNow())));
    await stopLoad(overlay, ledger, setup.timeoutMs);
    stopped = true;
    const durationMs = wallNow() - start;
    const health = await compareOwn(ctx);
    const crashed = overlay.crashes.slice(crashesBefore);
    const [requests, multicast, maxLagMs] = [ledger.requests(setup.timeoutMs), ledger.multicast(), ledger.maxLagMs];
    return buildReport({ seed: o.seed, setup, durationMs, requests, multicast, crashed, faults, health, maxLagMs });
  } finally {
    if (!stopped) await stopLoad(overlay, ledger, setup.timeoutMs);
    unlisten();
  }
}

async function schedule(
  ctx: AttachedContext,
  o: ChaosRunOptions,
  setup: ChaosSetup,
  kinds: readonly FaultKind[],
  start: number,
): Promise<FaultOutcome[]> {
  const faults: FaultOutcome[] = [];
  for (const f of planSchedule({ ...o, ...setup, kinds, vnicLinks: true })) {
    const outcome = await runAttachedFault(f, ctx, start);
    faults.push(outcome);
    o.onProgress?.(progressLine(outcome));
  }
  return faults;
}

/**
 * The health tables of the run's VNics: identical, with the run's live nodes and the VNets up and none
 * of the incarnations it killed up (the overlay's other nodes are in them too, and compared as well).
 */
function compareOwn(ctx: AttachedContext) {
  return compareTables(
    () => ctx.overlay.vnics(),
    () => {
      const live = ownLive(ctx.overlay);
      const ok = (lines: readonly string[] | undefined): boolean => {
        if (lines === undefined) return false;
        const seen = statuses(lines);
        return live.every((id) => seen.get(id) === 'up') && [...ctx.dead].every((id) => seen.get(id) !== 'up');
      };
      return { expected: live.length, ok };
    },
    WAIT_MS,
  );
}

function setupOf(
  overlay: AttachedOverlay,
  o: ChaosRunOptions,
  leftOut: Partial<Record<FaultKind, string>>,
): ChaosSetup {
  return {
    vnets: overlay.hosts.length,
    vnicsPerVnet: overlay.hosts[0]?.vnics.length ?? 0,
    heartbeatMs: overlay.heartbeatMs,
    provider: overlay.foreignProvider?.name === 'tls' ? 'tls' : 'dev',
    rate: o.rate ?? 20,
    mcastRate: o.mcastRate ?? 2,
    timeoutMs: o.timeoutMs ?? 2000,
    attached: { vnets: overlay.addresses, via: overlay.via },
    leftOut,
  };
}
