import type { DescMessage, Message } from '@bufbuild/protobuf';
import { decodeNotificationSet, type ModelCodec, type NotificationSet, type TypeRegistry } from '@layer8/model';
import { Action, l8error, type NodeId } from '@layer8/protocol';
import type { SecurityProvider, UserIdentity } from '@layer8/security';
import type { Store } from '@layer8/store';
import type { HandlerContext, Incoming, Payload, VNic } from '@layer8/vnic';
import { authorize, visibility } from './authorize.ts';
import { BestEffort } from './best-effort.ts';
import { EntityCache, type Held } from './entity-cache.ts';
import { GroupCommit } from './group-commit.ts';
import { IdempotencyWindow } from './idempotency.ts';
import { type MapRequest, mapShare } from './map-reduce.ts';
import { Outbox } from './outbox.ts';
import { Replica } from './replica.ts';
import type { ServiceCounters, ServiceLevelAgreement } from './sla.ts';
import { SyncPeer } from './sync.ts';
import { type DeleteRequest, envelopeOf, type GetRequest } from './wire.ts';
import { WritePath, type WriteRequest } from './write-path.ts';

/** An entity in an answer: its key, a copy of it and its version. */
interface State<T extends Message> {
  readonly key: string;
  readonly entity: T;
  readonly version: number;
}

/** Where a stateful instance is: loading its state, or serving. */
export type InstanceState = 'recovering' | 'serving';

/** What a stateful instance needs from its manager. */
export interface InstanceHost {
  readonly vnic: VNic;
  readonly registry: TypeRegistry;
  readonly provider: SecurityProvider | undefined;
  readonly counters: ServiceCounters;
  readonly store: Store | undefined;
  /** Local listeners of the change stream. */
  emit(n: NotificationSet): void;
}

/** The name of the change stream of a service: every instance multicasts its writes there. */
export function changesOf(service: string): string {
  return `${service}.changes`;
}

const WRITES = {
  [Action.POST]: 'post',
  [Action.PUT]: 'put',
  [Action.PATCH]: 'patch',
  [Action.DELETE]: 'delete',
} as const;

/**
 * One instance of a stateful service: the cache, the write path with its contract, the replica of the
 * other instances' writes, recovery from a peer, and the requests of the five actions.
 *
 * Invariant: `#ready` settles once, when the state goes from `recovering` to `serving`; reads wait for it.
 */
export class StatefulInstance<T extends Message = Message> {
  readonly sla: ServiceLevelAgreement;
  readonly desc: DescMessage;
  readonly cache: EntityCache<T>;
  readonly writes: WritePath<T>;
  readonly replica: Replica<T>;
  readonly sync: SyncPeer<T>;
  readonly #h: InstanceHost;
  readonly #codec: ModelCodec;
  #sequence = 0;
  readonly #idem: IdempotencyWindow;
  /** The change notifications on their way to the other instances (kept and resent under back-pressure). */
  readonly #outbox: Outbox;
  /** Write-through to the store, one transaction per turn of the event loop (undefined without a store). */
  readonly #group: GroupCommit<T> | undefined;
  state: InstanceState = 'recovering';
  readonly #ready: Promise<void>;
  #serve!: () => void;

