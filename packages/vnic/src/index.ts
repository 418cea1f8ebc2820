/** @layer8/vnic: the client library (docs/architecture.md, docs/overlay.md). */

export type { AdaptiveLimitOptions } from './adaptive-limit.ts';
export type { BreakerListener, BreakerOptions, BreakerState } from './breaker.ts';
export type { Bulkhead, BulkheadOptions, ConcurrencyLimit } from './bulkhead.ts';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './connection.ts';
export { childTraceparent, type HandlerContext } from './context.ts';
export { discoverVNet, parseAddress, VNET_PORT, VNET_SOCKET } from './discovery.ts';
export type { DispatchLimits, Handler, HandlerLimitState, Subscription, VNicDrops } from './dispatch.ts';
export { DEFAULT_HEDGE_DELAY_MS, type HedgePolicy } from './hedge.ts';
export type { VNicLogger, VNicState, VNicStatus } from './lifecycle.ts';
export { Encoded, Incoming, type Payload, type PayloadCodec, type PayloadEncoder, typed } from './payload.ts';
export { OK_CODE, type RequestObserver } from './request-observer.ts';
export type { RetryBudgetOptions, RetryPolicy } from './retry.ts';
export type { InstanceMode, RequestOptions, SendOptions, SubscribeOptions, Target } from './target.ts';
export { HANDLE_SPAN, REQUEST_SPAN, traceIdOf } from './tracing.ts';
export { TurnBudget } from './turn-budget.ts';
export { VNic } from './vnic.ts';
export type { LeaderResolver, VNicOptions, VNicResilienceOptions } from './vnic-options.ts';
