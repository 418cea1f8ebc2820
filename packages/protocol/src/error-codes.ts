/**
 * The one table of Layer8 error codes (docs/errors.md lists the same rows; a test keeps them in sync).
 * Codes are stable: never renumber or rename one, only add.
 */
export const ERROR_CODES = {
  L8_ERR_INTERNAL: { retryable: false, summary: 'An invariant broke inside Layer8; a bug to report.' },
  L8_ERR_INVALID_ARGUMENT: { retryable: false, summary: 'A caller passed a value outside the documented range.' },
  L8_ERR_FRAME_TOO_LARGE: {
    retryable: false,
    summary: 'A frame is longer than the negotiated maximum; the link is closed before the body is read.',
  },
  L8_ERR_MALFORMED_FRAME: {
    retryable: false,
    summary: 'A frame does not follow the v1 layout (truncated field, bad length, bad enum value).',
  },
  L8_ERR_VERSION: { retryable: false, summary: 'The peer speaks another protocol version.' },
  L8_ERR_HANDSHAKE: {
    retryable: true,
    summary: 'The link handshake did not complete (peer closed, timed out, or sent something else).',
  },
  L8_ERR_AUTH: {
    retryable: false,
    summary: 'The peer failed the membership proof: wrong CA, no certificate, wrong passphrase, bad token.',
  },
  L8_ERR_CERT_EXPIRED: { retryable: false, summary: 'A certificate is outside its validity period.' },
  L8_ERR_CERT_REVOKED: { retryable: false, summary: 'A certificate is on the overlay revocation list.' },
  L8_ERR_FORBIDDEN: { retryable: false, summary: 'The identity is not allowed to do this action on this service.' },
  L8_ERR_TOKEN_EXPIRED: { retryable: false, summary: 'A user token is past its expiry time.' },
  L8_ERR_TOTP_REQUIRED: {
    retryable: false,
    summary: 'The password was right but the user has two-factor authentication on: send a one-time code.',
  },
  L8_ERR_INSECURE: {
    retryable: false,
    summary:
      'An insecure setup was refused: the dev provider on a non-loopback address without force, or a socket or directory others can write.',
  },
  L8_ERR_IDENTITY: {
    retryable: false,
    summary: 'A link claimed a node id or role that its certificate does not prove (or that another name holds).',
  },
  L8_ERR_LIMIT: {
    retryable: false,
    summary: 'A per-identity bound was exceeded (links per certificate, subscriptions or record size per node).',
  },
  L8_ERR_CONNECT: { retryable: true, summary: 'A socket could not be opened or was closed while in use.' },
  L8_ERR_CLOSED: { retryable: false, summary: 'The object was closed; no more calls are accepted.' },
  L8_ERR_UNREACHABLE: { retryable: true, summary: 'The destination node is unknown, unreachable or was removed.' },
  L8_ERR_NO_SERVICE: { retryable: true, summary: 'No instance of the (service, area) is registered in the overlay.' },
  L8_ERR_NO_LEADER: { retryable: true, summary: 'The (service, area) has no elected leader at the moment.' },
  L8_ERR_TIMEOUT: { retryable: true, summary: 'The deadline passed before a reply arrived.' },
  L8_ERR_ABORTED: { retryable: false, summary: 'The caller aborted the request through its AbortSignal.' },
  L8_ERR_HANDLER: { retryable: false, summary: 'The remote handler threw or rejected; message and data are its own.' },
  L8_ERR_BACKPRESSURE: {
    retryable: true,
    summary: 'A bounded queue is full (link send queue or pending requests); try again later.',
  },
  L8_ERR_TTL: { retryable: false, summary: 'The hop count of a frame was exhausted.' },
  L8_ERR_UNKNOWN_TYPE: { retryable: false, summary: 'A model type name is not in the type registry.' },
  L8_ERR_DECODE: { retryable: false, summary: 'A payload does not decode as its declared content type or model.' },
  L8_ERR_PATH: { retryable: false, summary: 'A property path is malformed or does not exist in the model.' },
  L8_ERR_VERSION_GAP: {
    retryable: true,
    summary: 'A change set does not apply on top of the entity version held; a resync is needed.',
  },
  L8_ERR_QUERY: { retryable: false, summary: 'An L8QL query has a syntax or semantic error (with a column).' },
  L8_ERR_NOT_FOUND: { retryable: false, summary: 'No entity has the key (or unique key) the request names.' },
  L8_ERR_CONFLICT: {
    retryable: false,
    summary: 'A write collides with another entity on a unique key, or a veto of a before callback.',
  },
  L8_ERR_UNSUPPORTED: {
    retryable: false,
    summary: 'The service does not offer this: an action it has no handler for, or a contract not available yet.',
  },
  L8_ERR_UNAVAILABLE: {
    retryable: true,
    summary: 'The instance cannot serve yet (recovering its state) or is going away; another may.',
  },
  L8_ERR_STORAGE: {
    retryable: true,
    summary: 'The store failed (disk full, read-only file, database unreachable); nothing was acknowledged.',
  },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

/** A stable Layer8 error code such as `L8_ERR_TIMEOUT`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of the codes of {@link ERROR_CODES}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
