import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { l8error, toL8Error } from '@layer8/protocol';
import { isLoopback } from '@layer8/security';
import type { Registry } from 'prom-client';

/** Default port of the metrics endpoint (the one OpenTelemetry's Prometheus exporter uses). */
export const DEFAULT_METRICS_PORT = 9464;

/** The path the registry is served at. */
export const METRICS_PATH = '/metrics';

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** Listen address. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default {@link DEFAULT_METRICS_PORT}. */
  readonly port?: number;
  /**
   * Allows a non-loopback `host`. The endpoint has neither authentication nor TLS and names the
   * overlay's services and nodes: expose it only where the network is trusted. Default false.
   */
  readonly allowRemote?: boolean;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address it is bound to (the port picked when 0 was asked). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port/metrics`. */
  readonly url: string;
  /** Stops listening and closes open connections (idempotent). */
  close(): Promise<void>;
}

/**
 * `HOST:PORT` (`[::1]:9464` for IPv6) as a listen address; the port may be 0.
 * @throws L8_ERR_INVALID_ARGUMENT when `text` is not of that form
 */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `not a HOST:PORT listen address: ${text}`);
  }
  return { host, port };
}

/**
 * Serves `registry` in the Prometheus text format at `GET /metrics` over plain HTTP (any other path is
 * 404, any other method 405). Every scrape reads the registry's collectors at that moment.
 * @throws L8_ERR_INSECURE for a non-loopback host without `allowRemote`; L8_ERR_CONNECT when the listen fails.
 */
export async function serveMetrics(registry: Registry, options: ServeMetricsOptions = {}): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && options.allowRemote !== true) {
    throw l8error(
      'L8_ERR_INSECURE',
      `the metrics endpoint has no authentication and no TLS: refusing the non-loopback address ${host} unless allowed (--metrics-remote)`,
    );
  }
  const server = createServer((req, res) => void answer(registry, req, res));
  const port = await listen(server, host, options.port ?? DEFAULT_METRICS_PORT);
  const shown = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${shown}:${port}${METRICS_PATH}`,
    close: () => {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(toL8Error(e, 'L8_ERR_CONNECT')));
    server.listen({ host, port }, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : port);
    });
  });
}

async function answer(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== METRICS_PATH) return plain(res, 404, `not found; metrics are at ${METRICS_PATH}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return plain(res, 405, 'method not allowed\n');
  }
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : text);
  } catch (err) {
    plain(res, 500, `metrics collection failed: ${toL8Error(err).message}\n`);
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
