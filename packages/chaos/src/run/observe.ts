import type { HealthChange, StateChange } from './load-batch.ts';

/** The status of every node one observer's health table holds at some moment. */
export type TableState = ReadonlyMap<string, HealthChange[2]>;

/** A condition on one observer's table. */
export type TablePredicate = (table: TableState) => boolean;

/** When a condition held for every observer, or who never saw it. */
export interface Seen {
  /** The latest of the observers' first times (epoch ms); undefined when one never saw it. */
  readonly at: number | undefined;
  /** The observers that did not see it by the deadline. */
  readonly missing: readonly string[];
}

/**
 * What every observer (a VNic process, by incarnation key) saw, in time order: the status changes of its
 * health table and the changes of its own connection. Detection and recovery times are read from here with
 * the observers' own timestamps, so how late a batch arrived does not matter.
 *
 * Invariants: each observer's lists are in time order (an agent sends its changes in the order they
 * happened); `#wake` holds the waiters of {@link when} until the next batch.
 */
export class Observations {
  readonly #health = new Map<string, HealthChange[]>();
  readonly #states = new Map<string, StateChange[]>();
  #wake: (() => void)[] = [];

  /** Adds an observer's changes. */
  add(observer: string, health: readonly HealthChange[], states: readonly StateChange[]): void {
    append(this.#health, observer, health);
    append(this.#states, observer, states);
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  /** The first time at or after `since` when `predicate` held on `observer`'s table. */
  firstTime(observer: string, since: number, predicate: TablePredicate): number | undefined {
    const table = new Map<string, HealthChange[2]>();
    let checked = false;
    for (const [at, node, status] of this.#health.get(observer) ?? []) {
      if (at >= since && !checked) {
        checked = true;
        if (predicate(table)) return since;
      }
      if (status === 'removed') table.delete(node);
      else table.set(node, status);
      if (at >= since && predicate(table)) return at;
    }
    return !checked && predicate(table) ? since : undefined;
  }

  /** The first time at or after `since` when `observer` was `connected` to VNet `vnet`. */
  connectedAt(observer: string, since: number, vnet: string): number | undefined {
    const on = (s: StateChange | undefined): boolean => s !== undefined && s[1] === 'connected' && s[2] === vnet;
    const list = this.#states.get(observer) ?? [];
    if (on(list.filter((s) => s[0] < since).at(-1))) return since;
    return list.find((s) => s[0] >= since && on(s))?.[0];
  }

  /**
   * Waits until every observer saw `predicate` at or after `since` (each observer's first time), or until
   * `deadlineMs` from now; resolves with the latest of those times, or who is missing.
   */
  async when(
    observers: readonly string[],
    since: number,
    predicate: TablePredicate,
    deadlineMs: number,
  ): Promise<Seen> {
    return this.#until(observers, deadlineMs, (o) => this.firstTime(o, since, predicate));
  }

  /** As {@link when}, for every observer being `connected` to `vnet`. */
  async connected(observers: readonly string[], since: number, vnet: string, deadlineMs: number): Promise<Seen> {
    return this.#until(observers, deadlineMs, (o) => this.connectedAt(o, since, vnet));
  }

  /** Status changes to `unreachable` or `removed` that `observers` saw in [from, to), of nodes `counted` accepts. */
  losses(observers: readonly string[], from: number, to: number, counted: (node: string) => boolean): number {
    let n = 0;
    for (const o of observers) {
      for (const [at, node, status] of this.#health.get(o) ?? []) {
        if (at >= from && at < to && status !== 'up' && counted(node)) n++;
      }
    }
    return n;
  }

  async #until(
    observers: readonly string[],
    deadlineMs: number,
    first: (o: string) => number | undefined,
  ): Promise<Seen> {
    const end = performance.now() + deadlineMs;
    for (;;) {
      const times = observers.map(first);
      const missing = observers.filter((_, i) => times[i] === undefined);
      if (missing.length === 0) return { at: Math.max(...(times as number[])), missing };
      const left = end - performance.now();
      if (left <= 0) return { at: undefined, missing };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

function append<T>(map: Map<string, T[]>, key: string, items: readonly T[]): void {
  if (items.length === 0) return;
  const list = map.get(key);
  if (list === undefined) map.set(key, [...items]);
  else list.push(...items);
}

/** Every node of `ids` is up, and no other node is in the table. */
export function exactlyUp(ids: readonly string[]): TablePredicate {
  return (t) => t.size === ids.length && ids.every((id) => t.get(id) === 'up');
}

/** Every node of `ids` is up (others may be there too). */
export function allUp(ids: readonly string[]): TablePredicate {
  return (t) => ids.every((id) => t.get(id) === 'up');
}

/** No node of `ids` is up: each is unreachable or gone. */
export function noneUp(ids: readonly string[]): TablePredicate {
  return (t) => ids.every((id) => t.get(id) !== 'up');
}
