import type { HealthTable } from '@layer8/health';
import type { NodeId } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import type { Admission } from './admission.ts';
import type { Connection, DropCounters } from './connection.ts';
import type { PeerFlow } from './peer-flow.ts';
import type { RouteTables } from './route-tables.ts';
import type { VNetLogger } from './vnet-options.ts';

/** The options of its VNet the control plane reads. */
export interface ControlOptions {
  /** Heartbeat deadline per link, ms. */
  readonly heartbeatMs: number;
  /** How often load statistics are sampled and sent, ms. */
  readonly statsMs: number;
  /** How often open links are re-checked against the provider, ms. */
  readonly recheckMs: number;
  /** Send queue limit per link, bytes (also the bound of a health backlog during a state dump). */
  readonly maxQueuedBytes: number;
  /** Re-checks the identities of open links. */
  readonly provider: Pick<SecurityProvider, 'recheck'>;
}

/**
 * What the control plane needs from its VNet, and nothing more: the links, the health table, the
 * tables it rebuilds, the admission rules, counters and the logger. The VNet is one; tests may pass
 * another. Keeps `control-plane.ts` and its parts from importing `vnet.ts`.
 *
 * Invariant (kept by the control plane): `locals` holds one open connection per attached VNic, keyed by
 * node key; `peers` one per peer VNet, keyed by VNet id.
 */
export interface ControlHost {
  readonly id: NodeId;
  readonly alias: string;
  readonly health: HealthTable;
  readonly locals: Map<string, Connection>;
  readonly peers: Map<string, Connection>;
  readonly tables: RouteTables;
  readonly admission: Admission;
  readonly drops: DropCounters;
  readonly log: VNetLogger;
  readonly options: ControlOptions;
  readonly flow: PeerFlow;
}

/**
 * Runs one step of the control plane (`what` names it in logs): a fault is logged, never thrown out of
 * a timer or a link's callback, and the route tables are marked for a rebuild if the step changed
 * membership.
 */
export type ControlRunner = (what: string, step: () => void) => void;

/** A repeating, `unref()`'d timer whose steps go through `run`. */
export function every(ms: number, what: string, run: ControlRunner, step: () => void): NodeJS.Timeout {
  return setInterval(() => run(what, step), ms).unref();
}
