import type { DescMessage, Message } from '@bufbuild/protobuf';
import { deepClone, makeChangeSet, merge, type NotificationSet, primaryKeyOf } from '@layer8/model';
import { L8Error, l8error, toL8Error } from '@layer8/protocol';
import type { EntityCache, Held } from './entity-cache.ts';
import { KeyedQueue } from './keyed-queue.ts';
import type { ActionName, ServiceCounters, ServiceLevelAgreement, WriteInfo } from './sla.ts';

/** A write as a handler asks for it. */
export interface WriteRequest<T extends Message = Message> {
  readonly action: Exclude<ActionName, 'get'>;
  /** The item (post, put, patch) or undefined (delete, which names `key`). */
  readonly item?: T;
  /** The primary key (delete; for the others it comes from the item). */
  readonly key?: string;
  readonly identity: string;
  /**
   * Whether the caller may see an entity (its scope); absent when it sees everything. A caller writes
   * only what it may see: a hidden entity is missing for it, and a write whose result it could not see
   * is refused.
   */
  readonly visible?: (entity: T) => boolean;
}

/** A write ready to commit: the new state (undefined for a delete) and what to tell the other instances. */
export interface PreparedWrite<T extends Message = Message> {
  readonly key: string;
  readonly state: Held<T> | undefined;
  readonly notification: NotificationSet;
}

/**
 * The commit step of the one write path (DESIGN.md §7): `best-effort` applies on this instance and
 * replicates; `transactional` and `replicated(N)` will run the same prepared write through two-phase
 * commit. When `commit` resolves the write is durable and visible here.
 */
export interface ConsistencyContract<T extends Message = Message> {
  readonly name: string;
  commit(write: PreparedWrite<T>): Promise<void>;
}

/** What the write path needs from its service. */
export interface WritePathHost<T extends Message> {
  readonly sla: ServiceLevelAgreement;
  readonly desc: DescMessage;
  readonly cache: EntityCache<T>;
  readonly contract: ConsistencyContract<T>;
  readonly counters: ServiceCounters;
  /** This node's id: the writer of the versions it makes. */
  readonly self: string;
  /** Per-source sequence of the notifications this instance sends. */
  nextSequence(): number;
}

/**
 * The single write path of a stateful service: before callback → new state with version → unique keys →
 * the contract's commit (store, cache, notify, replicate) → after callback. Writes of one key run one at
 * a time; writes of different keys run concurrently.
 */
export class WritePath<T extends Message = Message> {
  readonly #h: WritePathHost<T>;
  readonly #queue = new KeyedQueue();

  constructor(host: WritePathHost<T>) {
    this.#h = host;
  }

  /** The queue writes and replica applies of one key share. */
  get queue(): KeyedQueue {
    return this.#queue;
  }

  /**
   * Runs a write and resolves with its key and the committed state (undefined after a delete).
   * @throws L8_ERR_NOT_FOUND, L8_ERR_CONFLICT, L8_ERR_INVALID_ARGUMENT, the callbacks' and the store's errors
   */
  write(req: WriteRequest<T>): Promise<{ key: string; state: Held<T> | undefined }> {
    const key = this.#keyOf(req);
    return this.#queue.run(key, async () => ({ key, state: await this.#write(key, req) }));
  }

  /** The primary key text of `entity`. */
  keyOf(entity: Message): string {
    return primaryKeyOf(this.#h.desc, entity);
  }

  async #write(key: string, req: WriteRequest<T>): Promise<Held<T> | undefined> {
    const { cache, desc } = this.#h;
    const held = cache.held(key);
    this.#check(req, key, held);
    const { before, after } = this.#h.sla;
    const called = before?.[req.action] !== undefined || after?.[req.action] !== undefined;
    const info: WriteInfo = {
      action: req.action,
      identity: req.identity,
      before: called ? held && cache.get(key) : undefined,
    };
    const item = await this.#before(req, info);
    const prepared = this.#prepare(key, req.action, held, item);
    if (prepared.state !== undefined && req.visible?.(prepared.state.entity) === false) {
      throw l8error('L8_ERR_FORBIDDEN', `the ${desc.name} written would not be this caller's to see`, {
        data: { key },
      });
    }
    if (prepared.state !== undefined) cache.checkUnique(key, prepared.state.entity);
    await this.#h.contract.commit(prepared);
    if (after?.[req.action] !== undefined) {
      await this.#after(req.action, prepared.state && (deepClone(desc, prepared.state.entity) as T), info);
    }
    return prepared.state;
  }

