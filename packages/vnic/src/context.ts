import { randomFillSync } from 'node:crypto';
import { type Action, Kind, type L8Error, l8error, type NodeId } from '@layer8/protocol';
import type { Incoming, Payload } from './payload.ts';
import type { RequestOptions, SendOptions, Target } from './target.ts';

/**
 * What a handler knows about the message it runs for, read from the header without decoding the whole
 * message, and the calls it makes on the message's behalf: a request made through `ctx.request`
 * inherits the remaining deadline and a child of the trace context (deadline propagation).
 */
export interface HandlerContext {
  /** `request` (an answer is awaited), `notify` or `event` (one-way). */
  readonly kind: 'request' | 'notify' | 'event';
  readonly action: Action;
  readonly service: string;
  readonly area: number;
  /** The sending node. */
  readonly source: NodeId;
  /** The identity the sender carried (empty when none). */
  readonly identity: string;
  /** The sender's W3C traceparent, if any. */
  readonly traceparent: string | undefined;
  /**
   * Aborts at the message's deadline (reason `L8_ERR_TIMEOUT`) or when the VNic closes (`L8_ERR_CLOSED`);
   * never aborts for a message without a deadline that runs to its end. Made on first use.
   */
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline; `Infinity` when the message has none. */
  remainingMs(): number;
  /** Sends a progress reply (does not complete the request). No-op for one-way messages. */
  progress(payload: Payload): void;
  /**
   * A request on behalf of this message: its deadline is at most the time left (`L8_ERR_TIMEOUT` at once
   * when none is left) and it carries a child of this message's traceparent, unless `options` says otherwise.
   */
  request(target: Target, payload?: Payload, options?: RequestOptions): Promise<Incoming>;
  /** A one-way send on behalf of this message, with the trace context inherited. */
  send(target: Target, payload?: Payload, options?: SendOptions): void;
  /** A multicast on behalf of this message, with the trace context inherited. */
  multicast(target: Target, payload?: Payload, options?: SendOptions): void;
}

/** The calls a handler context makes on its VNic. */
export interface CallHost {
  request(target: Target, payload: Payload, options: RequestOptions): Promise<Incoming>;
  send(target: Target, payload: Payload, options: SendOptions): void;
  multicast(target: Target, payload: Payload, options: SendOptions): void;
}

/** What a handler context needs from its VNic and dispatcher. */
export interface ContextHost extends CallHost {
  /** Sends a progress reply to the request `message` (no allocation per request: the host is shared). */
  progress(message: Incoming, payload: Payload): void;
  /** Told when the context made its signal, so that a close can abort it. */
  watch(ctx: Context): void;
  unwatch(ctx: Context): void;
}

const KIND_NAME: Partial<Record<number, HandlerContext['kind']>> = {
  [Kind.REQUEST]: 'request',
  [Kind.NOTIFY]: 'notify',
  [Kind.EVENT]: 'event',
};

/**
 * The context of one handler run.
 *
 * Invariants: `#deadline` is a `performance.now()` time or Infinity and never changes; `#signal` is
 * made on the first read of `signal` (a handler that never reads it costs no timer and no allocation),
 * its timer set when the deadline is finite and not yet passed, and it is watched by the host from then
 * until {@link end}, which clears the timer.
 */
export class Context implements HandlerContext {
  readonly #m: Incoming;
  readonly #host: ContextHost;
  readonly #deadline: number;
  #signal: { controller: AbortController; timer: NodeJS.Timeout | undefined; watched: boolean } | undefined;
  #ended = false;

  /** @param deadline a `performance.now()` time, Infinity for none */
  constructor(message: Incoming, host: ContextHost, deadline: number) {
    this.#m = message;
    this.#host = host;
    this.#deadline = deadline;
  }

  get kind(): HandlerContext['kind'] {
    return KIND_NAME[this.#m.kind] ?? 'notify';
  }
  get action(): Action {
    return this.#m.action;
  }
  get service(): string {
    return this.#m.service;
  }
  get area(): number {
    return this.#m.area;
  }
  get source(): NodeId {
    return this.#m.source;
  }
  get identity(): string {
    return this.#m.identity;
  }
  get traceparent(): string | undefined {
    return this.#m.traceparent;
  }

  get signal(): AbortSignal {
    this.#signal ??= this.#arm();
    return this.#signal.controller.signal;
  }

  remainingMs(): number {
    // a timer may fire a fraction of a millisecond early: once the signal aborted, no time is left
    if (this.#signal?.controller.signal.aborted) return 0;
    return this.#deadline - performance.now();
  }

  progress(payload: Payload): void {
    if (!this.#ended && this.#m.kind === Kind.REQUEST) this.#host.progress(this.#m, payload);
  }

  request(target: Target, payload?: Payload, options: RequestOptions = {}): Promise<Incoming> {
    const left = this.remainingMs();
    if (left <= 0) {
      return Promise.reject(l8error('L8_ERR_TIMEOUT', `the deadline of ${this.service}'s request had passed`));
    }
    const timeoutMs = Math.min(options.timeoutMs ?? left, left);
    return this.#host.request(target, payload, {
      ...this.#inherited(options),
      timeoutMs: Math.max(1, Math.floor(timeoutMs)),
    });
  }

  send(target: Target, payload?: Payload, options: SendOptions = {}): void {
    this.#host.send(target, payload, this.#inherited(options));
  }

  multicast(target: Target, payload?: Payload, options: SendOptions = {}): void {
    this.#host.multicast(target, payload, this.#inherited(options));
  }

  /** The handler settled: the deadline timer goes (the signal no longer aborts). */
  end(): void {
    this.#ended = true;
    const s = this.#signal;
    if (s === undefined) return;
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    if (s.watched) this.#host.unwatch(this);
    s.watched = false;
  }

  /** Aborts the signal now (the VNic closed) if it was made and has not fired. */
  abort(reason: L8Error): void {
    this.end();
    const controller = this.#signal?.controller;
    if (controller?.signal.aborted === false) controller.abort(reason);
  }

  #inherited<O extends SendOptions>(options: O): O {
    const parent = this.traceparent;
    if (options.traceparent !== undefined || parent === undefined) return options;
    return { ...options, traceparent: childTraceparent(parent) };
  }

  #arm(): { controller: AbortController; timer: NodeJS.Timeout | undefined; watched: boolean } {
    const controller = new AbortController();
    const armed = { controller, timer: undefined as NodeJS.Timeout | undefined, watched: false };
    if (this.#ended) return armed;
    armed.watched = true;
    this.#host.watch(this);
    const left = this.#deadline - performance.now();
    if (left === Number.POSITIVE_INFINITY) return armed;
    const late = l8error('L8_ERR_TIMEOUT', `the deadline of this ${this.service} message passed`);
    if (left <= 0) controller.abort(late);
    else armed.timer = setTimeout(() => controller.abort(late), left).unref();
    return armed;
  }
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * A W3C traceparent for a call made inside the span of `parent`: the same trace id and flags, a new
 * parent (span) id. A value that is not a traceparent is passed on as it is.
 */
export function childTraceparent(parent: string): string {
  const m = TRACEPARENT.exec(parent);
  if (m === null) return parent;
  const span = randomFillSync(Buffer.alloc(8)).toString('hex');
  return `${m[1]}-${m[2]}-${span}-${m[4]}`;
}
