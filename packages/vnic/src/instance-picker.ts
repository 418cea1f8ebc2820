import type { HealthTable } from '@layer8/health';
import type { NodeId } from '@layer8/protocol';

/**
 * Picks one instance of (service, area) from the replicated health table: round-robin over every
 * reachable instance, or, given a VNet id, over that VNet's instances first (proximity).
 * Invariant: `#turn` holds one rotation counter per (service, area) key that was asked for.
 */
export class InstancePicker {
  readonly #health: HealthTable;
  readonly #turn = new Map<string, number>();

  constructor(health: HealthTable) {
    this.#health = health;
  }

  /** The next instance, or undefined when none is reachable. */
  pick(service: string, area: number, nearVnet?: NodeId): NodeId | undefined {
    const all = this.#health.instances(service, area);
    const near = nearVnet === undefined ? all : all.filter((r) => r.vnet === nearVnet);
    const from = near.length > 0 ? near : all;
    if (from.length === 0) return undefined;
    const key = `${area}/${service}`;
    const turn = this.#turn.get(key) ?? 0;
    this.#turn.set(key, turn + 1);
    return from[turn % from.length]?.id;
  }
}
