import type { Message } from '@bufbuild/protobuf';
import { encodeNotificationSet, type NotificationSet, type TypeRegistry } from '@layer8/model';
import type { Held } from './entity-cache.ts';
import type { ConsistencyContract, PreparedWrite } from './write-path.ts';

/** What the best-effort contract needs from its service. */
export interface BestEffortHost<T extends Message> {
  readonly registry: TypeRegistry;
  /** Makes the state durable (write-through) and visible on this instance. */
  persist(key: string, state: Held<T> | undefined, tomb?: { version: number; writer: string }): Promise<void>;
  /** Tells local listeners and the overlay (the service's change stream) about a committed write. */
  publish(n: NotificationSet, bytes: Uint8Array): void;
}

/**
 * Best effort (DESIGN.md §7): the write commits on the instance that takes it (store, then cache) and
 * its notification goes to every other instance, which applies it by version.
 */
export class BestEffort<T extends Message = Message> implements ConsistencyContract<T> {
  readonly name = 'best-effort';
  readonly #h: BestEffortHost<T>;

  constructor(host: BestEffortHost<T>) {
    this.#h = host;
  }

  async commit(w: PreparedWrite<T>): Promise<void> {
    const bytes = encodeNotificationSet(this.#h.registry, w.notification);
    const tomb = { version: w.notification.version, writer: w.notification.source };
    await this.#h.persist(w.key, w.state, w.state === undefined ? tomb : undefined);
    this.#h.publish(w.notification, bytes);
  }
}
