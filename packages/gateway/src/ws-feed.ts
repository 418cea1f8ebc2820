import { decodeNotificationSet, type NotificationSet } from '@layer8/model';
import type { NodeId } from '@layer8/protocol';
import { changesOf } from '@layer8/services';
import type { Incoming, Subscription } from '@layer8/vnic';
import type { Route } from './route.ts';
import { type Fetched, fetchEntity } from './ws-fetch.ts';
import type { PushSubscription, SubscriptionHost } from './ws-subscription.ts';

/** How long a new feed waits for health to show its subscription before the first snapshot, ms. */
const READY_MS = 2000;

/**
 * The change stream `<name>.changes` of one route, followed while at least one client subscription needs
 * it. Notifications and snapshots run one at a time, in arrival order, so each client sees a key's changes
 * in order and never a change before its snapshot. A gap in a source's sequence (a notification the
 * gateway missed) and a queue over `maxQueued` resync every subscription instead.
 *
 * Invariant: `#sub` is open exactly while `#subs` is not empty and the feed is not closed.
 */
export class ChangeFeed {
  readonly name: string;
  readonly area: number;
  /** The route's fingerprint when the feed started: another one means the model changed. */
  readonly fingerprint: string;
  readonly #host: SubscriptionHost;
  readonly #maxQueued: number;
  readonly #subs = new Set<PushSubscription>();
  readonly #sub: Subscription;
  /** Source → last sequence seen. */
  readonly #last = new Map<string, number>();
  readonly #ready: Promise<void>;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #overflow = false;
  #closed = false;

  constructor(route: Route, host: SubscriptionHost, maxQueued: number) {
    this.name = route.name;
    this.area = route.area;
    this.fingerprint = route.fingerprint;
    this.#host = host;
    this.#maxQueued = maxQueued;
    const target = { service: changesOf(route.name), area: route.area };
    this.#sub = host.vnic.subscribe(target, (m) => {
      this.#onMessage(m);
      return undefined;
    });
    this.#ready = this.#subscribed(target.service);
  }

  /** Subscriptions it feeds now. */
  get size(): number {
    return this.#subs.size;
  }

  /** Adds a subscription: its snapshot is taken once the feed is subscribed, in turn with notifications. */
  add(sub: PushSubscription): void {
    this.#subs.add(sub);
    this.#enqueue(() => this.#ready.then(() => sub.snapshot()), true);
  }

  /** Removes a subscription; returns true when none is left (the feed is then closed). */
  remove(sub: PushSubscription): boolean {
    this.#subs.delete(sub);
    if (this.#subs.size === 0) this.close();
    return this.#closed;
  }

  /** Ends every subscription with `err` and stops following the stream. Idempotent. */
  endAll(err: unknown): void {
    for (const s of [...this.#subs]) s.end(err);
    this.close();
  }

  /** Stops following the stream. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sub.close();
  }

  #onMessage(m: Incoming): void {
    const n = this.#decode(m);
    if (n === undefined) return;
    const last = this.#last.get(n.source);
    this.#last.set(n.source, n.sequence);
    if (last !== undefined && n.sequence > last + 1) this.#enqueue(() => this.#resyncAll(), true);
    else this.#enqueue(() => this.#apply(n, m.source));
  }

  /** The notification, when it comes from an instance of the service and decodes; else dropped and counted. */
  #decode(m: Incoming): NotificationSet | undefined {
    const route = this.#host.route();
    const record = this.#host.vnic.health.get(m.source);
    const instance = record?.services.some((s) => s.service === this.name && s.area === this.area) === true;
    try {
      const n = route === undefined || !instance ? undefined : decodeNotificationSet(route.model.registry, m.payload);
      if (n !== undefined && n.source === m.source && n.service === this.name) return n;
    } catch {
      // counted below: a notification that does not decode is dropped like a forged one
    }
    this.#host.counters.dropped++;
    return undefined;
  }

  /** Applies one notification to every subscription; one fetch per identity, from the node that wrote it. */
  async #apply(n: NotificationSet, source: NodeId): Promise<void> {
    const route = this.#host.route();
    if (route === undefined) return;
    const fetched = new Map<string, Promise<Fetched | undefined>>();
    const fetch = (identity: string) => {
      let p = fetched.get(identity);
      if (p === undefined) {
        p = fetchEntity(this.#host, route, source, n.modelKey, identity);
        p.catch(() => undefined); // each subscription that awaits it handles the failure
        fetched.set(identity, p);
      }
      return p;
    };
    await Promise.all([...this.#subs].map((s) => s.apply(n, fetch)));
  }

  async #resyncAll(): Promise<void> {
    this.#overflow = false;
    await Promise.all([...this.#subs].map((s) => s.resync()));
  }

  /**
   * Runs `task` after the ones before it. Past `maxQueued` waiting notifications they are dropped and one
   * resync of every subscription is queued instead (`always` tasks are never dropped).
   */
  #enqueue(task: () => Promise<void>, always = false): void {
    if (this.#closed) return;
    if (!always && this.#queued >= this.#maxQueued) {
      if (!this.#overflow) this.#enqueue(() => this.#resyncAll(), true);
      this.#overflow = true;
      return;
    }
    if (!always && this.#overflow) return;
    this.#queued++;
    this.#chain = this.#chain
      .then(task)
      .catch((err: unknown) => this.#host.fault(err))
      .finally(() => {
        this.#queued--;
      });
  }

  /** Resolves once this node's health record shows the subscription (the VNet then routes multicasts to it). */
  #subscribed(service: string): Promise<void> {
    const health = this.#host.vnic.health;
    const shown = () =>
      health.get(this.#host.vnic.id)?.services.some((s) => s.service === service && s.area === this.area) === true;
    if (shown()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stop();
        clearTimeout(timer);
        resolve();
      };
      const stop = health.onChange(() => shown() && done());
      const timer = setTimeout(done, READY_MS).unref();
    });
  }
}
