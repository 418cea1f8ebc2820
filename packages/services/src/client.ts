import type { DescMessage, Message } from '@bufbuild/protobuf';
import type { EnvelopeItem, TypeRegistry } from '@layer8/model';
import { Action, l8error, type NodeId } from '@layer8/protocol';
import type { Bulkhead, HedgePolicy, InstanceMode, RequestOptions, RetryPolicy, VNic } from '@layer8/vnic';
import { fanOut, type MapFn, type MapReduceResult, shareOf } from './map-reduce.ts';
import { type GetRequest, readEnvelope } from './wire.ts';

/** Options of one client call: the request's deadline, signal, identity, resilience and the instance mode. */
export interface CallOptions
  extends Pick<
    RequestOptions,
    'timeoutMs' | 'signal' | 'identity' | 'traceparent' | 'idempotencyKey' | 'retry' | 'bulkhead' | 'hedge'
  > {
  /**
   * How the instance is picked. Default `round-robin`; a write with an idempotency key goes to the
   * instance its key hashes to (so a retry reaches the instance that remembers it) unless a mode is given.
   */
  readonly mode?: InstanceMode;
}

/** A page of a query: the items, their versions and the total before paging. */
export interface QueryPage<T extends Message> {
  readonly items: T[];
  readonly versions: number[];
  readonly total: number;
}

/** The resilience policies a client applies to every call that gives none (`ServiceClient.with…`). */
export interface ClientPolicies {
  readonly retry?: RetryPolicy | false;
  readonly bulkhead?: Bulkhead | false;
  readonly hedge?: HedgePolicy | false;
}

/** Which service a client talks to. */
export interface ClientTarget {
  readonly name: string;
  readonly area: number;
  readonly type: DescMessage;
}

/** The instance of the service running in the client's own process, read without encoding (`local` mode). */
export interface LocalReader<T extends Message> {
  readonly state: 'recovering' | 'serving';
  get(req: GetRequest, identity: string): Promise<{ states: { entity: T; version: number }[]; total: number }>;
}

/**
 * A typed client of a service that reads like the domain:
 * `await orders.post(order); await orders.get('select * from Order where status = 2 limit 10')`.
 * Errors are the service's, typed (`L8_ERR_NOT_FOUND`, `L8_ERR_CONFLICT`, `L8_ERR_FORBIDDEN`, …).
 */
export class ServiceClient<T extends Message> {
  readonly #vnic: VNic;
  readonly #registry: TypeRegistry;
  readonly #t: ClientTarget;
  readonly #local: (() => LocalReader<T> | undefined) | undefined;
  readonly #policies: ClientPolicies;

  /**
   * `local` finds the instance running in this process, if any: a `local` GET then reads it directly.
   * `policies` apply to the calls that give none (see {@link withRetry}, {@link withBulkhead}, {@link withHedge}).
   */
  constructor(
    vnic: VNic,
    registry: TypeRegistry,
    target: ClientTarget,
    local?: () => LocalReader<T> | undefined,
    policies: ClientPolicies = {},
  ) {
    this.#vnic = vnic;
    this.#registry = registry;
    this.#t = target;
    this.#local = local;
    this.#policies = policies;
  }

  /**
   * The same client with a retry policy for every call of this service that gives none
   * (`CallOptions.retry`): GET, PUT, DELETE and keyed writes are retried on retryable errors, POST and
   * PATCH only when the service refused them unrun; bounded by the VNic's retry budget (docs/overlay.md).
   */
  withRetry(policy: RetryPolicy | false): ServiceClient<T> {
    return this.#with({ retry: policy });
  }

  /**
   * The same client with a caller bulkhead for every call that gives none (`CallOptions.bulkhead`): at
   * most `max` requests of this service in flight from this VNic (the count is the VNic's, shared by every
   * client of the service), `queue` more waiting, the rest refused `L8_ERR_BACKPRESSURE` (docs/overlay.md).
   */
  withBulkhead(bulkhead: Bulkhead | false): ServiceClient<T> {
    return this.#with({ bulkhead });
  }

  /**
   * The same client with a hedge policy for its GETs that give none (`CallOptions.hedge`): a slow read
   * gets a copy to another instance, within the VNic's retry budget; writes are never hedged.
   */
  withHedge(policy: HedgePolicy | false): ServiceClient<T> {
    return this.#with({ hedge: policy });
  }

  #with(change: ClientPolicies): ServiceClient<T> {
    return new ServiceClient(this.#vnic, this.#registry, this.#t, this.#local, { ...this.#policies, ...change });
  }

  /** Creates `item` (`L8_ERR_CONFLICT` when its key exists); resolves with it as stored, with its version. */
  post(item: T, o: CallOptions = {}): Promise<T> {
    return this.#write(Action.POST, item, o);
  }

  /** Replaces (or creates) `item`. */
  put(item: T, o: CallOptions = {}): Promise<T> {
    return this.#write(Action.PUT, item, o);
  }

