import { ERROR_CODES, type ErrorCode, isErrorCode } from './error-codes.ts';

/** The wire form of an error (docs/protocol.md §5): what crosses a link inside a fail frame. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  /** Optional structured detail, JSON-serialisable. */
  readonly data?: unknown;
  /** Present only when the thrower overrode the code's default retryable flag. */
  readonly retryable?: boolean;
}

/** Options of {@link L8Error}. */
export interface L8ErrorOptions {
  readonly cause?: unknown;
  readonly data?: unknown;
  /** Overrides the code's default retryable flag. */
  readonly retryable?: boolean;
}

/**
 * Brand of every Layer8 error, shared by every installed copy of `@layer8/protocol` (`Symbol.for`): its
 * value is the name of the error's class, so `instanceof` works across copies (as undici does).
 */
const BRAND = Symbol.for('layer8.error.class');

/** Whether `value` is of `cls` by prototype, or carries the brand of `cls` (or of any class, for the root). */
function isInstance(cls: { readonly name: string }, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true;
  const brand = (value as { [BRAND]?: unknown } | null | undefined)?.[BRAND];
  if (typeof brand !== 'string') return false;
  return cls.name === 'L8Error' || brand === cls.name;
}

/**
 * The root of every error Layer8 throws. `code` is stable (see docs/errors.md); `retryable` says whether
 * the same call may succeed later; `data` carries structured detail and crosses the wire.
 */
export class L8Error extends Error {
  /** Stable code, one of {@link ERROR_CODES}. */
  readonly code: ErrorCode;
  /** Whether a retry of the same operation may succeed. */
  readonly retryable: boolean;
  /** Structured detail, JSON-serialisable. */
  readonly data: unknown;

  constructor(code: ErrorCode, message: string, options: L8ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.data = options.data;
    Object.defineProperty(this, BRAND, { value: new.target.name });
  }

  /**
   * True for an error of this class made by any installed copy of `@layer8/protocol`: the root matches
   * every Layer8 error, a family class (`TimeoutError`, …) the errors of its name.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the class being checked (a subclass inherits this method)
    return isInstance(this, value);
  }

  /** The wire form of this error; `retryable` only when it differs from the code's default. */
  toWire(): WireError {
    const base: { code: string; message: string; data?: unknown; retryable?: boolean } = {
      code: this.code,
      message: this.message,
    };
    if (this.data !== undefined) base.data = this.data;
    if (this.retryable !== ERROR_CODES[this.code].retryable) base.retryable = this.retryable;
    return base;
  }
}

/** Framing, layout and version errors: the peer broke the protocol. */
export class ProtocolError extends L8Error {}
/** Membership proof, certificates, tokens and authorization. */
export class SecurityError extends L8Error {}
/** Sockets that could not open, were closed, or objects used after close. */
export class ConnectionError extends L8Error {}
/** Routing outcomes: unreachable node, no service, no leader, exhausted hop count. */
export class RoutingError extends L8Error {}
/** Deadlines and caller aborts. */
export class TimeoutError extends L8Error {}
/** A remote handler failed. */
export class HandlerError extends L8Error {}
/** A bounded queue is full. */
export class BackpressureError extends L8Error {}
/** Models, payloads, paths, deltas and queries. */
export class ModelError extends L8Error {}

/** Service outcomes: missing entities, key conflicts, what a service does not offer, recovery. */
export class ServiceError extends L8Error {}

/** A store (SQLite, PostgreSQL) failed. */
export class StorageError extends L8Error {}

type ErrorClass = new (code: ErrorCode, message: string, options?: L8ErrorOptions) => L8Error;

const CLASS_OF: Readonly<Record<ErrorCode, ErrorClass>> = {
  L8_ERR_INTERNAL: L8Error,
  L8_ERR_INVALID_ARGUMENT: L8Error,
  L8_ERR_FRAME_TOO_LARGE: ProtocolError,
  L8_ERR_MALFORMED_FRAME: ProtocolError,
  L8_ERR_VERSION: ProtocolError,
  L8_ERR_HANDSHAKE: ProtocolError,
  L8_ERR_AUTH: SecurityError,
  L8_ERR_CERT_EXPIRED: SecurityError,
  L8_ERR_CERT_REVOKED: SecurityError,
  L8_ERR_FORBIDDEN: SecurityError,
  L8_ERR_TOKEN_EXPIRED: SecurityError,
  L8_ERR_TOTP_REQUIRED: SecurityError,
  L8_ERR_INSECURE: SecurityError,
  L8_ERR_IDENTITY: SecurityError,
  L8_ERR_LIMIT: SecurityError,
  L8_ERR_CONNECT: ConnectionError,
  L8_ERR_CLOSED: ConnectionError,
  L8_ERR_UNREACHABLE: RoutingError,
  L8_ERR_NO_SERVICE: RoutingError,
  L8_ERR_NO_LEADER: RoutingError,
  L8_ERR_TTL: RoutingError,
  L8_ERR_TIMEOUT: TimeoutError,
  L8_ERR_ABORTED: TimeoutError,
  L8_ERR_HANDLER: HandlerError,
  L8_ERR_BACKPRESSURE: BackpressureError,
  L8_ERR_UNKNOWN_TYPE: ModelError,
  L8_ERR_DECODE: ModelError,
  L8_ERR_PATH: ModelError,
  L8_ERR_VERSION_GAP: ModelError,
  L8_ERR_QUERY: ModelError,
  L8_ERR_NOT_FOUND: ServiceError,
  L8_ERR_CONFLICT: ServiceError,
  L8_ERR_UNSUPPORTED: ServiceError,
  L8_ERR_UNAVAILABLE: ServiceError,
  L8_ERR_STORAGE: StorageError,
};

/**
 * Makes the error of the right class for `code`: `l8error('L8_ERR_TIMEOUT', …)` is a {@link TimeoutError}.
 */
export function l8error(code: ErrorCode, message: string, options?: L8ErrorOptions): L8Error {
  return new CLASS_OF[code](code, message, options);
}

/** The class Layer8 uses for `code`. */
export function errorClassOf(code: ErrorCode): ErrorClass {
  return CLASS_OF[code];
}

/**
 * Rebuilds an error received on the wire as the same class on this side. An unknown code (a newer
 * peer) becomes `L8_ERR_HANDLER` with the original code kept in `data.remoteCode`.
 */
export function fromWire(wire: WireError): L8Error {
  const retryable = typeof wire.retryable === 'boolean' ? { retryable: wire.retryable } : {};
  if (isErrorCode(wire.code)) {
    return l8error(wire.code, wire.message, wire.data === undefined ? retryable : { data: wire.data, ...retryable });
  }
  return l8error('L8_ERR_HANDLER', wire.message, {
    data: { remoteCode: wire.code, detail: wire.data },
    ...retryable,
  });
}

/** Turns anything thrown into an {@link L8Error}; a plain error becomes `L8_ERR_HANDLER`. */
export function toL8Error(err: unknown, fallback: ErrorCode = 'L8_ERR_HANDLER'): L8Error {
  if (err instanceof L8Error) return err;
  const message = err instanceof Error ? err.message : String(err);
  return l8error(fallback, message, { cause: err });
}