  #keyOf(req: WriteRequest<T>): string {
    if (req.action === 'delete' && req.key !== undefined) return req.key;
    if (req.item === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `${req.action} needs an item`);
    const key = this.keyOf(req.item);
    if (key === '' || key === '0') {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `${req.action} of a ${this.#h.desc.name} without its primary key`);
    }
    return key;
  }

  #check(req: WriteRequest<T>, key: string, held: Held<T> | undefined): void {
    const name = `${this.#h.desc.name}<${key}>`;
    if (req.action === 'post' && held !== undefined) {
      throw l8error('L8_ERR_CONFLICT', `${name} exists: POST creates, PUT replaces`, { data: { key } });
    }
    const hidden = held !== undefined && req.visible?.(held.entity) === false;
    if ((req.action === 'patch' || req.action === 'delete') && (held === undefined || hidden)) {
      throw l8error('L8_ERR_NOT_FOUND', `${name} does not exist`, { data: { key } });
    }
    if (hidden) throw l8error('L8_ERR_FORBIDDEN', `${name} may not be written by this caller`, { data: { key } });
  }

  async #before(req: WriteRequest<T>, info: WriteInfo): Promise<T | undefined> {
    const cb = this.#h.sla.before?.[req.action];
    if (cb === undefined || req.item === undefined) return req.item;
    try {
      return ((await cb(req.item as never, info)) as T | undefined) ?? req.item;
    } catch (err) {
      throw err instanceof L8Error ? err : toL8Error(err, 'L8_ERR_HANDLER');
    }
  }

  async #after(action: ActionName, item: T | undefined, info: WriteInfo): Promise<void> {
    try {
      await this.#h.sla.after?.[action]?.(item as never, info);
    } catch {
      this.#h.counters.errors++; // an after callback reports; it cannot undo a committed write
    }
  }

  /** The new state and its notification: post and put carry the entity, patch a change set, delete the key. */
  #prepare(key: string, action: WriteRequest['action'], held: Held<T> | undefined, item: T | undefined) {
    const { desc, cache, self } = this.#h;
    const base = held?.version ?? cache.tomb(key)?.version ?? 0;
    const version = base + 1;
    const common = this.#notification(key, action, version);
    if (action === 'delete') return { key, state: undefined, notification: common };
    const entity = this.#merged(action, held, item as T);
    const state: Held<T> = { entity, version, writer: self };
    if (action !== 'patch' || held === undefined) {
      return { key, state, notification: { ...common, kind: action === 'patch' ? 'put' : action, entity } };
    }
    const changeSet = makeChangeSet(desc, held, entity, { key });
    return { key, state, notification: { ...common, changeSet } };
  }

  #merged(action: WriteRequest['action'], held: Held<T> | undefined, item: T): T {
    const { desc } = this.#h;
    if (action !== 'patch' || held === undefined) return deepClone(desc, item) as T;
    const target = deepClone(desc, held.entity) as T;
    merge(desc, target, item);
    return target;
  }

  #notification(key: string, action: WriteRequest['action'], version: number): NotificationSet {
    const { sla, desc, self } = this.#h;
    return {
      kind: action,
      source: self,
      sequence: this.#h.nextSequence(),
      service: sla.name,
      area: sla.area ?? 0,
      modelType: desc.typeName,
      modelKey: key,
      version,
    };
  }
}
