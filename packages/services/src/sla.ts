import type { DescMessage, Message, MessageShape } from '@bufbuild/protobuf';
import type { Store } from '@layer8/store';
import type { ConcurrencyLimit, HandlerContext } from '@layer8/vnic';

/** The actions of a service, as SLAs and web exposure name them. */
export type ActionName = 'post' | 'put' | 'patch' | 'delete' | 'get';

/**
 * How the writes of a stateful service commit. `best-effort` applies each write on the instance that
 * takes it and replicates the change set; `transactional` (two-phase commit through the leader) and
 * `replicated` (each key on N instances) come with the coordination layer and are refused until then.
 */
export type Contract = 'best-effort' | 'transactional' | { readonly replicated: number };

/**
 * Where a stateful service keeps its entities: nowhere but memory (`none`), a SQLite file in `dir`
 * (`<dir>/<service>-<area>.sqlite`), PostgreSQL, or a store the caller opened.
 */
export type StorageSpec =
  | 'none'
  | { readonly sqlite: string }
  | { readonly postgres: string }
  | { readonly store: Store };

/** What the gateway may publish of a service. */
export interface WebExposure {
  readonly actions: readonly ActionName[];
  /** Largest `limit` a query through the gateway may ask for. Default 1000. */
  readonly maxLimit?: number;
}

/** What a callback knows about the write it runs for. */
export interface WriteInfo {
  readonly action: ActionName;
  /** The identity the request carried (empty for a member acting for itself). */
  readonly identity: string;
  /** The entity held before the write, if any (a copy). */
  readonly before: Message | undefined;
}

/**
 * Runs before a write is applied: returns a replacement item (or undefined to keep it), throws an
 * `L8Error` to veto it (`L8_ERR_CONFLICT`, `L8_ERR_FORBIDDEN`, …); any other throw fails the write.
 */
export type BeforeCallback<T extends Message> = (item: T, info: WriteInfo) => T | undefined | Promise<T | undefined>;

/** Runs after a write was committed (its failures are counted, never undo the write). */
export type AfterCallback<T extends Message> = (item: T | undefined, info: WriteInfo) => void | Promise<void>;

/** A handler of a stateless service: gets the decoded item (or the query text for GET) and replies. */
export type ActionHandler<T extends Message> = (
  item: T | string | undefined,
  ctx: HandlerContext,
) => unknown | Promise<unknown>;

/**
 * A service-level agreement: what `ServiceManager.activate` brings up (DESIGN.md §7).
 * A service whose model type declares a primary key is stateful by default: the base stateful service
 * serves its five actions from a replicated cache; `handlers` replaces them one by one.
 */
export interface ServiceLevelAgreement<D extends DescMessage = DescMessage> {
  readonly name: string;
  /** Default 0. */
  readonly area?: number;
  /** The model type (a generated `…Schema`), registered in the manager's type registry. */
  readonly type: D;
  /** Default: true when the type declares a primary key. */
  readonly stateful?: boolean;
  /** Default `best-effort`. */
  readonly contract?: Contract;
  /** Default `none`. */
  readonly storage?: StorageSpec;
  readonly web?: WebExposure;
  readonly before?: Partial<Record<ActionName, BeforeCallback<MessageShape<D>>>>;
  readonly after?: Partial<Record<ActionName, AfterCallback<MessageShape<D>>>>;
  /** Own handlers (a stateless service needs them; a stateful one may override actions). */
  readonly handlers?: Partial<Record<ActionName, ActionHandler<MessageShape<D>>>>;
  /** Deadline of one handler run, ms; a request's own deadline is shorter when it is. Default 10000. */
  readonly handlerTimeoutMs?: number;
  /**
   * How many requests each instance runs at once (the responder's concurrency limit, docs/overlay.md,
   * Resilience): a fixed bulkhead (`16`, `{ max: 16, queue: 64 }`) or `{ adaptive: { … } }` on measured
   * handler latency; beyond it a request waits in the instance's queue of `queue` (default 0) or is
   * refused `L8_ERR_BACKPRESSURE`. Default none: only the VNic's `maxHandlersInFlight`.
   */
  readonly concurrency?: ConcurrencyLimit;
  /** How long a keyed write is remembered, ms (a retry within it gets the first result). Default 600000. */
  readonly idempotencyWindowMs?: number;
  /** Largest result a GET returns, items. Default 10000. */
  readonly maxResult?: number;
  /**
   * The custom map of map-reduce: what one instance answers for its share of the entities (the caller
   * merges the answers). `count` and `sum` need none.
   */
  readonly map?: (items: MessageShape<D>[], arg: unknown) => unknown;
}

/** Counters of a running service (they only grow, except `items`). */
export interface ServiceCounters {
  items: number;
  requests: number;
  errors: number;
  /** Change sets received from other instances and applied. */
  replicated: number;
  /** Notifications ignored: stale, from a node that is not an instance, or not decodable. */
  ignored: number;
  /** Entities fetched from a peer to close a gap or to recover. */
  fetched: number;
  /**
   * Change notifications never sent: the link refused them for so long that the outbox filled up. The
   * other instances learn of those writes only when they recover from this one (after a partition or a
   * restart) or when the key is written again.
   */
  unsent: number;
}

/** A fresh set of zero counters. */
export function newCounters(): ServiceCounters {
  return { items: 0, requests: 0, errors: 0, replicated: 0, ignored: 0, fetched: 0, unsent: 0 };
}
