import type { LinkAddress } from '@layer8/link';
import type { L8Error, NodeId } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import type { Tracer } from '@opentelemetry/api';
import type { BreakerListener, BreakerOptions } from './breaker.ts';
import type { Bulkhead, ConcurrencyLimit } from './bulkhead.ts';
import type { HedgePolicy } from './hedge.ts';
import type { VNicLogger } from './lifecycle.ts';
import type { RequestObserver } from './request-observer.ts';
import type { RetryBudgetOptions, RetryPolicy } from './retry.ts';

/** Options of a {@link VNic}. */
export interface VNicOptions extends VNicResilienceOptions {
  /** The security provider; must match the VNet's. */
  readonly provider: SecurityProvider;
  /** The VNet to use: an address, `host:port` or a unix socket path. Default: discovery (DESIGN.md §1). */
  readonly vnet?: LinkAddress | string;
  /** Environment for discovery (`L8_VNET`, `NODE_IP`). Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default unix socket path looked for by discovery. Default: the VNet's default (docs/overlay.md). */
  readonly socketPath?: string;
  /** A stable node id; default a fresh one. Kept across reconnects either way. */
  readonly id?: NodeId;
  /** Human name. Default `vnic-<pid>`. */
  readonly alias?: string;
  /** Heartbeat deadline of the link, ms. Default 3000. */
  readonly heartbeatMs?: number;
  /** How often load statistics go to the VNet, ms. Default 10000. */
  readonly statsMs?: number;
  /**
   * Receive every node's load figures (`stats` of the health records: frames, bytes, CPU, memory),
   * refreshed every stats round. Default false: the health table then carries membership and status, and
   * the load figures of the VNet's own nodes as of when this VNic attached; a large overlay where nobody
   * looks at load pays nothing for it (docs/overlay.md, "Health at scale").
   */
  readonly healthStats?: boolean;
  /**
   * The same-host short cut (docs/overlay.md, "Same host"): requests to a VNic attached to the same VNet
   * over its unix socket go over a direct unix socket that the VNet introduces, crossing two process
   * wake-ups per round trip instead of four. Default on; `false` keeps every frame on the switched path;
   * `dir` is where the direct socket is made (default `<tmpdir>/l8-direct-<uid>`).
   */
  readonly direct?: boolean | { readonly dir?: string };
  /** Default request deadline, ms. Default 30000. */
  readonly timeoutMs?: number;
  /** Requests in flight before `request` refuses with `L8_ERR_BACKPRESSURE`. Default 100000. */
  readonly maxPending?: number;
  /** Largest frame accepted, bytes; at least 256 KiB (`MIN_MAX_FRAME`). Default 16 MiB. */
  readonly maxFrame?: number;
  /** Send queue limit, bytes. Default 8 MiB. */
  readonly maxQueuedBytes?: number;
  /** Reconnect back-off: first delay and cap, ms. Default 100 and 5000. */
  readonly reconnect?: { readonly firstMs?: number; readonly maxMs?: number };
  /** Deadline of link setup, ms. Default 5000. */
  readonly handshakeMs?: number;
  /**
   * Deadline of the first {@link VNic.connect}, ms: when no VNet answered by then, `connect()` rejects with
   * `L8_ERR_CONNECT` naming the last cause (refused, no socket file) and the VNic closes. Reconnects after
   * a first success keep retrying without a deadline. Default 10000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Where state changes go (a pino logger fits), with `node` and `alias` on every line; at `debug` (when
   * the logger has `isLevelEnabled`), also every request and handler that failed, with its `code` and the
   * `traceId` of its traceparent. Default: nowhere.
   */
  readonly logger?: VNicLogger;
  /**
   * Handlers of this VNic running at once (a handler counts until its promise settles; one that returns
   * a value at once does not count). Messages beyond wait in a FIFO queue. Default 256.
   */
  readonly maxHandlersInFlight?: number;
  /**
   * Messages waiting for a handler slot. A request beyond is answered `L8_ERR_BACKPRESSURE` at once, a
   * one-way message is dropped (counted in `drops.notifies`); a queued request whose deadline passes
   * before it starts is answered `L8_ERR_TIMEOUT` without running. Default 4096.
   */
  readonly maxQueuedRequests?: number;
  /** Bytes of the messages waiting for a handler slot, refused beyond as above. Default 16 MiB. */
  readonly maxQueuedRequestBytes?: number;
  /**
   * Load shedding by priority (docs/overlay.md, Resilience): requests of a priority below NORMAL (5-7) are
   * refused `L8_ERR_BACKPRESSURE` (counted in `drops.shed`) once the handler queue holds this share of
   * `maxQueuedRequests` (priority 5), two thirds of it (6) or a third (7); NORMAL and above may fill the
   * whole queue, and the queue serves the highest priority first. 1 turns shedding off. Default 0.5.
   */
  readonly lowPriorityQueueShare?: number;
  /**
   * Called once when the VNet refuses this node for a reason a retry cannot fix (`L8_ERR_CERT_REVOKED`,
   * `L8_ERR_CERT_EXPIRED`, `L8_ERR_AUTH`, `L8_ERR_FORBIDDEN`, `L8_ERR_LIMIT`), from the failed
   * handshake of the first connect or a `close` control message before a link closed. The VNic has then
   * stopped reconnecting and fails pending and later calls with `error` (also in `VNic.closedWith`). A
   * handshake refused on a reconnect is retried: what answers a redial has proven nothing yet.
   */
  readonly onFatal?: (error: L8Error) => void;
  /**
   * Called when the handler of a one-way message (NOTIFY, EVENT) throws or rejects: nobody waits for
   * its answer, so this (and `drops.oneWayFailures`) is where the failure shows. Default: a warning on
   * `logger` (nowhere without one). Faults of the callback itself are ignored.
   */
  readonly onHandlerError?: (error: L8Error, service: string, area: number) => void;
  /**
   * Told the outcome and duration of every request this VNic makes and every request its handlers serve
   * (`@layer8/metrics`'s `VNicMetrics` is one). Default none, and then requests and handlers run unwrapped.
   */
  readonly observer?: RequestObserver;
  /**
   * Traces every request this VNic makes (span `layer8.request`, kind CLIENT) and every request its
   * handlers serve (`layer8.handle`, kind SERVER), linked through the frame's traceparent, with the
   * attributes `layer8.service`, `layer8.action`, `layer8.area`, `layer8.node` (the peer) and, on failure,
   * `layer8.code` and status ERROR (docs/observability.md). Default: the tracer `layer8` of the
   * OpenTelemetry API's global provider, used only while an SDK is registered there (a process without
   * one runs its requests without spans or contexts; one that registers an SDK later is traced from then
   * on). A tracer given here is always used (a provider of one's own, not registered globally); `false`
   * turns tracing off even with a global SDK.
   */
  readonly tracer?: Tracer | false;
}

