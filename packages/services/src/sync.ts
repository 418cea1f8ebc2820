import type { Message } from '@bufbuild/protobuf';
import type { HealthView } from '@layer8/health';
import type { ModelCodec } from '@layer8/model';
import { Action, l8error, type NodeId } from '@layer8/protocol';
import type { HandlerContext, Incoming, VNic } from '@layer8/vnic';
import type { EntityCache } from './entity-cache.ts';
import type { FetchedState, Replica } from './replica.ts';
import type { ServiceCounters, ServiceLevelAgreement } from './sla.ts';
import { fromSyncEntry, type SnapshotPage, type SyncRequest, syncEntry } from './wire.ts';

/** Entities per snapshot page. */
const PAGE = 2000;
/** Deadline of one SYNC request, ms. */
const SYNC_MS = 10_000;

/** What the SYNC side of an instance needs. */
export interface SyncHost<T extends Message> {
  readonly vnic: VNic;
  readonly sla: ServiceLevelAgreement;
  readonly codec: ModelCodec;
  readonly cache: EntityCache<T>;
}

/**
 * The instance-to-instance side of a stateful service (action SYNC on the service itself): one entity's
 * state for a replica that found a gap, and paged snapshots for an instance that recovers or returns.
 * Only another instance of the service may ask.
 */
export class SyncPeer<T extends Message = Message> {
  readonly #h: SyncHost<T>;

  constructor(host: SyncHost<T>) {
    this.#h = host;
  }

  /** The state `node` holds of `key` (undefined when it holds nothing). @throws what the request fails with */
  async fetch(node: NodeId, key: string): Promise<FetchedState<T> | undefined> {
    const reply = await this.#ask(node, { op: 'get', key });
    const page = reply.json<SnapshotPage>();
    const e = page.entries[0];
    return e === undefined ? undefined : fromSyncEntry(this.#h.codec as never, e);
  }

  /**
   * Merges the whole state of another instance (the first of health's instances that answers), page by
   * page, keeping the newer state of every key. Without another instance there is nothing to do.
   */
  async recoverFrom(replica: Replica<T>, counters: ServiceCounters, only?: NodeId): Promise<void> {
    for (const node of only === undefined ? this.#others() : [only]) {
      try {
        await this.#snapshot(node, replica, counters);
        return;
      } catch {
        // that instance went away: try the next
      }
    }
  }

  /** Answers a SYNC request from another instance. @throws L8_ERR_FORBIDDEN for a node that is not one */
  answer(m: Incoming, ctx: HandlerContext, health: HealthView): SnapshotPage {
    const { sla } = this.#h;
    const host = health.get(ctx.source)?.services.some((s) => s.service === sla.name && s.area === (sla.area ?? 0));
    if (host !== true && ctx.source !== this.#h.vnic.id) {
      throw l8error('L8_ERR_FORBIDDEN', `only an instance of ${sla.name} may ask for its state`);
    }
    const req = m.json<SyncRequest>();
    if (req?.op === 'get') return { entries: this.#entryOf(req.key), more: false };
    if (req?.op === 'snapshot') return this.#page(req.after, Math.min(req.limit, PAGE));
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'a SYNC request is {op: get|snapshot}');
  }

  /** Pages through `node`'s state; the next page is asked for while the current one is merged. */
  async #snapshot(node: NodeId, replica: Replica<T>, counters: ServiceCounters): Promise<void> {
    let next: Promise<SnapshotPage> | undefined = this.#pageOf(node, undefined);
    while (next !== undefined) {
      const page: SnapshotPage = await next;
      const last = page.entries.at(-1)?.key;
      next = page.more && last !== undefined ? this.#pageOf(node, last) : undefined;
      next?.catch(() => undefined); // awaited on the next turn; a merge failure must not leave it unhandled
      await Promise.all(page.entries.map((e) => this.#merge(replica, counters, e)));
    }
  }

  /** Merges one entry of a page (the entries of a page have distinct keys: they merge concurrently, their writes share a commit). */
  async #merge(replica: Replica<T>, counters: ServiceCounters, e: SnapshotPage['entries'][number]): Promise<void> {
    const s = fromSyncEntry(this.#h.codec as never, e) as FetchedState<T> & { key: string };
    await replica.merge(s.key, s);
    counters.fetched++;
  }

  async #pageOf(node: NodeId, after: string | undefined): Promise<SnapshotPage> {
    const req: SyncRequest =
      after === undefined ? { op: 'snapshot', limit: PAGE } : { op: 'snapshot', after, limit: PAGE };
    return (await this.#ask(node, req)).json<SnapshotPage>();
  }

  #entryOf(key: string): SnapshotPage['entries'] {
    const { cache, codec } = this.#h;
    const s = cache.held(key) ?? cache.tomb(key);
    return s === undefined ? [] : [syncEntry(codec, key, s)];
  }

  #page(after: string | undefined, limit: number): SnapshotPage {
    const { cache, codec } = this.#h;
    const page = cache.page(after, limit);
    return { entries: page.entries.map(([k, s]) => syncEntry(codec, k, s)), more: page.more };
  }

  #others(): NodeId[] {
    const { vnic, sla } = this.#h;
    return vnic.health
      .instances(sla.name, sla.area ?? 0)
      .map((r) => r.id)
      .filter((id) => id !== vnic.id);
  }

  #ask(node: NodeId, req: SyncRequest): Promise<Incoming> {
    const { vnic, sla } = this.#h;
    return vnic.request({ service: sla.name, area: sla.area ?? 0, node }, req, {
      action: Action.SYNC,
      timeoutMs: SYNC_MS,
    });
  }
}
