import type { HealthTable } from '@layer8/health';
import type { NodeId } from '@layer8/protocol';

/** The reachable instances of one (service, area), split by VNet. */
interface Instances {
  readonly all: NodeId[];
  readonly byVnet: Map<NodeId, NodeId[]>;
}

/** Says whether a node may take a call of (service, area) now (the circuit breakers, breaker.ts). */
export interface NodeGate {
  admits(service: string, area: number, node: NodeId): boolean;
}

/** (service, area) keys whose rotation is remembered, at most (then the counters start over). */
const MAX_TURNS = 4096;

/**
 * Picks one instance of (service, area) from the replicated health table: round-robin over every
 * reachable instance, or, given a VNet id, over that VNet's instances first (proximity).
 *
 * Invariant: `#cache` holds, per (service, area) asked for since the last health change, the
 * instances the table lists; any change of the table empties it. `#turns` keeps each key's rotation
 * across those changes (a stats update elsewhere must not restart it), bounded by {@link MAX_TURNS}.
 */
export class InstancePicker {
  readonly #health: HealthTable;
  readonly #cache = new Map<string, Instances>();
  readonly #turns = new Map<string, number>();

  constructor(health: HealthTable) {
    this.#health = health;
    health.onChange(() => this.#cache.clear());
  }

  /**
   * The next instance, or undefined when none is reachable. With a `gate`, instances it does not admit
   * (an open breaker) are skipped while another one is admitted; when none is, the turn's own is picked.
   */
  pick(service: string, area: number, nearVnet?: NodeId, gate?: NodeGate): NodeId | undefined {
    const key = `${area}/${service}`;
    let entry = this.#cache.get(key);
    if (entry === undefined) {
      entry = this.#load(service, area);
      this.#cache.set(key, entry);
    }
    const near = nearVnet === undefined ? undefined : entry.byVnet.get(nearVnet);
    const from = near ?? entry.all;
    if (from.length === 0) return undefined;
    const turn = this.#turns.get(key) ?? 0;
    if (this.#turns.size >= MAX_TURNS && turn === 0) this.#turns.clear();
    this.#turns.set(key, (turn + 1) % 0x40000000);
    if (gate === undefined) return from[turn % from.length];
    for (let i = 0; i < from.length; i++) {
      const node = from[(turn + i) % from.length] as NodeId;
      if (gate.admits(service, area, node)) return node;
    }
    return from[turn % from.length];
  }

  #load(service: string, area: number): Instances {
    const byVnet = new Map<NodeId, NodeId[]>();
    const all: NodeId[] = [];
    // sorted: the table's order changes when a record is rewritten, the rotation must not
    const sorted = this.#health.instances(service, area).sort((x, y) => (x.id < y.id ? -1 : 1));
    // an instance that says it is recovering is picked only when none is serving
    const ready = sorted.filter(
      (r) => !r.services.some((x) => x.service === service && x.area === area && x.state === 'recovering'),
    );
    const records = ready.length > 0 ? ready : sorted;
    for (const r of records) {
      all.push(r.id);
      byVnet.set(r.vnet, [...(byVnet.get(r.vnet) ?? []), r.id]);
    }
    return { all, byVnet };
  }
}
