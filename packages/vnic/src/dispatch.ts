import type { InstanceState } from '@layer8/link';
import {
  type ControlBody,
  encodeAnswer,
  frameServiceKey,
  Kind,
  type L8Error,
  l8error,
  Offset,
  serviceKey,
  toL8Error,
} from '@layer8/protocol';
import type { ConcurrencyLimiter } from './adaptive-limit.ts';
import type { ConcurrencyLimit } from './bulkhead.ts';
import { type CallHost, Context, type ContextHost } from './context.ts';
import { type Entry, entryOf, type Handler, type HandlerLimitState, limitStateOf, match } from './handler-entry.ts';
import type { Queued } from './handler-queue.ts';
import { encodePayload, Incoming, type Payload } from './payload.ts';
import { DEFAULT_LOW_PRIORITY_SHARE, PriorityQueue, queueBoundOf } from './shedding.ts';

export type { Handler, HandlerLimitState } from './handler-entry.ts';

/** Frames and messages a VNic dropped, by reason; tests and metrics read them. */
export interface VNicDrops {
  /** Data frames whose header lengths run past their end (docs/protocol.md §3.2), dropped unread. */
  malformed: number;
  /** REPLY, FAIL or PROGRESS frames from a node other than the one the request went to (and not a VNet). */
  forgedReplies: number;
  /** Requests answered `L8_ERR_BACKPRESSURE`: every handler slot busy and the queue full. */
  backpressure: number;
  /** Queued requests answered `L8_ERR_TIMEOUT`: their deadline passed before a handler slot was free. */
  expired: number;
  /** Requests answered `L8_ERR_BACKPRESSURE` by priority: their priority's share of the queue was full. */
  shed: number;
  /** Requests answered `L8_ERR_BACKPRESSURE` by their service's concurrency limit (and its queue) being full. */
  limited: number;
  /** One-way messages (NOTIFY, EVENT) dropped: the queue was full or their deadline passed in it. */
  notifies: number;
  /** Handlers of one-way messages that threw or rejected (reported to `onHandlerError`). */
  oneWayFailures: number;
}

/** A fresh set of zero counters. */
export function newDrops(): VNicDrops {
  return {
    malformed: 0,
    forgedReplies: 0,
    backpressure: 0,
    expired: 0,
    shed: 0,
    limited: 0,
    notifies: 0,
    oneWayFailures: 0,
  };
}

/** How many handlers may run and wait (the VNic options of the same names). */
export interface DispatchLimits {
  /** Handlers whose promise has not settled, at most. */
  readonly maxHandlersInFlight: number;
  /** Messages waiting for a handler slot, at most. */
  readonly maxQueuedRequests: number;
  /** Bytes of the messages waiting, at most. */
  readonly maxQueuedBytes: number;
  /** Share of the queue priorities below NORMAL may fill (`queueBoundOf`); 1 turns that off. Default 0.5. */
  readonly lowPriorityShare?: number;
}

/** The dispatch limits from the VNic options, with their defaults (256 running, 4096 and 16 MiB queued). */
export function dispatchLimits(o: {
  readonly maxHandlersInFlight?: number;
  readonly maxQueuedRequests?: number;
  readonly maxQueuedRequestBytes?: number;
  readonly lowPriorityQueueShare?: number;
}): DispatchLimits {
  return {
    maxHandlersInFlight: o.maxHandlersInFlight ?? 256,
    maxQueuedRequests: o.maxQueuedRequests ?? 4096,
    maxQueuedBytes: o.maxQueuedRequestBytes ?? 16 * 1024 * 1024,
    lowPriorityShare: o.lowPriorityQueueShare ?? DEFAULT_LOW_PRIORITY_SHARE,
  };
}