  /** Merges the fields set in `item` into the entity of its key (`L8_ERR_NOT_FOUND` when none). */
  patch(item: T, o: CallOptions = {}): Promise<T> {
    return this.#write(Action.PATCH, item, o);
  }

  /** Deletes the entity of `key` (`L8_ERR_NOT_FOUND` when none). */
  async delete(key: string | number | bigint, o: CallOptions = {}): Promise<void> {
    await this.#call(Action.DELETE, { key: String(key) }, o);
  }

  /** An L8QL query's page, or the entity of a primary key (`{ key }`) or unique key (`{ unique }`). */
  async get(query: string | GetRequest, o: CallOptions = {}): Promise<QueryPage<T>> {
    const req: GetRequest = typeof query === 'string' ? { q: query } : query;
    const local = o.mode === 'local' ? this.#local?.() : undefined;
    if (local?.state === 'serving') return this.#getHere(local, req, o);
    const env = readEnvelope(this.#registry, await this.#call(Action.GET, req, o));
    return { items: values<T>(env.items), versions: env.items.map((i) => i.version ?? 0), total: env.metadata.total };
  }

  /**
   * Map-reduce over every instance, one share of the entities each (matching `q` when given): `count`,
   * `sum` of a field, or the service's custom map merged by `merge`. An instance that fails or misses
   * the deadline leaves its share out and the result says `partial`.
   */
  mapReduce<R = number>(
    fn: MapFn,
    o: CallOptions & { readonly q?: string; readonly merge?: (parts: unknown[]) => R } = {},
  ): Promise<MapReduceResult<R>> {
    const target = { service: this.#t.name, area: this.#t.area };
    const options = {
      ...(o.q === undefined ? {} : { q: o.q }),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.identity === undefined ? {} : { identity: o.identity }),
      ...(o.merge === undefined ? {} : { merge: o.merge }),
    };
    return fanOut<R>(this.#vnic, target, fn, options);
  }

  /** The entity of a primary key. @throws L8_ERR_NOT_FOUND */
  async getByKey(key: string | number | bigint, o: CallOptions = {}): Promise<T> {
    return (await this.get({ key: String(key) }, o)).items[0] as T;
  }

  /** A `local` GET of the serving instance in this process: no envelope, no copy beyond the cache's own. */
  async #getHere(local: LocalReader<T>, req: GetRequest, o: CallOptions): Promise<QueryPage<T>> {
    const turn = this.#vnic.turns.take();
    if (turn !== undefined) await turn;
    if (o.signal?.aborted === true) throw l8error('L8_ERR_ABORTED', 'request aborted by the caller');
    const page = await local.get(req, o.identity ?? '');
    return { items: page.states.map((s) => s.entity), versions: page.states.map((s) => s.version), total: page.total };
  }

  async #write(action: Action, item: T, o: CallOptions): Promise<T> {
    const codec = this.#registry.get(this.#t.type.typeName).codec;
    const env = readEnvelope(this.#registry, await this.#call(action, item, o, codec));
    return values<T>(env.items)[0] as T;
  }

  #call(action: Action, payload: unknown, o: CallOptions, codec?: { encode(v: never): Uint8Array }) {
    const { mode, ...rest } = o;
    const options = { ...this.#defaults(o), ...rest, action, ...(codec ? { codec } : {}) };
    const sticky =
      mode === undefined && o.idempotencyKey !== undefined ? this.#stickyNode(o.idempotencyKey) : undefined;
    if (sticky !== undefined) {
      return this.#vnic.request({ service: this.#t.name, area: this.#t.area, node: sticky }, payload as never, options);
    }
    const target = { service: this.#t.name, area: this.#t.area, mode: mode ?? 'round-robin' } as const;
    return this.#vnic.request(target, payload as never, options);
  }

  /** The client's policies that `o` does not override (an absent key: `exactOptionalPropertyTypes`). */
  #defaults(o: CallOptions): ClientPolicies {
    const p = this.#policies;
    return {
      ...(o.retry === undefined && p.retry !== undefined ? { retry: p.retry } : {}),
      ...(o.bulkhead === undefined && p.bulkhead !== undefined ? { bulkhead: p.bulkhead } : {}),
      ...(o.hedge === undefined && p.hedge !== undefined ? { hedge: p.hedge } : {}),
    };
  }

  /** The instance an idempotency key hashes to (instances ordered by node id), if any is up. */
  #stickyNode(key: string): NodeId | undefined {
    const nodes = this.#vnic.health
      .instances(this.#t.name, this.#t.area)
      .map((r) => r.id)
      .sort();
    return nodes.length === 0 ? undefined : nodes[shareOf(key, nodes.length)];
  }
}

function values<T>(items: readonly EnvelopeItem[]): T[] {
  return items.map((i) => i.value as T);
}
