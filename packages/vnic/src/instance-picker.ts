import type { HealthTable } from '@layer8/health';
import type { NodeId } from '@layer8/protocol';

/** The reachable instances of one (service, area), split by VNet, with a rotation counter. */
interface Instances {
  readonly all: NodeId[];
  readonly byVnet: Map<NodeId, NodeId[]>;
  turn: number;
}

/**
 * Picks one instance of (service, area) from the replicated health table: round-robin over every
 * reachable instance, or, given a VNet id, over that VNet's instances first (proximity).
 *
 * Invariant: `#cache` holds, per (service, area) asked for since the last health change, the
 * instances the table lists; any change of the table empties it (rotation restarts at 0).
 */
export class InstancePicker {
  readonly #health: HealthTable;
  readonly #cache = new Map<string, Instances>();

  constructor(health: HealthTable) {
    this.#health = health;
    health.onChange(() => this.#cache.clear());
  }

  /** The next instance, or undefined when none is reachable. */
  pick(service: string, area: number, nearVnet?: NodeId): NodeId | undefined {
    const key = `${area}/${service}`;
    let entry = this.#cache.get(key);
    if (entry === undefined) {
      entry = this.#load(service, area);
      this.#cache.set(key, entry);
    }
    const near = nearVnet === undefined ? undefined : entry.byVnet.get(nearVnet);
    const from = near ?? entry.all;
    if (from.length === 0) return undefined;
    return from[entry.turn++ % from.length];
  }

  #load(service: string, area: number): Instances {
    const byVnet = new Map<NodeId, NodeId[]>();
    const all: NodeId[] = [];
    for (const r of this.#health.instances(service, area)) {
      all.push(r.id);
      byVnet.set(r.vnet, [...(byVnet.get(r.vnet) ?? []), r.id]);
    }
    return { all, byVnet, turn: 0 };
  }
}
