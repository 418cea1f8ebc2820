import type { FastifyServerOptions } from 'fastify';

/**
 * How long the gateway's HTTP server waits for a client (docs/gateway.md, "Timeouts"). A client that
 * sends its headers or its body too slowly (a slow-loris) is answered 408 and its connection closed;
 * these bound only the receiving of a request, never the time the overlay takes to answer it.
 */
export interface HttpTimeouts {
  /** The whole header block must arrive within this, ms. Default 10000. */
  readonly headersMs: number;
  /** The whole request, headers and body, must arrive within this, ms (≥ headersMs). Default 30000. */
  readonly requestMs: number;
  /** An idle keep-alive connection is closed after this, ms. Default 72000 (Fastify's). */
  readonly keepAliveMs: number;
  /** A connection on which nothing moves for this long is closed, ms; 0: never. Default 120000. */
  readonly idleMs: number;
  /** How often connections are checked against `headersMs` and `requestMs`, ms. Default 1000. */
  readonly checkEveryMs: number;
}

/** Defaults of {@link HttpTimeouts}. */
export const HTTP_TIMEOUTS: HttpTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 72_000,
  idleMs: 120_000,
  checkEveryMs: 1000,
};

/** The Fastify (and Node HTTP server) options that enforce `t` over the defaults. */
export function serverTimeouts(t: Partial<HttpTimeouts> = {}): FastifyServerOptions {
  const o = { ...HTTP_TIMEOUTS, ...t };
  return {
    connectionTimeout: o.idleMs,
    keepAliveTimeout: o.keepAliveMs,
    requestTimeout: o.requestMs,
    http: { headersTimeout: o.headersMs, requestTimeout: o.requestMs, connectionsCheckingInterval: o.checkEveryMs },
  } as FastifyServerOptions;
}