/** What dispatch needs from the VNic. */
export interface DispatchHost {
  /** This node's id, 16 bytes. */
  readonly idBytes: Uint8Array;
  /** The current VNet's id, 16 bytes. */
  vnetIdBytes(): Uint8Array;
  send(frame: Buffer): void;
  control(body: ControlBody): void;
  readonly limits: DispatchLimits;
  /** Counted into by the dispatcher (malformed, backpressure, expired, notifies, one-way failures). */
  readonly drops: VNicDrops;
  /** Told about a one-way handler that threw or rejected. */
  readonly onHandlerError?: (error: L8Error, service: string, area: number) => void;
  /** The calls a handler's context makes (requests and sends on the message's behalf). */
  readonly calls: CallHost;
  /**
   * When the frame being delivered was read (`performance.now()`): the link keeps it per read, so a
   * delivery costs no clock read. Default: the clock.
   */
  receivedAt?(): number;
}

/**
 * Whether a data frame's header lengths fit: the service name, trace length, traceparent and AAA length
 * field (docs/protocol.md §3.2, §4) lie inside the frame. The lengths after them are checked when the
 * payload is read (`payloadOffset`). Expects at least the fixed header (the frame decoder ensures it).
 */
export function headerFits(frame: Buffer): boolean {
  const trace = Offset.SERVICE + (frame[Offset.SERVICE_LEN] as number);
  // one compare: past the end frame[trace] is undefined, the sum NaN, and NaN <= n is false
  return trace + 3 + (frame[trace] as number) <= frame.length;
}

/** A registered handler; `close()` unsubscribes. */
export interface Subscription {
  readonly service: string;
  readonly area: number;
  /** Says in health what this instance is doing (`recovering`, `serving`); every node learns it. */
  setState(state: InstanceState): void;
  close(): void;
}

const key = serviceKey;

/**
 * The receiving side of a VNic: (service, area) → handler, and the replies to requests. Handlers in
 * flight (promises not settled) are bounded; messages beyond wait in a queue bounded in count and
 * bytes (by priority, then in arrival order; priorities below NORMAL get only a share of it,
 * shedding.ts), a request whose deadline (docs/protocol.md §3.1 DEADLINE) passes there is answered
 * `L8_ERR_TIMEOUT` without running, and a request beyond the queue is answered `L8_ERR_BACKPRESSURE` at
 * once. One-way messages take the same path and are dropped (counted) where a request would be answered.
 * A service with a concurrency limit (bulkhead.ts) runs at most that many handlers: a message beyond waits
 * in the service's own priority queue (bounded by its `queue`) or is refused `L8_ERR_BACKPRESSURE`.
 *
 * Invariants: `#handlers` holds exactly the subscriptions the VNet was last told about; `#running` counts
 * handler promises not settled and is at most `maxHandlersInFlight`; `#queue` is not empty only while
 * `#running` is at the bound; an entry's `waiting` is not empty only while one of its handlers runs (each
 * one that settles hands its slots to the service's queue first); `#watched` holds the running contexts
 * that made their signal.
 */
export class Dispatcher {
  readonly #host: DispatchHost;
  readonly #limits: DispatchLimits;
  readonly #drops: VNicDrops;
  readonly #handlers = new Map<string, Entry>();
  /** Area → entries, for matching a frame's service bytes without building a string. */
  #byArea = new Map<number, Entry[]>();
  #running = 0;
  readonly #queue = new PriorityQueue((frame) => this.#expired(frame));
  /** Contexts of running handlers that made their signal: aborted when the VNic closes. */
  readonly #watched = new Set<Context>();
  readonly #ctxHost: ContextHost;

