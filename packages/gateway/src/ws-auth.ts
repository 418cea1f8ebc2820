import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { l8error } from '@layer8/protocol';
import { HttpError } from './http-errors.ts';
import { identityOf } from './request-context.ts';
import { WS_BEARER_PREFIX, WS_PATH } from './ws-protocol.ts';

/** What an upgrade to `/ws` is checked against. */
export interface UpgradePolicy {
  /**
   * Origins allowed (`scheme://host[:port]`, exact, case-insensitive); `*` allows any. A request without
   * `Origin` (not a browser: browsers always send it on a WebSocket) is allowed.
   */
  readonly origins: readonly string[];
  /** The cookie that may carry the access token; undefined: cookies are not read. */
  readonly accessCookie: string | undefined;
}

const MAX_TOKEN = 8192;
const TOKEN = /^[A-Za-z0-9._~+/=-]+$/;

/**
 * Checks an upgrade request and returns the identity it carries ('' without one), in this order: the
 * path is `/ws` with no query string (so a token in the URL is refused, never read), the origin is
 * allowed, and the token comes from `Authorization: Bearer`, else a `l8.bearer.<token>` subprotocol,
 * else the access cookie.
 * @throws HttpError 404 (another path), 400 L8_ERR_INVALID_ARGUMENT (a query string), 403 L8_ERR_FORBIDDEN
 *   (origin), 401 L8_ERR_AUTH (a malformed or oversized token)
 */
export function checkUpgrade(req: IncomingMessage, policy: UpgradePolicy): string {
  const [path, query] = splitUrl(req.url ?? '');
  if (path !== WS_PATH) throw new HttpError(404, l8error('L8_ERR_NOT_FOUND', `no WebSocket endpoint at ${path}`));
  if (query !== undefined) {
    const err = l8error('L8_ERR_INVALID_ARGUMENT', `${WS_PATH} takes no query string: send the token in a header`);
    throw new HttpError(400, err);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, policy.origins)) {
    throw new HttpError(403, l8error('L8_ERR_FORBIDDEN', `origin ${JSON.stringify(origin)} is not allowed`));
  }
  return tokenOf(req, policy.accessCookie);
}

/** Whether `origin` is in the allow-list (`*` allows any). */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  const o = origin.toLowerCase();
  return allowed.some((a) => a === '*' || a.toLowerCase() === o);
}

/** The origin of a URL (`http://127.0.0.1:8080`), the default allow-list of a gateway. */
export function originOf(url: string): string {
  return new URL(url).origin;
}

/** The subprotocol that carries a token, among those offered; undefined when none does. */
export function bearerProtocol(offered: Iterable<string>): string | undefined {
  for (const p of offered) if (p.startsWith(WS_BEARER_PREFIX)) return p;
  return undefined;
}

function tokenOf(req: IncomingMessage, cookie: string | undefined): string {
  const header = identityOf(req.headers);
  if (header !== '') return header;
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const proto = bearerProtocol(offered);
  if (proto !== undefined) return checked(proto.slice(WS_BEARER_PREFIX.length));
  const fromCookie = cookie === undefined ? undefined : cookieValue(req.headers.cookie, cookie);
  return fromCookie === undefined ? '' : checked(fromCookie);
}

function checked(token: string): string {
  if (token.length > 0 && token.length <= MAX_TOKEN && TOKEN.test(token)) return token;
  throw new HttpError(401, l8error('L8_ERR_AUTH', 'the token is malformed'));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function splitUrl(url: string): [string, string | undefined] {
  const q = url.indexOf('?');
  return q < 0 ? [url, undefined] : [url.slice(0, q), url.slice(q + 1)];
}

/** Answers a refused upgrade with the gateway's error body and closes the socket. */
export function refuseUpgrade(socket: Duplex, err: HttpError): void {
  const body = JSON.stringify({ code: err.error.code, message: err.error.message });
  const extra = err.status === 401 ? 'WWW-Authenticate: Bearer\r\n' : err.status === 503 ? 'Retry-After: 1\r\n' : '';
  const head =
    `HTTP/1.1 ${err.status} ${REASON[err.status] ?? 'Error'}\r\nContent-Type: application/json\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  if (socket.writable) socket.end(head + body, () => socket.destroy());
  else socket.destroy();
}

const REASON: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};
