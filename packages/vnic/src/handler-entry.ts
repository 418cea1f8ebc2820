import type { InstanceState } from '@layer8/link';
import { Offset } from '@layer8/protocol';
import type { ConcurrencyLimiter } from './adaptive-limit.ts';
import { type ConcurrencyLimit, serviceLimitOf } from './bulkhead.ts';
import type { HandlerContext } from './context.ts';
import type { Incoming, Payload } from './payload.ts';
import { PriorityQueue } from './shedding.ts';

/**
 * A service handler: returns the reply payload (or throws an error that becomes the caller's). `ctx`
 * says what the message is (action, identity, trace, deadline) without a full decode.
 */
export type Handler = (message: Incoming, ctx: HandlerContext) => Payload | Promise<Payload>;

/** A handler registered with the dispatcher for one (service, area), with its concurrency limit. */
export interface Entry {
  readonly service: string;
  readonly area: number;
  /** The service name's UTF-8 bytes, compared with a frame's without building a string. */
  readonly bytes: Buffer;
  readonly handler: Handler;
  state: InstanceState | undefined;
  /** The service's concurrency limit (bulkhead.ts), undefined for none. */
  readonly limiter: ConcurrencyLimiter | undefined;
  /** Messages that may wait in `waiting` for the limiter. */
  readonly queueMax: number;
  /** Messages waiting for the limiter, by priority; undefined when `queueMax` is 0. */
  readonly waiting: PriorityQueue | undefined;
}

/** What one service's concurrency limit shows (`VNic.handlerLimit`). */
export interface HandlerLimitState {
  /** Handlers that may run at once now (an adaptive limit moves). */
  readonly limit: number;
  readonly running: number;
  /** Messages waiting in the service's own queue. */
  readonly waiting: number;
}

/**
 * A new entry; with a `limit`, its limiter and (for a `queue` above 0) its own priority queue, whose
 * passed deadlines go to `onExpired`. @throws L8_ERR_INVALID_ARGUMENT for a bad `limit`
 */
export function entryOf(
  service: string,
  area: number,
  handler: Handler,
  state: InstanceState | undefined,
  limit: ConcurrencyLimit | undefined,
  onExpired: (frame: Buffer) => void,
): Entry {
  const bytes = Buffer.from(service, 'utf8');
  if (limit === undefined) {
    return { service, area, handler, bytes, state, limiter: undefined, queueMax: 0, waiting: undefined };
  }
  const { limiter, queue } = serviceLimitOf(limit);
  const waiting = queue > 0 ? new PriorityQueue(onExpired) : undefined;
  return { service, area, handler, bytes, state, limiter, queueMax: queue, waiting };
}

/** The state of an entry's limit; undefined without an entry or a limit. */
export function limitStateOf(e: Entry | undefined): HandlerLimitState | undefined {
  const l = e?.limiter;
  return l === undefined ? undefined : { limit: l.limit, running: l.running, waiting: e?.waiting?.size ?? 0 };
}

/** The entry whose service name equals the frame's (compared byte by byte). */
export function match(entries: readonly Entry[] | undefined, frame: Buffer): Entry | undefined {
  if (entries === undefined) return undefined;
  const len = frame[Offset.SERVICE_LEN] as number;
  outer: for (const e of entries) {
    if (e.bytes.length !== len) continue;
    for (let i = 0; i < len; i++) if (e.bytes[i] !== frame[Offset.SERVICE + i]) continue outer;
    return e;
  }
  return undefined;
}
