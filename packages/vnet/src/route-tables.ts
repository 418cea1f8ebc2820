import type { HealthRecord, HealthTable } from '@layer8/health';
import { type NodeId, nodeIdToBytes, nodeKey } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import { NodeIndex } from './node-index.ts';
import { ServiceRoutes } from './service-routes.ts';

/**
 * The tables the router reads on every frame, derived from the health table and the open links:
 * local VNics by id, remote nodes → the peer VNet that routes them, and (service, area) → subscribers.
 *
 * Invariant: unless `stale`, the tables match `health`, `locals` and `peers`; a membership change (a link
 * attached or detached, a node added, removed or changing status or services) makes them stale and a
 * stats-only change never does (see {@link changesRouting}). The object identities are stable, so the router may hold them.
 */
export class RouteTables {
  /** Local VNics by node id bytes. */
  readonly locals = new NodeIndex<Connection>();
  /** Remote nodes by node id bytes → the peer VNet that routes them. */
  readonly routes = new NodeIndex<Connection>();
  /** (service, area) → local subscribers and peer VNets with subscribers. */
  readonly services = new ServiceRoutes();
  /**
   * True while `health` or the links changed in a way {@link changesRouting} sees and the tables are not
   * rebuilt yet (the control plane rebuilds them before the next frame is routed, or at the end of the turn).
   */
  stale = false;

  /**
   * Recomputes every table. `locals` are keyed by node key, `peers` by VNet id; a peer's `routed`
   * set (the sources it may send from) is refilled with the nodes it writes in `health`.
   */
  rebuild(health: HealthTable, locals: ReadonlyMap<string, Connection>, peers: ReadonlyMap<string, Connection>): void {
    this.routes.clear();
    this.locals.clear();
    for (const local of locals.values()) this.locals.set(local.idBytes, local);
    for (const peer of peers.values()) {
      peer.routed.clear();
      peer.routed.set(peer.idBytes, true);
    }
    for (const r of health.all()) this.#route(r, locals, peers);
    const localsById = new Map([...locals.values()].map((c) => [c.id, c]));
    this.services.rebuild(health, localsById, peers);
  }

  #route(r: HealthRecord, locals: ReadonlyMap<string, Connection>, peers: ReadonlyMap<string, Connection>): void {
    const peer = peers.get(r.vnet);
    if (peer === undefined) return;
    const bytes = nodeIdToBytes(r.id);
    peer.routed.set(bytes, true);
    if (!locals.has(nodeKey(r.id))) this.routes.set(bytes, peer);
  }
}

/**
 * Whether writing `next` over `old` (the record as it stands, if any) changes what the route tables
 * are built from: a new node, or another writer, role, status or set of services. Stats, load and
 * timestamps do not.
 */
export function changesRouting(old: HealthRecord | undefined, next: HealthRecord): boolean {
  if (old === undefined) return true;
  if (old.vnet !== next.vnet || old.role !== next.role || old.status !== next.status) return true;
  return !sameServices(old.services, next.services);
}

/** Whether a delta of upserts and removals changes routing, judged against `health` before it applies. */
export function deltaChangesRouting(
  health: HealthTable,
  upsert: readonly HealthRecord[],
  remove: readonly NodeId[],
): boolean {
  return remove.some((id) => health.get(id) !== undefined) || upsert.some((r) => changesRouting(health.get(r.id), r));
}

function sameServices(a: HealthRecord['services'], b: HealthRecord['services']): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((s, i) => s.service === b[i]?.service && s.area === b[i]?.area);
}
