import { type L8Error, l8error, type NodeId } from '@layer8/protocol';

/**
 * Connection state of a VNic. `connecting` until the first link is up (and while the first attempts
 * retry), `connected` while a link is up, `disconnected` after a link was lost and before the next dial,
 * `reconnecting` while that dial runs, `draining` while `drain()` lets work finish, `closed` for good.
 */
export type VNicState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'reconnecting' | 'draining' | 'closed';

/** One change of a VNic's state, as `status()` yields it. */
export interface VNicStatus {
  readonly state: VNicState;
  /** Why: the error that lost the link, failed the attempt or closed the VNic (none for a clean close). */
  readonly reason?: L8Error;
  /** The VNet of the link, once connected. */
  readonly vnet?: NodeId;
}

/** The states each state may move to; a move not listed is a bug (`L8_ERR_INTERNAL`). */
const NEXT: Readonly<Record<VNicState, readonly VNicState[]>> = {
  idle: ['connecting', 'draining', 'closed'],
  connecting: ['connecting', 'connected', 'draining', 'closed'],
  connected: ['disconnected', 'draining', 'closed'],
  disconnected: ['reconnecting', 'draining', 'closed'],
  reconnecting: ['connected', 'disconnected', 'draining', 'closed'],
  draining: ['closed'],
  closed: [],
};

/** The subset of a pino logger a VNic uses. */
export interface VNicLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  /**
   * Whether `level` is logged (pino has it). Per-request debug lines (a request or handler that failed,
   * with its `traceId`) are written only when this says `debug` is; without it, never.
   */
  isLevelEnabled?(level: string): boolean;
}

/** A logger that drops everything (the default: a library never prints by itself). */
export const SILENT_LOGGER: VNicLogger = { debug() {}, info() {}, warn() {} };

/** Status changes kept for a `status()` reader that does not keep up; older ones are dropped. */
const MAX_BUFFERED = 256;

/**
 * The one state machine of a VNic's connection: {@link to} is the only transition, checks it against the
 * table, logs it and hands it to every `status()` reader; `closed` settles {@link closed}.
 *
 * Invariants: `state` only changes in {@link to}; once `closed`, nothing changes again and every reader's
 * iteration has ended; `#readers` holds the readers whose iteration has not ended.
 */
export class Lifecycle {
  #state: VNicState = 'idle';
  readonly #log: VNicLogger;
  readonly #context: object;
  readonly #readers = new Set<Reader>();
  readonly #closed: Promise<L8Error | undefined>;
  #settle!: (reason: L8Error | undefined) => void;

  /** @param context fields every log line carries (node id, alias) */
  constructor(log: VNicLogger, context: object) {
    this.#log = log;
    this.#context = context;
    this.#closed = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  /** The current state. */
  get state(): VNicState {
    return this.#state;
  }

  /** Resolves once closed: with the reason when an error closed it, undefined for `close()` or `drain()`. */
  closed(): Promise<L8Error | undefined> {
    return this.#closed;
  }

  /**
   * Moves to `next`. @throws L8_ERR_INTERNAL for a move the table does not allow (a bug; nothing changes)
   */
  to(next: VNicState, change: Omit<VNicStatus, 'state'> = {}): void {
    if (!NEXT[this.#state].includes(next)) {
      throw l8error('L8_ERR_INTERNAL', `VNic state cannot go from ${this.#state} to ${next}`);
    }
    const from = this.#state;
    this.#state = next;
    const status: VNicStatus = { state: next, ...change };
    const line = { ...this.#context, from, to: next, vnet: change.vnet, code: change.reason?.code };
    if (change.reason !== undefined && next !== 'closed')
      this.#log.info(line, `vnic ${next}: ${change.reason.message}`);
    else this.#log.debug(line, `vnic ${next}`);
    for (const r of this.#readers) r.push(status);
    if (next === 'closed') this.#end(change.reason);
  }

  /** Every state change from now on, ending after `closed` (or at once when already closed). */
  status(): AsyncIterableIterator<VNicStatus> {
    const reader = new Reader(() => this.#readers.delete(reader));
    if (this.#state === 'closed') reader.end();
    else this.#readers.add(reader);
    return reader;
  }

  #end(reason: L8Error | undefined): void {
    for (const r of this.#readers) r.end();
    this.#readers.clear();
    this.#settle(reason);
  }
}

/**
 * One `status()` iteration: a bounded queue of changes and at most one waiting `next()`.
 *
 * Invariant: `#waiting` is set only while `#queue` is empty and the reader has not ended.
 */
class Reader implements AsyncIterableIterator<VNicStatus> {
  #queue: VNicStatus[] = [];
  #waiting: ((r: IteratorResult<VNicStatus>) => void) | undefined;
  #ended = false;
  readonly #leave: () => void;

  constructor(leave: () => void) {
    this.#leave = leave;
  }

  push(s: VNicStatus): void {
    const w = this.#waiting;
    if (w !== undefined) {
      this.#waiting = undefined;
      return w({ value: s, done: false });
    }
    if (this.#queue.length >= MAX_BUFFERED) this.#queue.shift();
    this.#queue.push(s);
  }

  end(): void {
    this.#ended = true;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<VNicStatus>> {
    const s = this.#queue.shift();
    if (s !== undefined) return Promise.resolve({ value: s, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<VNicStatus>> {
    this.#queue = [];
    this.end();
    this.#leave();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<VNicStatus> {
    return this;
  }
}
