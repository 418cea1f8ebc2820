import type { Duplex } from 'node:stream';
import { ERROR_CODES, type ErrorCode, isErrorCode, L8Error, l8error } from '@layer8/protocol';

/** The JSON body of every error answer (docs/gateway.md, "Errors"). */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * HTTP status per Layer8 code (docs/gateway.md has the same table). A code not listed answers 503 when
 * it is retryable (the same request may succeed later) and 500 otherwise.
 */
export const HTTP_STATUS: Readonly<Partial<Record<ErrorCode, number>>> = {
  L8_ERR_INVALID_ARGUMENT: 400,
  L8_ERR_QUERY: 400,
  L8_ERR_DECODE: 400,
  L8_ERR_PATH: 400,
  L8_ERR_LIMIT: 400,
  L8_ERR_AUTH: 401,
  L8_ERR_TOKEN_EXPIRED: 401,
  L8_ERR_TOTP_REQUIRED: 401,
  L8_ERR_FORBIDDEN: 403,
  L8_ERR_NOT_FOUND: 404,
  L8_ERR_CONFLICT: 409,
  L8_ERR_UNSUPPORTED: 501,
  L8_ERR_HANDLER: 500,
  L8_ERR_INTERNAL: 500,
  L8_ERR_NO_SERVICE: 503,
  L8_ERR_UNAVAILABLE: 503,
  L8_ERR_UNREACHABLE: 503,
  L8_ERR_BACKPRESSURE: 503,
  L8_ERR_TIMEOUT: 504,
};

/** Seconds a client should wait before retrying a 503 (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 1;

/** The HTTP status of a code (see {@link HTTP_STATUS}). */
export function statusOf(code: ErrorCode): number {
  return HTTP_STATUS[code] ?? (ERROR_CODES[code].retryable ? 503 : 500);
}

/**
 * An error the gateway answers itself, with a status that differs from the table's for its code: an
 * unknown route (404 `L8_ERR_NO_SERVICE`), an action the service does not expose (405
 * `L8_ERR_UNSUPPORTED`), a body over the limit (413 `L8_ERR_LIMIT`), an unsupported media type (415).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly error: L8Error;
  /** Extra response headers (`Allow` of a 405). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, error: L8Error, headers: Record<string, string> = {}) {
    super(error.message);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

/** What an answer to a failure is made of: status, headers and body. */
export interface ErrorAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: ErrorBody;
}

/** A Fastify error: its status and code (`FST_ERR_CTP_BODY_TOO_LARGE`, …). */
interface FrameworkError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

/**
 * The answer to anything thrown while serving a request: an {@link HttpError} as it says, an `L8Error`
 * by the table, a client error of the framework (bad JSON, body too large, wrong media type) as 4xx with
 * a Layer8 code, and anything else as 500 `L8_ERR_INTERNAL` without its message (it is logged instead).
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) return answer(err.status, err.error, err.headers);
  if (err instanceof L8Error) return answer(statusOf(err.code), hidden(err));
  const fw = err as FrameworkError | null;
  const status = fw?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return answer(status, frameworkError(fw, status));
  return answer(500, l8error('L8_ERR_INTERNAL', 'the gateway failed to serve this request (logged)'));
}

/**
 * What a client sees of an error: its own message, except for a failure inside a service or the gateway
 * (`L8_ERR_HANDLER`, `L8_ERR_INTERNAL`), whose message may carry internals; the gateway logs those.
 */
function hidden(err: L8Error): L8Error {
  if (err.code !== 'L8_ERR_HANDLER' && err.code !== 'L8_ERR_INTERNAL') return err;
  return l8error(err.code, 'the service failed to handle this request (the gateway logged why)');
}

function frameworkError(fw: FrameworkError | null, status: number): L8Error {
  const code: ErrorCode = status === 413 ? 'L8_ERR_LIMIT' : 'L8_ERR_INVALID_ARGUMENT';
  return l8error(code, fw?.message || `request refused (${fw?.code ?? status})`);
}

function answer(status: number, error: L8Error, extra: Readonly<Record<string, string>> = {}): ErrorAnswer {
  const headers: Record<string, string> = { ...extra };
  if (status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  const code = isErrorCode(error.code) ? error.code : 'L8_ERR_INTERNAL';
  return { status, headers, body: { code, message: error.message } };
}

/**
 * Answers a request the HTTP parser refused (malformed, headers too large, too slow) with the gateway's
 * error body, then closes the connection: nothing reached a route, so nothing else can be said.
 */
export function answerClientError(err: { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request did not arrive in time']
        : [400, 'Bad Request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ code: status === 431 ? 'L8_ERR_LIMIT' : 'L8_ERR_INVALID_ARGUMENT', message });
  const head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  if (socket.writable) socket.write(head + body);
  socket.destroy();
}
