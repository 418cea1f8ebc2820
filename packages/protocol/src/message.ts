import { retryFlags } from './answer.ts';
import { u16, u32 } from './bytes.ts';
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
  readonly id: NodeId;
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
  /** Idempotency key of a write (1-255 UTF-8 bytes): a service applies a keyed write once. */
  readonly idempotencyKey?: string | undefined;
  readonly payload: Uint8Array;
}

/** What {@link encodeMessage} takes: every header field but kind, source and service has a default. */
export type MessageInit = Partial<Message> & Pick<Message, 'kind' | 'source'>;

const EMPTY = new Uint8Array(0);

/** Strings up to this many UTF-16 units are measured and copied in JS; longer ones natively. */
const SHORT_TEXT = 32;

/** UTF-8 length of `s`. Short ASCII strings (most service names) skip the native call. */
function utf8Len(s: string | undefined): number {
  if (s === undefined) return 0;
  const n = s.length;
  if (n > SHORT_TEXT) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Writes `s` (`len` UTF-8 bytes, from {@link utf8Len}) at `at`; returns the offset after it. */
function writeText(buf: Buffer, at: number, s: string, len: number): number {
  // len === s.length exactly when s is ASCII: every other UTF-16 unit takes 2 or more UTF-8 bytes.
  if (len !== s.length || len > SHORT_TEXT) return at + buf.write(s, at, len, 'utf8');
  for (let i = 0; i < len; i++) buf[at + i] = s.charCodeAt(i);
  return at + len;
}

const NO_DATA = Buffer.alloc(0);

function errorParts(error: WireError | undefined): [Buffer, Buffer, Buffer] | undefined {
  if (error === undefined) return undefined;
  let json: string | undefined;
  try {
    json = error.data === undefined ? undefined : JSON.stringify(error.data);
  } catch (e) {
    invalid(`error data is not JSON-serialisable (${(e as Error).message})`);
  }
  const code = Buffer.from(error.code, 'utf8');
  if (code.length > 0xffff) invalid('error code over 65535 bytes');
  const data = json === undefined ? NO_DATA : Buffer.from(json, 'utf8');
  return [code, Buffer.from(error.message, 'utf8'), data];
}

function invalid(what: string): never {
  throw l8error('L8_ERR_INVALID_ARGUMENT', `cannot encode: ${what}`);
}

/** Whether `v` is absent or an integer in 0-max (NaN and fractions fail `Math.floor(v) === v`). */
function inRange(v: number | undefined, max: number): boolean {
  return v === undefined || (v >= 0 && v <= max && Math.floor(v) === v);
}

function checkRange(value: number | undefined, max: number, what: string): void {
  if (!inRange(value, max)) invalid(`${what} ${value} is not an integer in 0-${max}`);
}

function checkNumbers(m: MessageInit): void {
  const ok =
    m.kind >= 1 &&
    m.kind <= 7 &&
    Math.floor(m.kind) === m.kind &&
    inRange(m.mode, 5) &&
    inRange(m.priority, 7) &&
    inRange(m.hops, 255) &&
    inRange(m.area, 0xffff) &&
    inRange(m.sequence, 0xffffffff) &&
    inRange(m.deadlineMs, 0xffffffff) &&
    inRange(m.contentType, 4) &&
    inRange(m.action, 255);
  if (!ok) explainNumbers(m);
  if (m.tx !== undefined) {
    checkRange(m.tx.state, 6, 'transaction state');
    checkRange(m.tx.term, Number.MAX_SAFE_INTEGER, 'transaction term');
  }
}

/** Throws the precise error for the first field out of range (the slow path of checkNumbers). */
function explainNumbers(m: MessageInit): void {
  if (!(Number.isInteger(m.kind) && m.kind >= 1 && m.kind <= 7)) invalid(`unknown kind ${m.kind}`);
  checkRange(m.mode, 5, 'mode');
  checkRange(m.priority, 7, 'priority');
  checkRange(m.hops, 255, 'hop count');
  checkRange(m.area, 0xffff, 'area');
  checkRange(m.sequence, 0xffffffff, 'sequence');
  checkRange(m.deadlineMs, 0xffffffff, 'deadline');
  checkRange(m.contentType, 4, 'content type');
  checkRange(m.action, 255, 'action');
}

function checkHeader(service: string, serviceLen: number, traceLen: number, aaaLen: number): void {
  if (serviceLen > MAX_SERVICE_BYTES) {
    invalid(`service name over ${MAX_SERVICE_BYTES} bytes: ${service.slice(0, 40)}…`);
  }
  if (traceLen > 255) invalid('traceparent over 255 bytes');
  if (aaaLen > 65535) invalid('AAA identity over 65535 bytes');
}

/**
 * Encodes a message as one length-prefixed frame (4-byte big-endian length, then the frame;
 * docs/protocol.md §2-§4).
 * @throws L8_ERR_INVALID_ARGUMENT when a field is out of range or a node id is not one.
 */
export function encodeMessage(m: MessageInit): Buffer {
  checkNumbers(m);
  const service = m.service ?? '';
  const serviceLen = utf8Len(service);
  const traceLen = utf8Len(m.traceparent);
  const aaaLen = utf8Len(m.aaa);
  checkHeader(service, serviceLen, traceLen, aaaLen);
  const err = errorParts(m.error);
  const payload = m.payload ?? EMPTY;
  const errLen = err === undefined ? 0 : 10 + err[0].length + err[1].length + err[2].length;
  const txLen = m.tx === undefined ? 0 : 25;
  const idemLen = utf8Len(m.idempotencyKey);
  if (idemLen > 255) invalid('idempotency key over 255 bytes');
  const idemBlock = idemLen === 0 ? 0 : 1 + idemLen;
  const size = FIXED_HEADER_SIZE + serviceLen + 1 + traceLen + 2 + aaaLen + errLen + txLen + idemBlock + payload.length;
  const buf = Buffer.allocUnsafe(4 + size);
  buf.writeUInt32BE(size, 0);
  writeFixed(buf, m, serviceLen, traceLen, err !== undefined);
  if (idemLen > 0) buf[4 + Offset.FLAGS] = (buf[4 + Offset.FLAGS] as number) | Flag.IDEMPOTENCY;
  let o = writeText(buf, 4 + FIXED_HEADER_SIZE, service, serviceLen);
  buf[o++] = traceLen;
  if (traceLen > 0) o = writeText(buf, o, m.traceparent as string, traceLen);
  o = buf.writeUInt16BE(aaaLen, o);
  if (aaaLen > 0) o = writeText(buf, o, m.aaa as string, aaaLen);
  if (err !== undefined) o = writeError(buf, o, err);
  if (m.tx !== undefined) o = writeTx(buf, o, m.tx);
  if (idemLen > 0) {
    buf[o++] = idemLen;
    o = writeText(buf, o, m.idempotencyKey as string, idemLen);
  }
  buf.set(payload, o);
  return buf;
}

/** Writes the fixed header after the 4-byte length prefix (no subarray: one object less per frame). */
function writeFixed(buf: Buffer, m: MessageInit, serviceLen: number, traceLen: number, hasErr: boolean): void {
  buf[4 + Offset.VERSION] = PROTOCOL_VERSION;
  buf[4 + Offset.KIND] = m.kind;
  buf[4 + Offset.MODE] = m.mode ?? Mode.UNICAST;
  buf[4 + Offset.PRIORITY] = m.priority ?? Priority.NORMAL;
  buf[4 + Offset.HOPS] = m.hops ?? DEFAULT_HOPS;
  buf[4 + Offset.FLAGS] =
    (traceLen > 0 ? Flag.TRACE : 0) | (hasErr ? Flag.ERROR | retryFlags(m.error) : 0) | (m.tx ? Flag.TX : 0);
  u16(buf, 4 + Offset.AREA, m.area ?? 0);
  u32(buf, 4 + Offset.SEQUENCE, m.sequence ?? 0);
  u32(buf, 4 + Offset.DEADLINE, m.deadlineMs ?? 0);
  writeNodeId(buf, 4 + Offset.SOURCE, m.source);
  writeId(buf, 4 + Offset.ORIGIN, m.origin);
  writeId(buf, 4 + Offset.DESTINATION, m.destination);
  buf[4 + Offset.CONTENT_TYPE] = m.contentType ?? (m.payload?.length ? ContentType.BINARY : ContentType.NONE);
  buf[4 + Offset.ACTION] = m.action ?? Action.NONE;
  buf[4 + Offset.SERVICE_LEN] = serviceLen;
}

/** Writes an optional id; the zero id (or none) as 16 zero bytes without parsing. */
function writeId(buf: Buffer, at: number, id: NodeId | undefined): void {
  if (id === undefined || id === ZERO_NODE_ID) buf.fill(0, at, at + 16);
  else writeNodeId(buf, at, id);
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
