import { id16, u16, u32 } from './bytes.ts';
import {
  type Action,
  type ContentType,
  FIXED_HEADER_SIZE,
  Flag,
  type Kind,
  type Mode,
  Offset,
  PROTOCOL_VERSION,
} from './constants.ts';
import { l8error } from './errors.ts';

/**
 * A data frame with its ids and service name already in bytes: the sender's hot path
 * (DESIGN.md §3) keeps those per node and per service instead of parsing strings per frame.
 */
export interface DataInit {
  readonly kind: Kind;
  readonly mode: Mode;
  readonly priority: number;
  readonly hops: number;
  readonly area: number;
  readonly sequence: number;
  readonly deadlineMs: number;
  /** 16 bytes each. */
  readonly source: Uint8Array;
  readonly origin: Uint8Array;
  readonly destination: Uint8Array;
  readonly contentType: ContentType;
  readonly action: Action;
  /** The service name in UTF-8, at most 255 bytes. */
  readonly service: Uint8Array;
  /** W3C traceparent (ASCII), at most 255 bytes. */
  readonly traceparent: string;
  /** AAA identity (token), at most 65535 UTF-8 bytes. */
  readonly aaa: string;
  /** Idempotency key of a write, at most 255 UTF-8 bytes; empty for none. */
  readonly idempotencyKey?: string | undefined;
  readonly payload: Uint8Array;
}

/**
 * Bytes {@link writeData} will write for `d`, length prefix included.
 * @throws L8_ERR_INVALID_ARGUMENT when the service, traceparent or AAA identity is too long.
 */
export function dataFrameSize(d: DataInit): number {
  const traceLen = d.traceparent.length === 0 ? 0 : Buffer.byteLength(d.traceparent, 'latin1');
  const aaaLen = d.aaa.length === 0 ? 0 : Buffer.byteLength(d.aaa, 'utf8');
  const idem = d.idempotencyKey;
  const idemLen = idem === undefined || idem.length === 0 ? 0 : Buffer.byteLength(idem, 'utf8');
  if (d.service.length > 255 || traceLen > 255 || aaaLen > 0xffff || idemLen > 255) {
    throw l8error(
      'L8_ERR_INVALID_ARGUMENT',
      'cannot encode: service, traceparent, AAA identity or idempotency key too long',
    );
  }
  const idemBlock = idemLen === 0 ? 0 : 1 + idemLen;
  return 4 + FIXED_HEADER_SIZE + d.service.length + 3 + traceLen + aaaLen + idemBlock + d.payload.length;
}

/**
 * Writes a data frame of `size` bytes (from {@link dataFrameSize}, prefix included) at `at`: the same
 * layout as `encodeMessage`, without error or transaction block. Numbers are the caller's to keep in
 * range (the VNic's public calls check them).
 */
export function writeData(buf: Buffer, at: number, d: DataInit, size: number): void {
  u32(buf, at, size - 4);
  const f = at + 4;
  buf[f + Offset.VERSION] = PROTOCOL_VERSION;
  buf[f + Offset.KIND] = d.kind;
  buf[f + Offset.MODE] = d.mode;
  buf[f + Offset.PRIORITY] = d.priority;
  buf[f + Offset.HOPS] = d.hops;
  const keyed = d.idempotencyKey !== undefined && d.idempotencyKey.length > 0;
  buf[f + Offset.FLAGS] = (d.traceparent.length > 0 ? Flag.TRACE : 0) | (keyed ? Flag.IDEMPOTENCY : 0);
  u16(buf, f + Offset.AREA, d.area);
  u32(buf, f + Offset.SEQUENCE, d.sequence);
  u32(buf, f + Offset.DEADLINE, d.deadlineMs);
  id16(buf, f + Offset.SOURCE, d.source);
  id16(buf, f + Offset.ORIGIN, d.origin);
  id16(buf, f + Offset.DESTINATION, d.destination);
  buf[f + Offset.CONTENT_TYPE] = d.contentType;
  buf[f + Offset.ACTION] = d.action;
  buf[f + Offset.SERVICE_LEN] = d.service.length;
  buf.set(d.service, f + Offset.SERVICE);
  let o = f + Offset.SERVICE + d.service.length;
  buf[o] = d.traceparent.length === 0 ? 0 : buf.write(d.traceparent, o + 1, 'latin1');
  o += 1 + (buf[o] as number);
  const aaaLen = d.aaa.length === 0 ? 0 : buf.write(d.aaa, o + 2, 'utf8');
  o = buf.writeUInt16BE(aaaLen, o) + aaaLen;
  if (keyed) {
    buf[o] = buf.write(d.idempotencyKey as string, o + 1, 'utf8');
    o += 1 + (buf[o] as number);
  }
  buf.set(d.payload, o);
}

/**
 * Encodes a data frame (length-prefixed) into a new buffer; see {@link writeData}.
 * @throws L8_ERR_INVALID_ARGUMENT when the service, traceparent or AAA identity is too long.
 */
export function encodeData(d: DataInit): Buffer {
  const size = dataFrameSize(d);
  const buf = Buffer.allocUnsafe(size);
  writeData(buf, 0, d, size);
  return buf;
}
