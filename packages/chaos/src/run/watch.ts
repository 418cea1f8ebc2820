import type { HealthEvent } from '@layer8/health';
import type { VNic, VNicStatus } from '@layer8/vnic';
import { wallNow } from './agent-protocol.ts';
import type { LoadDriver } from './load.ts';
import type { HealthChange, LoadBatch, StateChange } from './load-batch.ts';

/** How often an agent under load sends its batch, ms. */
export const BATCH_MS = 100;

/**
 * What a chaos VNic agent watches and sends: every status change of every node in its health table (as
 * `up`, `unreachable`, `removed`), every change of its own connection state, and its load's batch, pushed
 * to the controller every {@link BATCH_MS}. Times are the agent's own, taken when the change happened, so
 * a batch's delay does not skew detection and recovery times.
 *
 * Invariants: `#status` holds the last status sent for every node the table holds; `#health` and `#states`
 * what changed since the last push.
 */
export class Watch {
  readonly #vnic: VNic;
  readonly #load: LoadDriver;
  readonly #send: (batch: LoadBatch) => void;
  readonly #status = new Map<string, HealthChange[2]>();
  #health: HealthChange[] = [];
  #states: StateChange[] = [];
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => void) | undefined;
  #statuses: AsyncIterableIterator<VNicStatus> | undefined;

  constructor(vnic: VNic, load: LoadDriver, send: (batch: LoadBatch) => void) {
    this.#vnic = vnic;
    this.#load = load;
    this.#send = send;
  }

  /** Records the table as it is now, then every change; starts pushing batches. */
  start(): void {
    const at = wallNow();
    for (const r of this.#vnic.health.all()) this.#note(at, r.id, r.status);
    this.#states.push([at, this.#vnic.state, this.#vnic.vnetId]);
    this.#unlisten = this.#vnic.health.onChange((e) => this.#changed(e));
    void this.#follow();
    this.#timer = setInterval(() => this.flush(), BATCH_MS);
  }

  /** Pushes what is pending now. */
  flush(): void {
    const batch: LoadBatch = { ...this.#load.take(), health: this.#health, states: this.#states };
    this.#health = [];
    this.#states = [];
    this.#send(batch);
  }

  /** Stops pushing (after a last batch). */
  stop(): void {
    clearInterval(this.#timer);
    this.#unlisten?.();
    void this.#statuses?.return?.();
    this.flush();
  }

  #changed(e: HealthEvent): void {
    const status = e.type === 'removed' ? 'removed' : e.type === 'unreachable' ? 'unreachable' : e.record.status;
    this.#note(wallNow(), e.record.id, status);
  }

  #note(at: number, node: string, status: HealthChange[2]): void {
    if (this.#status.get(node) === status) return;
    if (status === 'removed') this.#status.delete(node);
    else this.#status.set(node, status);
    this.#health.push([at, node, status]);
  }

  async #follow(): Promise<void> {
    this.#statuses = this.#vnic.status();
    for await (const s of this.#statuses) this.#states.push([wallNow(), s.state, s.vnet ?? this.#vnic.vnetId]);
  }
}
