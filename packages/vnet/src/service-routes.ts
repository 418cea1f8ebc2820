import type { HealthTable } from '@layer8/health';
import { serviceKey } from '@layer8/protocol';
import type { Connection } from './connection.ts';

/** Where a (service, area) has subscribers, as one VNet sees it. */
export interface ServiceRoute {
  /** Local VNics hosting it. */
  readonly locals: Connection[];
  /** Peer VNets with at least one subscriber (each once). */
  readonly peers: Connection[];
  /** Rotation counter for single-instance picks. */
  rr: number;
}

/**
 * The service table of a VNet: (service, area) → local subscribers and peer VNets with subscribers,
 * derived from the health table. Rebuilt on every membership change (control-plane rate), read on
 * every multicast frame (data-plane rate) with one map lookup.
 */
export class ServiceRoutes {
  #routes = new Map<string, ServiceRoute>();

  /** The route of a frame's service key (see `frameServiceKey`). */
  get(key: string): ServiceRoute | undefined {
    return this.#routes.get(key);
  }

  /** Number of (service, area) pairs with subscribers. */
  get size(): number {
    return this.#routes.size;
  }

  /**
   * Recomputes the table from `health`. `locals` maps node ids to local connections; `peers` maps
   * VNet ids to peer connections.
   */
  rebuild(health: HealthTable, locals: ReadonlyMap<string, Connection>, peers: ReadonlyMap<string, Connection>): void {
    const next = new Map<string, ServiceRoute>();
    for (const r of health.all()) {
      if (r.status !== 'up') continue;
      const local = locals.get(r.id);
      const peer = local === undefined ? peers.get(r.vnet) : undefined;
      if (local === undefined && peer === undefined) continue;
      for (const s of r.services) {
        const key = serviceKey(s.service, s.area);
        const route = next.get(key) ?? { locals: [], peers: [], rr: this.#routes.get(key)?.rr ?? 0 };
        next.set(key, route);
        if (local !== undefined) route.locals.push(local);
        else if (peer !== undefined && !route.peers.includes(peer)) route.peers.push(peer);
      }
    }
    this.#routes = next;
  }
}
