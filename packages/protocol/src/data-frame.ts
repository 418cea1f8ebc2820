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
  readonly payload: Uint8Array;
}

/**
 * Encodes a data frame (length-prefixed) with the same layout as `encodeMessage`, without error or
 * transaction block. Numbers are the caller's to keep in range (the VNic's public calls check them).
 * @throws L8_ERR_INVALID_ARGUMENT when the service, traceparent or AAA identity is too long.
 */
export function encodeData(d: DataInit): Buffer {
  const traceLen = d.traceparent.length === 0 ? 0 : Buffer.byteLength(d.traceparent, 'latin1');
  const aaaLen = d.aaa.length === 0 ? 0 : Buffer.byteLength(d.aaa, 'utf8');
  const serviceLen = d.service.length;
  if (serviceLen > 255 || traceLen > 255 || aaaLen > 0xffff) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'cannot encode: service, traceparent or AAA identity too long');
  }
  const size = FIXED_HEADER_SIZE + serviceLen + 3 + traceLen + aaaLen + d.payload.length;
  const buf = Buffer.allocUnsafe(4 + size);
  buf.writeUInt32BE(size, 0);
  buf[4 + Offset.VERSION] = PROTOCOL_VERSION;
  buf[4 + Offset.KIND] = d.kind;
  buf[4 + Offset.MODE] = d.mode;
  buf[4 + Offset.PRIORITY] = d.priority;
  buf[4 + Offset.HOPS] = d.hops;
  buf[4 + Offset.FLAGS] = traceLen > 0 ? Flag.TRACE : 0;
  buf.writeUInt16BE(d.area, 4 + Offset.AREA);
  buf.writeUInt32BE(d.sequence, 4 + Offset.SEQUENCE);
  buf.writeUInt32BE(d.deadlineMs, 4 + Offset.DEADLINE);
  buf.set(d.source, 4 + Offset.SOURCE);
  buf.set(d.origin, 4 + Offset.ORIGIN);
  buf.set(d.destination, 4 + Offset.DESTINATION);
  buf[4 + Offset.CONTENT_TYPE] = d.contentType;
  buf[4 + Offset.ACTION] = d.action;
  buf[4 + Offset.SERVICE_LEN] = serviceLen;
  buf.set(d.service, 4 + Offset.SERVICE);
  let o = 4 + Offset.SERVICE + serviceLen;
  buf[o++] = traceLen;
  if (traceLen > 0) o += buf.write(d.traceparent, o, 'latin1');
  o = buf.writeUInt16BE(aaaLen, o);
  if (aaaLen > 0) o += buf.write(d.aaa, o, 'utf8');
  buf.set(d.payload, o);
  return buf;
}
