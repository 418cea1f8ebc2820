/** Protocol constants of wire format v1 (docs/protocol.md). Values are on the wire: never renumber. */

/** The protocol version byte this implementation speaks. */
export const PROTOCOL_VERSION = 1;

/** Default maximum frame size in bytes (16 MiB), excluding the 4-byte length prefix. */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

/**
 * Smallest maximum frame a node may announce (256 KiB): overlay control messages (health records of at
 * most 64 KiB, sent in chunks of about 128 KiB) must always fit.
 */
export const MIN_MAX_FRAME = 256 * 1024;

/** Default hop count a frame starts with; each VNet-to-VNet forward takes one. */
export const DEFAULT_HOPS = 4;

/** What a frame is (header byte 1). */
export const Kind = {
  /** Expects a reply or fail with the same sequence. */
  REQUEST: 1,
  /** Completes a request. */
  REPLY: 2,
  /** Completes a request with an error. */
  FAIL: 3,
  /** One-way message, no reply expected. */
  NOTIFY: 4,
  /** Overlay event (health changes and the like), one-way. */
  EVENT: 5,
  /** Link control: handshake, heartbeat, route and service table sync. Never leaves the link. */
  CONTROL: 6,
  /** Intermediate reply: delivered to the requester, does not complete the request. */
  PROGRESS: 7,
} as const;
/** A value of {@link Kind}. */
export type Kind = (typeof Kind)[keyof typeof Kind];

/** How a frame picks its receivers (header byte 2). */
export const Mode = {
  /** The destination node id. */
  UNICAST: 0,
  /** Every subscriber of (service, area), once each. */
  MULTICAST: 1,
  /** One subscriber, rotating per (service, area). */
  ROUND_ROBIN: 2,
  /** One subscriber, same VNet first. */
  PROXIMITY: 3,
  /** One subscriber, same process first (in-process, no socket), then as proximity. */
  LOCAL: 4,
  /** The elected leader of (service, area). */
  LEADER: 5,
} as const;
/** A value of {@link Mode}. */
export type Mode = (typeof Mode)[keyof typeof Mode];

/** Priorities, 0 highest (header byte 3). */
export const Priority = { HIGHEST: 0, HIGH: 2, NORMAL: 4, LOW: 6, LOWEST: 7 } as const;
/** A priority: 0 (highest) to 7 (lowest). */
export type Priority = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Content type of the payload (header byte 64). */
export const ContentType = {
  /** No payload. */
  NONE: 0,
  /** Opaque bytes. */
  BINARY: 1,
  /** UTF-8 JSON. */
  JSON: 2,
  /** A protobuf message of a registered model type. */
  PROTOBUF: 3,
  /** A Layer8 control payload (JSON) on a CONTROL frame. */
  CONTROL: 4,
} as const;
/** A value of {@link ContentType}. */
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

/** What the service should do (header byte 65). 0 means none. */
export const Action = {
  NONE: 0,
  POST: 1,
  PUT: 2,
  PATCH: 3,
  DELETE: 4,
  GET: 5,
  NOTIFY: 7,
  HANDLE: 8,
  SYNC: 9,
  ELECTION: 10,
  MAP_REDUCE: 20,
} as const;
/** A value of {@link Action}. */
export type Action = (typeof Action)[keyof typeof Action];

/** Transaction state in the optional transaction block. */
export const TxState = {
  NONE: 0,
  PREPARE: 1,
  PREPARED: 2,
  COMMIT: 3,
  COMMITTED: 4,
  ABORT: 5,
  ABORTED: 6,
} as const;
/** A value of {@link TxState}. */
export type TxState = (typeof TxState)[keyof typeof TxState];

/** Header flag bits (header byte 5). */
export const Flag = {
  TRACE: 1,
  ERROR: 2,
  TX: 4,
  /** The error block's retryable flag is given by {@link Flag.RETRYABLE}, not by its code's default. */
  RETRY_SET: 8,
  /** With RETRY_SET: the error is retryable. */
  RETRYABLE: 16,
  /** An idempotency key block follows the transaction block (docs/protocol.md §4). */
  IDEMPOTENCY: 32,
} as const;

/** Fixed offsets of the v1 header (docs/protocol.md §3). */
export const Offset = {
  VERSION: 0,
  KIND: 1,
  MODE: 2,
  PRIORITY: 3,
  HOPS: 4,
  FLAGS: 5,
  AREA: 6,
  SEQUENCE: 8,
  DEADLINE: 12,
  SOURCE: 16,
  ORIGIN: 32,
  DESTINATION: 48,
  CONTENT_TYPE: 64,
  ACTION: 65,
  SERVICE_LEN: 66,
  SERVICE: 67,
} as const;

/** Size of the fixed part of the header; the smallest valid frame. */
export const FIXED_HEADER_SIZE = 67;

/** Largest service name in UTF-8 bytes. */
export const MAX_SERVICE_BYTES = 255;