  constructor(sla: ServiceLevelAgreement, host: InstanceHost) {
    this.sla = sla;
    this.desc = sla.type;
    this.#h = host;
    this.#codec = host.registry.get(sla.type.typeName).codec;
    this.cache = new EntityCache<T>(this.desc, host.registry);
    const persist = (k: string, s: Held<T> | undefined, t?: { version: number; writer: string }) =>
      this.#persist(k, s, t);
    const contract = new BestEffort<T>({ registry: host.registry, persist, publish: (n, b) => this.#publish(n, b) });
    this.writes = new WritePath<T>({
      sla,
      desc: this.desc,
      cache: this.cache,
      contract,
      counters: host.counters,
      self: host.vnic.id,
      nextSequence: () => ++this.#sequence,
    });
    this.sync = new SyncPeer<T>({ vnic: host.vnic, sla, codec: this.#codec, cache: this.cache });
    const fetch = (node: string, key: string) => this.sync.fetch(node as NodeId, key);
    this.replica = new Replica<T>({
      desc: this.desc,
      cache: this.cache,
      queue: this.writes.queue,
      counters: host.counters,
      persist,
      fetch,
    });
    this.#group = host.store === undefined ? undefined : new GroupCommit(host.store as Store<T>);
    const stream = { service: changesOf(sla.name), area: sla.area ?? 0 };
    this.#outbox = new Outbox({
      send: (bytes) => host.vnic.multicast(stream, bytes),
      dropped: () => host.counters.unsent++,
    });
    this.#idem = new IdempotencyWindow(sla.idempotencyWindowMs ?? 600_000);
    this.#ready = new Promise((resolve) => {
      this.#serve = resolve;
    });
  }