  constructor(host: DispatchHost) {
    this.#host = host;
    this.#limits = host.limits;
    this.#drops = host.drops;
    this.#ctxHost = {
      request: (t, p, o) => host.calls.request(t, p, o),
      send: (t, p, o) => host.calls.send(t, p, o),
      multicast: (t, p, o) => host.calls.multicast(t, p, o),
      progress: (m, p) => this.#answer(m.frame as Buffer, Kind.PROGRESS, p, undefined),
      watch: (c) => this.#watched.add(c),
      unwatch: (c) => this.#watched.delete(c),
    };
  }

  /** Handlers running (their promise not settled). */
  get inFlight(): number {
    return this.#running;
  }

  /** Messages waiting for a handler slot or for their service's concurrency limit. */
  get queued(): number {
    let n = this.#queue.size;
    for (const e of this.#handlers.values()) n += e.waiting?.size ?? 0;
    return n;
  }

  /** What the context of a handler run here (or of a local call) calls. */
  get contexts(): ContextHost {
    return this.#ctxHost;
  }

  /** Whether no handler runs and none waits. */
  get idle(): boolean {
    return this.#running === 0 && this.queued === 0;
  }

  /** The (service, area) pairs subscribed. */
  services(): { service: string; area: number; state?: InstanceState }[] {
    return [...this.#handlers.values()].map(({ service, area, state }) =>
      state === undefined ? { service, area } : { service, area, state },
    );
  }

  /** The handler of (service, area) in this process, if any. */
  handlerOf(service: string, area: number): Handler | undefined {
    return this.#handlers.get(key(service, area))?.handler;
  }

  /** The concurrency limit of (service, area) now, undefined when it has none. */
  limitOf(service: string, area: number): HandlerLimitState | undefined {
    return limitStateOf(this.#handlers.get(key(service, area)));
  }

  /**
   * Registers `handler` for (service, area), replacing an earlier one (whose waiting messages are refused
   * `L8_ERR_NO_SERVICE`), and tells the VNet; `limit` bounds its concurrent runs.
   * @throws L8_ERR_INVALID_ARGUMENT for a bad `limit`
   */
  subscribe(
    service: string,
    area: number,
    handler: Handler,
    state?: InstanceState,
    limit?: ConcurrencyLimit,
  ): Subscription {
    const k = key(service, area);
    const entry = entryOf(service, area, handler, state, limit, (frame) => this.#expired(frame));
    this.#flush(this.#handlers.get(k));
    this.#handlers.set(k, entry);
    this.#reindex();
    this.#announce();
    return {
      service,
      area,
      setState: (s) => {
        if (this.#handlers.get(k) !== entry || entry.state === s) return;
        entry.state = s;
        this.#announce();
      },
      close: () => {
        if (this.#handlers.get(k) !== entry) return;
        this.#handlers.delete(k);
        this.#flush(entry);
        this.#reindex();
        this.#announce();
      },
    };
  }

  /**
   * Runs the handler of an incoming REQUEST, NOTIFY or EVENT frame, or queues it while every handler
   * slot is busy; answers a request with a reply or fail. A frame whose header lengths run past its end
   * is dropped and counted: nothing is read from it, nothing is answered.
   */
  deliver(frame: Buffer): void {
    if (!headerFits(frame)) {
      this.#drops.malformed++;
      return;
    }
    const h = this.#match(frame);
    if (h === undefined) return this.#noHandler(frame);
    const l = h.limiter;
    // while messages wait for the limit, a new one queues behind them (a settling handler drains them)
    if (l !== undefined && (l.running >= l.limit || (h.waiting?.size ?? 0) > 0)) {
      return this.#overLimit(h, frame, this.#deadlineOf(frame));
    }
    if (this.#running < this.#limits.maxHandlersInFlight && this.#queue.size === 0) {
      this.#run(h, frame, this.#deadlineOf(frame));
    } else this.#enqueue(frame);
  }

  /** Removes every handler (draining): the VNet stops routing here, a message that still comes is refused. */
  unsubscribeAll(): void {
    if (this.#handlers.size === 0) return;
    const entries = [...this.#handlers.values()];
    this.#handlers.clear();
    for (const e of entries) this.#flush(e);
    this.#reindex();
    this.#announce();
  }

  /** The `performance.now()` time a frame's deadline falls at, counted from when it was read. */
  #deadlineOf(frame: Buffer): number {
    const ms = frame.readUInt32BE(Offset.DEADLINE);
    if (ms === 0) return Number.POSITIVE_INFINITY;
    return (this.#host.receivedAt?.() ?? performance.now()) + ms;
  }

  /** Drops every queued message unanswered (the VNic is gone for good). */
  clear(): void {
    this.#queue.clear();
    for (const e of this.#handlers.values()) e.waiting?.clear();
  }

  /** Aborts the signal of every running handler that made one, with `error`. */
  abortRunning(error: L8Error): void {
    const running = [...this.#watched];
    this.#watched.clear();
    for (const c of running) c.abort(error);
  }

  #match(frame: Buffer): Entry | undefined {
    return match(this.#byArea.get(frame.readUInt16BE(Offset.AREA)), frame);
  }

  #noHandler(frame: Buffer): void {
    if (frame[Offset.KIND] !== Kind.REQUEST) return;
    const message = `no handler for ${frameServiceKey(frame) ?? '?'} here`;
    this.#fail(frame, toL8Error(new Error(message), 'L8_ERR_NO_SERVICE'));
  }

  #run(h: Entry, frame: Buffer, deadline: number): void {
    const isRequest = frame[Offset.KIND] === Kind.REQUEST;
    const message = new Incoming(frame);
    const ctx = new Context(message, this.#ctxHost, deadline);
    const startedAt = h.limiter?.acquire() ?? 0;
    let result: Payload | Promise<Payload>;
    try {
      result = h.handler(message, ctx);
    } catch (err) {
      ctx.end();
      h.limiter?.release(startedAt);
      return isRequest ? this.#fail(frame, toL8Error(err)) : this.#oneWayFailed(h, err);
    }
    if (!(result instanceof Promise)) {
      ctx.end();
      h.limiter?.release(startedAt);
      return isRequest ? this.#reply(frame, result) : undefined;
    }
    this.#running++;
    result.then(
      (r) => {
        ctx.end();
        if (isRequest) this.#reply(frame, r);
        this.#settled(h, startedAt);
      },
      (e: unknown) => {
        ctx.end();
        if (isRequest) this.#fail(frame, toL8Error(e));
        else this.#oneWayFailed(h, e);
        this.#settled(h, startedAt);
      },
    );
  }

  /** A one-way handler failed: nobody waits for an answer, so count it and tell the owner. */
  #oneWayFailed(h: Entry, err: unknown): void {
    this.#drops.oneWayFailures++;
    try {
      this.#host.onHandlerError?.(toL8Error(err), h.service, h.area);
    } catch {
      // the owner's callback must not break the link that delivered the message
    }
  }

  /**
   * A handler promise of `h` settled: its slots go first to the oldest message waiting for `h`'s limit,
   * then to the oldest queued message still within its deadline.
   */
  #settled(h: Entry, startedAt: number): void {
    this.#running--;
    if (h.limiter !== undefined) {
      h.limiter.release(startedAt);
      if (h.waiting !== undefined) this.#drain(h, h.limiter, h.waiting);
    }
    while (this.#running < this.#limits.maxHandlersInFlight && this.#queue.size > 0) {
      const q = this.#queue.shift() as Queued;
      if (q.deadline <= performance.now()) {
        this.#expired(q.frame);
        continue;
      }
      const next = this.#match(q.frame);
      if (next === undefined) this.#noHandler(q.frame);
      else if (next.limiter !== undefined && next.limiter.running >= next.limiter.limit) {
        this.#overLimit(next, q.frame, q.deadline);
      } else this.#run(next, q.frame, q.deadline);
    }
  }

  /** Runs messages waiting for `h`'s limit while it and the handler slots allow. */
  #drain(h: Entry, limiter: ConcurrencyLimiter, waiting: PriorityQueue): void {
    const max = this.#limits.maxHandlersInFlight;
    while (waiting.size > 0 && limiter.running < limiter.limit && this.#running < max) {
      const q = waiting.shift() as Queued;
      if (q.deadline <= performance.now()) this.#expired(q.frame);
      else this.#run(h, q.frame, q.deadline);
    }
  }

  /** A message for `h` while its limit is reached: into the service's queue if it has room, else refused. */
  #overLimit(h: Entry, frame: Buffer, deadline: number): void {
    const w = h.waiting;
    const bound = queueBoundOf(frame[Offset.PRIORITY] as number, h.queueMax, this.#share());
    if (w !== undefined && w.size < bound && w.bytes + frame.length <= this.#limits.maxQueuedBytes) {
      return w.push(frame, deadline);
    }
    if (frame[Offset.KIND] !== Kind.REQUEST) return void this.#drops.notifies++;
    this.#drops.limited++;
    const limit = `limit of ${h.limiter?.limit} handlers reached, ${w?.size ?? 0} waiting`;
    this.#fail(frame, l8error('L8_ERR_BACKPRESSURE', `service ${h.service} busy: its concurrency ${limit}`));
  }

  #share(): number {
    return this.#limits.lowPriorityShare ?? DEFAULT_LOW_PRIORITY_SHARE;
  }

  /** Refuses the messages waiting for the limit of an entry that is gone (a caller may retry elsewhere). */
  #flush(e: Entry | undefined): void {
    const w = e?.waiting;
    if (w === undefined) return;
    for (let q = w.shift(); q !== undefined; q = w.shift()) this.#noHandler(q.frame);
  }

  #enqueue(frame: Buffer): void {
    const { maxQueuedRequests: max, maxQueuedBytes } = this.#limits;
    const bound = queueBoundOf(frame[Offset.PRIORITY] as number, max, this.#share());
    if (this.#queue.size >= bound || this.#queue.bytes + frame.length > maxQueuedBytes) {
      if (frame[Offset.KIND] !== Kind.REQUEST) return void this.#drops.notifies++;
      if (this.#queue.size >= bound && this.#queue.size < max) this.#drops.shed++;
      else this.#drops.backpressure++;
      const busy = `${this.#running} handlers in flight and ${this.queued} messages queued`;
      return this.#fail(frame, l8error('L8_ERR_BACKPRESSURE', `service busy: ${busy}`));
    }
    this.#queue.push(frame, this.#deadlineOf(frame));
  }

  #expired(frame: Buffer): void {
    if (frame[Offset.KIND] !== Kind.REQUEST) return void this.#drops.notifies++;
    this.#drops.expired++;
    const ms = frame.readUInt32BE(Offset.DEADLINE);
    this.#fail(frame, l8error('L8_ERR_TIMEOUT', `the ${ms} ms deadline passed while waiting for a handler`));
  }

  #reindex(): void {
    const byArea = new Map<number, Entry[]>();
    for (const e of this.#handlers.values()) byArea.set(e.area, [...(byArea.get(e.area) ?? []), e]);
    this.#byArea = byArea;
  }

  #announce(): void {
    this.#host.control({ t: 'services', services: this.services() });
  }

  #reply(frame: Buffer, result: Payload): void {
    try {
      this.#answer(frame, Kind.REPLY, result, undefined);
    } catch (err) {
      this.#fail(frame, toL8Error(err, 'L8_ERR_HANDLER'));
    }
  }

  #fail(frame: Buffer, error: L8Error): void {
    try {
      this.#answer(frame, Kind.FAIL, undefined, error);
    } catch {
      // the link is gone or full: the requester's deadline or the node-down event completes it
    }
  }

  #answer(request: Buffer, kind: Kind, value: Payload, error: L8Error | undefined): void {
    const { payload, contentType } = encodePayload(value);
    const source = this.#host.idBytes;
    this.#host.send(
      encodeAnswer(request, {
        kind,
        source,
        origin: this.#host.vnetIdBytes(),
        contentType,
        payload,
        error: error?.toWire(),
      }),
    );
  }
}
