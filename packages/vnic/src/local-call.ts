import { Action, fromWire, Kind, l8error, type Message, Mode, type NodeId, toL8Error } from '@layer8/protocol';
import { Context, type ContextHost } from './context.ts';
import type { Handler } from './dispatch.ts';
import { encodePayload, Incoming, type Payload } from './payload.ts';
import type { RequestOptions } from './target.ts';
import type { TurnBudget } from './turn-budget.ts';

/** What a local call needs from its VNic. */
export interface LocalCallHost {
  readonly id: NodeId;
  /** The VNet of the current (or last) link. */
  vnetId(): NodeId;
  /** Requests in flight over the link (they share `maxPending` with local calls). */
  pendingSize(): number;
  readonly maxPending: number;
  readonly defaultTimeoutMs: number;
  /** What the handler's context calls. */
  readonly contexts: ContextHost;
  /** In-process calls per turn of the event loop (shared with other in-process work of this VNic). */
  readonly turns: TurnBudget;
}

/**
 * `local`-mode requests served by this process's own handler (DESIGN.md §4, delivered without a socket),
 * with the same contract as one that crosses a socket: it counts against `maxPending`, fails with
 * `L8_ERR_TIMEOUT` at its deadline and with `L8_ERR_ABORTED` when `signal` aborts (the handler's result
 * is then ignored). Past the turn budget, a call waits for the next turn of the event loop, so a loop of
 * local calls cannot starve the VNic's own link.
 *
 * Invariant: `#inFlight` counts calls whose promise has not settled.
 */
export class LocalCalls {
  readonly #host: LocalCallHost;
  #inFlight = 0;

  constructor(host: LocalCallHost) {
    this.#host = host;
  }

  /** Calls whose promise has not settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Runs `handler` on the request. @throws L8_ERR_BACKPRESSURE, L8_ERR_TIMEOUT, L8_ERR_ABORTED, the handler's error */
  async call(
    handler: Handler,
    service: string,
    area: number,
    payload: Payload,
    options: RequestOptions,
  ): Promise<Incoming> {
    const turn = this.#host.turns.take();
    if (turn !== undefined) await turn;
    const max = this.#host.maxPending;
    if (this.#host.pendingSize() + this.#inFlight >= max) {
      throw l8error('L8_ERR_BACKPRESSURE', `${max} requests already in flight`);
    }
    const timeoutMs = options.timeoutMs ?? this.#host.defaultTimeoutMs;
    const m = this.#message(service, area, payload, options, timeoutMs);
    this.#inFlight++;
    try {
      // a host of this call's own: its progress replies go to this caller's onProgress
      const host = {
        ...this.#host.contexts,
        progress: (_: Incoming, p: Payload) =>
          options.onProgress?.(new Incoming({ ...m, kind: Kind.PROGRESS, ...encodePayload(p) })),
      };
      const ctx = new Context(new Incoming(m), host, performance.now() + timeoutMs);
      return await bounded(run(handler, m, ctx), timeoutMs, options.signal).finally(() => ctx.end());
    } finally {
      this.#inFlight--;
    }
  }

  #message(service: string, area: number, payload: Payload, options: RequestOptions, timeoutMs: number): Message {
    const { payload: bytes, contentType } = encodePayload(payload, options.codec);
    const id = this.#host.id;
    return {
      kind: Kind.REQUEST,
      mode: Mode.LOCAL,
      priority: options.priority ?? 4,
      hops: 0,
      area,
      sequence: 0,
      deadlineMs: timeoutMs,
      source: id,
      origin: this.#host.vnetId(),
      destination: id,
      contentType,
      action: (options.action ?? Action.HANDLE) as Action,
      service,
      aaa: options.identity ?? '',
      idempotencyKey: options.idempotencyKey,
      payload: bytes,
      traceparent: options.traceparent,
    };
  }
}

async function run(handler: Handler, m: Message, ctx: Context): Promise<Incoming> {
  try {
    const result = await handler(new Incoming(m), ctx);
    return new Incoming({ ...m, kind: Kind.REPLY, ...encodePayload(result) });
  } catch (err) {
    throw fromWire(toL8Error(err).toWire());
  }
}

/** `work`, or `L8_ERR_TIMEOUT` after `ms`, or `L8_ERR_ABORTED` when `signal` aborts, whichever is first. */
function bounded<T>(work: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => done(() => reject(l8error('L8_ERR_ABORTED', 'request aborted by the caller')));
    const timer = setTimeout(
      () => done(() => reject(l8error('L8_ERR_TIMEOUT', `no reply from the local handler within ${ms} ms`))),
      ms,
    );
    const done = (settle: () => void): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => done(() => resolve(v)),
      (e: unknown) => done(() => reject(e)),
    );
  });
}