/**
 * The resilience options of a VNic: the caller side, and its handlers' concurrency limits (docs/overlay.md,
 * Resilience).
 */
export interface VNicResilienceOptions {
  /**
   * Circuit breakers per (service, area, node): after `failures` (5) consecutive failures that say the
   * node is unwell (timeout, unreachable, backpressure, unavailable, internal) the instance modes skip it
   * while another instance is admitted; after `coolDownMs` (5000) one probe goes, and its success closes
   * it. `false` turns them off. Default on.
   */
  readonly breaker?: BreakerOptions | false;
  /** Told about every breaker state change. Default none. */
  readonly onBreaker?: BreakerListener;
  /** The retry policy of requests that give none (`RequestOptions.retry`). Default none: no retries. */
  readonly retry?: RetryPolicy | false;
  /** Retries per service, at most `ratio` (0.1) × requests + `minPerSecond` (10) × `windowSeconds` (10). */
  readonly retryBudget?: RetryBudgetOptions;
  /**
   * Caller bulkheads by service name (every area): at most `max` requests of the service in flight from
   * this VNic, `queue` (default 0) more waiting in FIFO order within their deadline, the rest refused
   * `L8_ERR_BACKPRESSURE` at once (`RequestOptions.bulkhead` overrides per call). Default none.
   */
  readonly bulkheads?: Readonly<Record<string, Bulkhead>>;
  /** Hedge policies of GETs by service name (`RequestOptions.hedge` overrides per call). Default none. */
  readonly hedges?: Readonly<Record<string, HedgePolicy>>;
  /**
   * Responder concurrency limits by service name (every area), for its handlers in this VNic: a fixed
   * bulkhead or `{ adaptive: {…} }`; excess waits in the service's own queue of `queue` (default 0) or is
   * refused `L8_ERR_BACKPRESSURE` (counted in `drops.limited`). `subscribe(…, { concurrency })` overrides.
   * Default none (only `maxHandlersInFlight` bounds them).
   */
  readonly handlerConcurrency?: Readonly<Record<string, ConcurrencyLimit>>;
}

/** Resolves the leader of (service, area); filled by the election service. */
export type LeaderResolver = (service: string, area: number) => NodeId | undefined;

/**
 * Refusals that a reconnect cannot fix: the VNic stops and reports them (`VNicOptions.onFatal`).
 * `L8_ERR_IDENTITY` is not one: a node id pinned to another certificate is freed some time after that
 * record leaves the tables (and a peer VNet must not be able to lock a node out for good), so it is retried.
 */
export const FATAL_CODES: ReadonlySet<string> = new Set([
  'L8_ERR_CERT_REVOKED',
  'L8_ERR_CERT_EXPIRED',
  'L8_ERR_AUTH',
  'L8_ERR_FORBIDDEN',
  'L8_ERR_LIMIT',
]);
