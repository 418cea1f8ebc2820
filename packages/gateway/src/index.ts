/** @layer8/gateway: REST and OpenAPI 3.1 for the web-exposed services of an overlay (docs/gateway.md). */

export { AuthApi, type AuthOptions, SESSION_PATH, type SessionState } from './auth/auth-api.ts';
export {
  ACCESS_COOKIE,
  AUTH_PATH,
  CSRF_COOKIE,
  CSRF_HEADER,
  csrfOf,
  REFRESH_COOKIE,
} from './auth/auth-cookies.ts';
export { LoginLimiter, type LoginLimits } from './auth/login-limiter.ts';
export { REFRESH_FILE, RefreshStore } from './auth/refresh-store.ts';
export { TOTP_FILE, TotpStore } from './auth/totp-store.ts';
export { DASHBOARD_PATH } from './dashboard-page.ts';
export { checkAnswer, checkDescriptor, DESCRIPTOR_LIMITS, fingerprint, modelKey } from './descriptor-check.ts';
export { Directory, type DirectoryCounters, type DirectoryOptions, type GatewayLogger } from './directory.ts';
export { DOCS_PATH, OPENAPI_PATH } from './docs-page.ts';
export { Gateway, type GatewayAddress, type GatewayCounters, type GatewayOptions } from './gateway.ts';
export { type GatewayMetricsOptions, HTTP_BUCKETS, UNMATCHED_ROUTE } from './gateway-metrics.ts';
export { type ErrorBody, HTTP_STATUS, RETRY_AFTER_SECONDS, statusOf } from './http-errors.ts';
export { HTTP_TIMEOUTS, type HttpTimeouts, serverTimeouts } from './http-timeouts.ts';
export { enumSchema, type JsonSchema, SchemaBuilder } from './json-schema.ts';
export { collectionPath, type OpenApiDocument, type OpenApiInfo, openApiOf } from './openapi.ts';
export { MAX_QUERY_CHARS, type PagedQuery, pagedQuery, type QueryParams } from './query.ts';
export { CORRELATION_HEADER, TIMEOUT_HEADER, TRACEPARENT_HEADER } from './request-context.ts';
export { buildModel, type Route, type RouteModel, routeKey, winner } from './route.ts';
export {
  MAX_EVENTS,
  type NodeView,
  type ServiceView,
  type SystemEvent,
  SystemFeed,
  type SystemView,
} from './system-feed.ts';
export type { DashboardView, GatewayFigures } from './ws-protocol.ts';
export {
  WS_BEARER_PREFIX,
  WS_DEFAULTS,
  WS_PATH,
  WS_PROTOCOL,
  WsClose,
  type WsCounters,
  type WsLimits,
} from './ws-protocol.ts';
export { type WsOptions, WsPush } from './ws-push.ts';
export type { SystemTopicOptions } from './ws-system.ts';
