import { matches, type NotificationSet } from '@layer8/model';
import { l8error, type NodeId } from '@layer8/protocol';
import { changesToJson } from './change-json.ts';
import { messageToJson } from './model-json.ts';
import type { Route } from './route.ts';
import { type FetchContext, type Fetched, type FollowedQuery, fetchSnapshot } from './ws-fetch.ts';
import { errorMessage, type ServerMessage, type WsCounters } from './ws-protocol.ts';

/** Fetches the entity of the notification being applied, as one identity may see it (shared per identity). */
export type EntityFetch = (identity: string) => Promise<Fetched | undefined>;

/** What a subscription needs from the gateway. */
export interface SubscriptionHost extends FetchContext {
  readonly counters: WsCounters;
  /** The route now, undefined when it is gone. */
  route(): Route | undefined;
  /** A node to send a snapshot GET to, undefined when none serves. */
  pick(route: Route): NodeId | undefined;
  /** Logs a failure of the gateway itself (a bug: every expected failure is answered to the client). */
  fault(err: unknown): void;
}

/** Codes after which a subscription cannot go on: the identity may not (or no longer) read. */
/** Tries of a snapshot after the first that failed with a retryable error. */
const SNAPSHOT_RETRIES = 3;

const FATAL = new Set(['L8_ERR_AUTH', 'L8_ERR_TOKEN_EXPIRED', 'L8_ERR_FORBIDDEN', 'L8_ERR_LIMIT', 'L8_ERR_QUERY']);

/**
 * One client's subscription to the result of a query (docs/gateway.md, "WebSocket push"). It only ever
 * sends what the service answered for the client's identity: a snapshot is a GET with that identity, and
 * every change is checked by fetching the entity with that identity before anything of it is sent.
 *
 * Invariant: `#held` maps each key the client holds to the version it holds; a change set is sent only
 * when its `fromVersion` is that version and the fetched entity is at its `toVersion`, else the whole item.
 */
export class PushSubscription {
  readonly id: string;
  readonly identity: string;
  readonly #query: FollowedQuery;
  readonly #host: SubscriptionHost;
  readonly #send: (m: ServerMessage) => void;
  readonly #held = new Map<string, number>();
  #ended = false;
  /** Called once when the subscription ends, however it ends. */
  onEnd: () => void = () => undefined;

  constructor(
    id: string,
    identity: string,
    query: FollowedQuery,
    host: SubscriptionHost,
    send: (m: ServerMessage) => void,
  ) {
    this.id = id;
    this.identity = identity;
    this.#query = query;
    this.#host = host;
    this.#send = send;
  }

  /** Whether the subscription has ended (no message of it is sent any more). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Sends a snapshot of the whole result (again, on a resync). A retryable failure (the service busy or
   * moving) is tried again after 250 ms, then 500 ms, 1 s; any other, or the last, ends the subscription.
   */
  async snapshot(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#snapshot();
      } catch (err) {
        if (!(err as { retryable?: boolean }).retryable || attempt >= SNAPSHOT_RETRIES || this.#ended) {
          return this.end(err);
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt).unref());
      }
    }
  }

  async #snapshot(): Promise<void> {
    const route = this.#host.route();
    const node = route === undefined ? undefined : this.#host.pick(route);
    if (route === undefined || node === undefined) throw l8error('L8_ERR_NO_SERVICE', 'no node serves it now');
    const items = await fetchSnapshot(this.#host, route, node, this.#query, this.identity);
    if (this.#ended) return;
    this.#held.clear();
    for (const i of items) this.#held.set(i.key, i.version);
    const json = items.map((i) => ({ key: i.key, version: i.version, item: messageToJson(route.model, i.entity) }));
    this.#send({ op: 'snapshot', id: this.id, items: json, total: items.length });
  }

  /**
   * Brings the client up to the notification: a delete of a held key is sent as is; anything else is
   * fetched with the client's identity and sent as an upsert (it is in the result), a delete (it left the
   * result, or the client may not see it), or nothing (not in the result, or the client already has it).
   * A fetch that fails for the identity ends the subscription; any other failure resyncs it.
   */
  async apply(n: NotificationSet, fetch: EntityFetch): Promise<void> {
    if (this.#ended) return;
    const held = this.#held.get(n.modelKey);
    if (n.kind === 'delete') {
      if (held !== undefined && n.version >= held) this.#gone(n.modelKey, n.version);
      return;
    }
    if (held !== undefined && held >= n.version) return;
    let got: Fetched | undefined;
    try {
      got = await fetch(this.identity);
    } catch (err) {
      if (FATAL.has((err as { code?: string }).code ?? '')) this.end(err);
      else await this.resync();
      return;
    }
    if (!this.#ended) this.#follow(n, held, got);
  }

  /** Sends a new snapshot in place of whatever the client holds. */
  resync(): Promise<void> {
    this.#host.counters.resyncs++;
    return this.snapshot();
  }

  /** Ends the subscription, telling the client why when `err` is given. Idempotent. */
  end(err?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (err !== undefined) this.#send(errorMessage(err, this.id));
    this.onEnd();
  }

  #follow(n: NotificationSet, held: number | undefined, got: Fetched | undefined): void {
    if (got === undefined || !matches(this.#query.bound, got.entity)) {
      if (held !== undefined) this.#gone(n.modelKey, Math.max(n.version, got?.version ?? 0));
      return;
    }
    if (held !== undefined && got.version <= held) return;
    const route = this.#host.route();
    if (route === undefined) return;
    this.#held.set(n.modelKey, got.version);
    const cs = n.changeSet;
    const base = { op: 'change', id: this.id, key: n.modelKey, version: got.version, kind: 'upsert' } as const;
    if (cs !== undefined && held !== undefined && cs.fromVersion === held && got.version === n.version) {
      this.#send({ ...base, fromVersion: held, changes: changesToJson(route.model, cs) });
    } else {
      if (cs !== undefined && held !== undefined && cs.fromVersion !== held) this.#host.counters.gaps++;
      this.#send({ ...base, item: messageToJson(route.model, got.entity) });
    }
    this.#bound(route);
  }

  #gone(key: string, version: number): void {
    this.#held.delete(key);
    this.#send({ op: 'change', id: this.id, key, version, kind: 'delete' });
  }

  /** Ends the subscription when its result grew past what one snapshot may hold. */
  #bound(route: Route): void {
    const max = route.descriptor.maxLimit;
    if (this.#held.size <= max) return;
    this.end(
      l8error('L8_ERR_LIMIT', `the result grew over ${max} items: narrow the query`, { data: { maxLimit: max } }),
    );
  }
}
