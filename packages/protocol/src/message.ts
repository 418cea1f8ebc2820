import {
  Action,
  ContentType,
  DEFAULT_HOPS,
  FIXED_HEADER_SIZE,
  Flag,
  type Kind,
  MAX_SERVICE_BYTES,
  Mode,
  Offset,
  PROTOCOL_VERSION,
  Priority,
  type TxState,
} from './constants.ts';
import { l8error, type WireError } from './errors.ts';
import { type NodeId, writeNodeId, ZERO_NODE_ID } from './node-id.ts';

/** The optional transaction block of the body (docs/protocol.md §4). */
export interface TxBlock {
  /** Transaction id (a UUID). */
  readonly id: string;
  readonly state: TxState;
  /** Leader term that ordered it (fencing); a safe integer. */
  readonly term: number;
}

/** A decoded frame: header and body of docs/protocol.md §3-§4. */
export interface Message {
  readonly kind: Kind;
  readonly mode: Mode;
  /** 0 (highest) to 7. */
  readonly priority: number;
  /** Remaining VNet-to-VNet hops. */
  readonly hops: number;
  /** Service area, 0-65535. */
  readonly area: number;
  /** Request sequence; a reply carries the request's. */
  readonly sequence: number;
  /** Relative deadline in ms; 0 means none. */
  readonly deadlineMs: number;
  readonly source: NodeId;
  /** The VNet the source is attached to. */
  readonly origin: NodeId;
  /** Destination node, or {@link ZERO_NODE_ID} when the mode picks receivers. */
  readonly destination: NodeId;
  readonly contentType: ContentType;
  readonly action: Action;
  /** Service name, at most 255 UTF-8 bytes. */
  readonly service: string;
  /** W3C traceparent, when traced. */
  readonly traceparent?: string | undefined;
  /** AAA identity: a user token or user id; empty when none. */
  readonly aaa: string;
  readonly error?: WireError | undefined;
  readonly tx?: TxBlock | undefined;
  readonly payload: Uint8Array;
}

/** What {@link encodeMessage} takes: every header field but kind, source and service has a default. */
export type MessageInit = Partial<Message> & Pick<Message, 'kind' | 'source'>;

const EMPTY = new Uint8Array(0);

function utf8Len(s: string | undefined): number {
  return s === undefined || s.length === 0 ? 0 : Buffer.byteLength(s, 'utf8');
}

function errorParts(error: WireError | undefined): [Buffer, Buffer, Buffer] | undefined {
  if (error === undefined) return undefined;
  const data = error.data === undefined ? EMPTY : Buffer.from(JSON.stringify(error.data), 'utf8');
  return [Buffer.from(error.code, 'utf8'), Buffer.from(error.message, 'utf8'), Buffer.from(data)];
}

function checkHeader(service: string, serviceLen: number, traceLen: number, aaaLen: number): void {
  if (serviceLen > MAX_SERVICE_BYTES) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `service name over ${MAX_SERVICE_BYTES} bytes: ${service.slice(0, 40)}…`);
  }
  if (traceLen > 255) throw l8error('L8_ERR_INVALID_ARGUMENT', 'traceparent over 255 bytes');
  if (aaaLen > 65535) throw l8error('L8_ERR_INVALID_ARGUMENT', 'AAA identity over 65535 bytes');
}

/**
 * Encodes a message as one length-prefixed frame (4-byte big-endian length, then the frame).
 * @throws L8_ERR_INVALID_ARGUMENT when a field is out of range.
 */
export function encodeMessage(m: MessageInit): Buffer {
  const service = m.service ?? '';
  const serviceLen = utf8Len(service);
  const traceLen = utf8Len(m.traceparent);
  const aaaLen = utf8Len(m.aaa);
  checkHeader(service, serviceLen, traceLen, aaaLen);
  const err = errorParts(m.error);
  const payload = m.payload ?? EMPTY;
  const errLen = err === undefined ? 0 : 10 + err[0].length + err[1].length + err[2].length;
  const txLen = m.tx === undefined ? 0 : 25;
  const size = FIXED_HEADER_SIZE + serviceLen + 1 + traceLen + 2 + aaaLen + errLen + txLen + payload.length;
  const buf = Buffer.allocUnsafe(4 + size);
  buf.writeUInt32BE(size, 0);
  writeFixed(buf.subarray(4), m, serviceLen, traceLen, err !== undefined);
  let o = 4 + FIXED_HEADER_SIZE;
  if (serviceLen > 0) o += buf.write(service, o, 'utf8');
  buf[o++] = traceLen;
  if (traceLen > 0) o += buf.write(m.traceparent as string, o, 'utf8');
  o = buf.writeUInt16BE(aaaLen, o);
  if (aaaLen > 0) o += buf.write(m.aaa as string, o, 'utf8');
  if (err !== undefined) o = writeError(buf, o, err);
  if (m.tx !== undefined) o = writeTx(buf, o, m.tx);
  buf.set(payload, o);
  return buf;
}

function writeFixed(f: Buffer, m: MessageInit, serviceLen: number, traceLen: number, hasErr: boolean): void {
  f[Offset.VERSION] = PROTOCOL_VERSION;
  f[Offset.KIND] = m.kind;
  f[Offset.MODE] = m.mode ?? Mode.UNICAST;
  f[Offset.PRIORITY] = m.priority ?? Priority.NORMAL;
  f[Offset.HOPS] = m.hops ?? DEFAULT_HOPS;
  f[Offset.FLAGS] = (traceLen > 0 ? Flag.TRACE : 0) | (hasErr ? Flag.ERROR : 0) | (m.tx ? Flag.TX : 0);
  f.writeUInt16BE(m.area ?? 0, Offset.AREA);
  f.writeUInt32BE(m.sequence ?? 0, Offset.SEQUENCE);
  f.writeUInt32BE(m.deadlineMs ?? 0, Offset.DEADLINE);
  writeNodeId(f, Offset.SOURCE, m.source);
  writeNodeId(f, Offset.ORIGIN, m.origin ?? ZERO_NODE_ID);
  writeNodeId(f, Offset.DESTINATION, m.destination ?? ZERO_NODE_ID);
  f[Offset.CONTENT_TYPE] = m.contentType ?? (m.payload?.length ? ContentType.BINARY : ContentType.NONE);
  f[Offset.ACTION] = m.action ?? Action.NONE;
  f[Offset.SERVICE_LEN] = serviceLen;
}

function writeError(buf: Buffer, at: number, [code, message, data]: [Buffer, Buffer, Buffer]): number {
  let o = buf.writeUInt16BE(code.length, at);
  o += code.copy(buf, o);
  o = buf.writeUInt32BE(message.length, o);
  o += message.copy(buf, o);
  o = buf.writeUInt32BE(data.length, o);
  return o + data.copy(buf, o);
}

function writeTx(buf: Buffer, at: number, tx: TxBlock): number {
  writeNodeId(buf, at, tx.id);
  buf[at + 16] = tx.state;
  buf.writeBigUInt64BE(BigInt(tx.term), at + 17);
  return at + 25;
}