  /** Loads the store, then the state of one other instance (if any), then serves. */
  async recover(): Promise<void> {
    await this.#load();
    await this.sync.recoverFrom(this.replica, this.#h.counters);
    this.state = 'serving';
    this.#h.counters.items = this.cache.size;
    this.#serve();
  }

  /** Handles a request of one of the five actions (or SYNC from another instance). */
  async handle(m: Incoming, ctx: HandlerContext): Promise<Payload> {
    if (ctx.action === Action.SYNC) return this.sync.answer(m, ctx, this.#h.vnic.health);
    const who = await authorize(this.#h.provider, this.sla, ctx);
    if (ctx.action === Action.GET) return this.#get(m, who);
    if (ctx.action === Action.MAP_REDUCE) return this.#map(m, who);
    const action = WRITES[ctx.action as keyof typeof WRITES];
    if (action === undefined) throw l8error('L8_ERR_UNSUPPORTED', `${this.sla.name} has no action ${ctx.action}`);
    const key = m.idempotencyKey;
    const see = visibility<T>(this.#h.provider, this.sla, who);
    if (key !== undefined) return this.#idem.run(ctx.identity, key, () => this.#write(action, m, ctx, see));
    return this.#write(action, m, ctx, see);
  }

  async #write(
    action: (typeof WRITES)[keyof typeof WRITES],
    m: Incoming,
    ctx: HandlerContext,
    see: ((items: T[]) => T[]) | undefined,
  ): Promise<Payload> {
    await this.#ready;
    const visible = see && ((entity: T) => see([entity]).length === 1);
    const who = { identity: ctx.identity, ...(visible === undefined ? {} : { visible }) };
    const req: WriteRequest<T> =
      action === 'delete'
        ? { action, key: m.json<DeleteRequest>()?.key, ...who }
        : { action, item: m.decode(this.#codec) as T, ...who };
    const { key, state } = await this.writes.write(req);
    this.#h.counters.items = this.cache.size;
    return envelopeOf(this.#h.registry, this.desc, state === undefined ? [] : [{ key, ...state }]);
  }

  /** Applies a notification from the change stream (another instance's write). */
  onChange(m: Incoming): Promise<void> | undefined {
    const n = decodeNotificationSet(this.#h.registry, m.payload);
    const self = this.#h.vnic.id;
    const fromInstance = this.#h.vnic.health.get(m.source)?.services.some((s) => s.service === this.sla.name);
    if (n.source === self || n.source !== m.source || fromInstance !== true) {
      this.#h.counters.ignored++;
      return undefined;
    }
    return this.replica.apply(n).then(() => {
      this.#h.counters.items = this.cache.size;
      this.#h.emit(n);
    });
  }

  async #get(m: Incoming, who: UserIdentity | undefined): Promise<Payload> {
    const req = m.json<GetRequest>() ?? {};
    const page = await this.#read(req, who, false); // encoded at once: no copy needed
    return envelopeOf(this.#h.registry, this.desc, page.states, page.total, req.q);
  }

  /**
   * A GET made in this process (a client's `local` mode): authorized and scoped as over the overlay, and
   * counted, but with no encoding on either side. The items are copies.
   * @throws L8_ERR_FORBIDDEN, L8_ERR_NOT_FOUND, L8_ERR_QUERY, L8_ERR_LIMIT
   */
  async get(req: GetRequest, identity: string): Promise<{ states: State<T>[]; total: number }> {
    this.#h.counters.requests++;
    try {
      const who = await authorize(this.#h.provider, this.sla, { action: Action.GET, identity });
      return await this.#read(req, who, true);
    } catch (err) {
      this.#h.counters.errors++;
      throw err;
    }
  }

  /** The states a GET asks for; `copy`: copies for a caller in this process, else the cache's own (encoded at once). */
  async #read(
    req: GetRequest,
    who: UserIdentity | undefined,
    copy: boolean,
  ): Promise<{ states: State<T>[]; total: number }> {
    await this.#ready;
    const see = visibility<T>(this.#h.provider, this.sla, who);
    if (req.q !== undefined) return this.#query(req.q, see, copy);
    const key = req.key ?? (req.unique && this.cache.byUnique(req.unique.fields, req.unique.value));
    const held = key === undefined ? undefined : this.cache.held(key);
    // an entity the caller may not see is missing for it: the answer must not tell the two apart
    if (key === undefined || held === undefined || (see !== undefined && see([held.entity]).length === 0)) {
      throw l8error('L8_ERR_NOT_FOUND', `${this.desc.name} ${JSON.stringify(req)} does not exist`, { data: req });
    }
    return {
      states: [{ key, entity: copy ? (this.cache.get(key) as T) : held.entity, version: held.version }],
      total: 1,
    };
  }

  /** This instance's answer for its share of a map-reduce (over what `who` may see). */
  async #map(m: Incoming, who: UserIdentity | undefined): Promise<Payload> {
    await this.#ready;
    const req = m.json<MapRequest>();
    const see = visibility<T>(this.#h.provider, this.sla, who);
    const items = this.cache.query(req?.q ?? `select * from ${this.desc.typeName}`, see).items;
    const states = items.map((entity) => ({ key: this.writes.keyOf(entity), entity, version: 0 }));
    const custom = this.sla.map as ((items: T[], arg: unknown) => unknown) | undefined;
    return mapShare(this.desc, states, req, custom) as Payload;
  }

  #query(q: string, see: ((items: T[]) => T[]) | undefined, copy: boolean): { states: State<T>[]; total: number } {
    const r = this.cache.query(q, see, copy);
    const max = this.sla.maxResult ?? 10_000;
    if (r.items.length > max) {
      throw l8error('L8_ERR_LIMIT', `${r.items.length} items is over the result maximum of ${max}: add a limit`, {
        data: { max },
      });
    }
    const states = r.items.map((entity) => {
      const key = this.writes.keyOf(entity);
      return { key, entity, version: this.cache.held(key)?.version ?? 0 };
    });
    return { states, total: r.total };
  }

  async #load(): Promise<void> {
    const store = this.#h.store;
    if (store === undefined) return;
    for await (const s of store.scan()) this.cache.set(s.key, { entity: s.item as T, version: s.version, writer: '' });
  }

  async #persist(key: string, state: Held<T> | undefined, tomb?: { version: number; writer: string }): Promise<void> {
    const group = this.#group;
    if (state === undefined) {
      if (group !== undefined) await group.submit({ op: 'delete', key });
      this.cache.remove(key, tomb ?? { version: 0, writer: '' });
      return;
    }
    if (group !== undefined)
      await group.submit({ op: 'put', item: { key, version: state.version, item: state.entity } });
    this.cache.set(key, state);
  }

  #publish(n: NotificationSet, bytes: Uint8Array): void {
    this.#h.emit(n);
    this.#outbox.send(bytes);
  }

  /** Stops what runs on its own (the outbox's retries); the manager closes the subscriptions and the store. */
  close(): void {
    this.#outbox.close();
  }
}
