import type { InstanceState } from '@layer8/link';
import { type Action, l8error, type NodeId, type Priority } from '@layer8/protocol';
import type { Bulkhead, ConcurrencyLimit } from './bulkhead.ts';
import type { HedgePolicy } from './hedge.ts';
import type { Incoming, PayloadEncoder } from './payload.ts';
import type { RetryPolicy } from './retry.ts';

/** Single-instance modes a request or one-way send can use to pick the receiver. */
export type InstanceMode = 'round-robin' | 'proximity' | 'local' | 'leader';

/**
 * Where a message goes, one shape for `subscribe`, `send`, `multicast` and `request`: a (service, area)
 * and, for a message to one receiver, either a `node` or a `mode` that picks one instance (default
 * `round-robin`). `subscribe` and `multicast` use only `service` and `area`.
 */
export interface Target {
  readonly service: string;
  /** Default 0. */
  readonly area?: number;
  /** One node: the message goes to its handler of (service, area). */
  readonly node?: NodeId;
  /** How one instance is picked when `node` is not given. Default `round-robin`. */
  readonly mode?: InstanceMode;
}

/** Options of every send (`send`, `multicast`, `request`). */
export interface SendOptions {
  /** Action code (POST, GET, …). Default HANDLE. */
  readonly action?: Action;
  /** Priority, 0 highest to 7. Default 4. */
  readonly priority?: Priority;
  /** The identity (user or AAA token) the receiver sees and authorizes. */
  readonly identity?: string;
  /** W3C traceparent to carry. Inside a handler, its context's sends carry a child of the handler's. */
  readonly traceparent?: string;
  /**
   * Idempotency key of a write (1-255 UTF-8 bytes): a stateful service applies a keyed write once within
   * its window and answers a retry with the first result (docs/services.md).
   */
  readonly idempotencyKey?: string;
  /** Encodes the payload as protobuf with this codec (a model codec); the receiver uses `decode(codec)`. */
  readonly codec?: PayloadEncoder;
  /**
   * Deadline, ms: a request fails with `L8_ERR_TIMEOUT` after it, a receiver's handler context aborts at
   * it, and a one-way message still queued for a handler past it is dropped. Default: the VNic's
   * `timeoutMs` for requests, none for one-way sends.
   */
  readonly timeoutMs?: number;
}

/** Options of a request. */
export interface RequestOptions extends SendOptions {
  /** Cancels the request (`L8_ERR_ABORTED`). */
  readonly signal?: AbortSignal;
  /** Receives intermediate replies. */
  readonly onProgress?: (progress: Incoming) => void;
  /**
   * Retries of this request (docs/overlay.md, Resilience): back-off with full jitter, within the deadline
   * and the service's retry budget, only when idempotent (GET, PUT, DELETE, an idempotency key) or when
   * the error says the handler did not run. `false` turns off the VNic's default. Default: `VNicOptions.retry`.
   */
  readonly retry?: RetryPolicy | false;
  /**
   * The bulkhead of this call's service at this caller (docs/overlay.md, Resilience): the call goes only
   * while fewer than `max` requests of the service that have a bulkhead are in flight from this VNic, else
   * waits in a FIFO of `queue` (default 0) within its deadline, else fails `L8_ERR_BACKPRESSURE` at once.
   * `false` turns off the VNic's. Default: `VNicOptions.bulkheads[service]`, else none.
   */
  readonly bulkhead?: Bulkhead | false;
  /**
   * Hedging of a GET (any other action is never hedged): when no reply came after the policy's delay, a
   * copy goes to another instance, within the service's retry budget; the first reply wins and the other
   * copy is abandoned. `false` turns off the VNic's. Default: `VNicOptions.hedges[service]`, else none.
   */
  readonly hedge?: HedgePolicy | false;
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** What the instance says in health (`recovering` until it can serve). Default `serving`. */
  readonly state?: InstanceState;
  /**
   * The concurrency limit of this handler (docs/overlay.md, Resilience): a fixed bulkhead (`8`,
   * `{ max: 8, queue: 100 }`) or `{ adaptive: { … } }` on measured handler latency; messages beyond wait
   * in this service's own queue of `queue` (default 0), else a request is refused `L8_ERR_BACKPRESSURE`
   * (`drops.limited`). Default: `VNicOptions.handlerConcurrency[service]`, else none.
   */
  readonly concurrency?: ConcurrencyLimit;
}

/** The service name of a target, checked (no allocation: requests call it). @throws L8_ERR_INVALID_ARGUMENT */
export function checkedService(target: Target): string {
  const service = target?.service;
  if (typeof service !== 'string' || service.length === 0) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'a target needs a service name');
  }
  return service;
}

/** The (service, area) of a target, checked. @throws L8_ERR_INVALID_ARGUMENT */
export function serviceOf(target: Target): { service: string; area: number } {
  return { service: checkedService(target), area: target.area ?? 0 };
}
