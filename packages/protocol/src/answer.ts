import { type ContentType, FIXED_HEADER_SIZE, Flag, type Kind, Offset, PROTOCOL_VERSION } from './constants.ts';
import { l8error, type WireError } from './errors.ts';

/**
 * Fast paths for the receiving side (DESIGN.md §3 "payloads are decoded lazily"): the payload offset of
 * a frame without decoding its strings, and an answer (reply, fail, progress) built from the request's
 * bytes without a decode and re-encode of its ids.
 */

/**
 * Offset of the payload in a frame (docs/protocol.md §4), walking only the length fields.
 * @throws L8_ERR_MALFORMED_FRAME when a length runs past the end.
 */
export function payloadOffset(frame: Buffer): number {
  let o = Offset.SERVICE + (frame[Offset.SERVICE_LEN] as number);
  // The trace length byte must be inside the frame too: past the end it reads as undefined (NaN below).
  if (o < frame.length) o += 1 + (frame[o] as number);
  else o = frame.length;
  if (o + 2 > frame.length) throw l8error('L8_ERR_MALFORMED_FRAME', 'malformed frame: header runs past the end');
  o += 2 + frame.readUInt16BE(o);
  const flags = frame[Offset.FLAGS] as number;
  if (flags & Flag.ERROR) o = skipError(frame, o);
  if (flags & Flag.TX) o += 25;
  if (flags & Flag.IDEMPOTENCY) o += o < frame.length ? 1 + (frame[o] as number) : 1;
  if (o > frame.length) throw l8error('L8_ERR_MALFORMED_FRAME', 'malformed frame: body runs past the end');
  return o;
}

function skipError(frame: Buffer, at: number): number {
  if (at + 2 > frame.length) throw l8error('L8_ERR_MALFORMED_FRAME', 'malformed frame: error runs past the end');
  let o = at + 2 + frame.readUInt16BE(at);
  for (let i = 0; i < 2; i++) {
    if (o + 4 > frame.length) throw l8error('L8_ERR_MALFORMED_FRAME', 'malformed frame: error runs past the end');
    o += 4 + frame.readUInt32BE(o);
  }
  return o;
}

/** What {@link encodeAnswer} needs besides the request. */
export interface AnswerInit {
  readonly kind: Kind;
  /** The answering node's id, 16 bytes. */
  readonly source: Uint8Array;
  /** The answering node's VNet, 16 bytes. */
  readonly origin: Uint8Array;
  readonly contentType: ContentType;
  readonly payload: Uint8Array;
  readonly error?: WireError | undefined;
}

/**
 * Encodes the answer to `request` (a frame without prefix) as one length-prefixed frame: destination is
 * the request's source, with its sequence, service and area; no trace, AAA or transaction block. Every
 * byte of the result is written from `request` and `a`.
 * @throws L8_ERR_MALFORMED_FRAME when the request's fixed header or service name (docs/protocol.md §3)
 * runs past its end; L8_ERR_INVALID_ARGUMENT when `source` or `origin` is not 16 bytes or the error code
 * is over 65535 bytes.
 */
export function encodeAnswer(request: Buffer, a: AnswerInit): Buffer {
  const serviceLen = request[Offset.SERVICE_LEN] as number;
  // A length past the end would copy fewer bytes than the answer declares and send the rest of an
  // allocUnsafe buffer (process memory) to the requester.
  if (request.length < FIXED_HEADER_SIZE || request.length < FIXED_HEADER_SIZE + serviceLen) {
    throw l8error('L8_ERR_MALFORMED_FRAME', 'malformed frame: service name runs past the end');
  }
  if (a.source.length !== 16 || a.origin.length !== 16) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'an answer needs 16-byte source and origin ids');
  }
  const err = a.error === undefined ? undefined : errorBytes(a.error);
  const size = FIXED_HEADER_SIZE + serviceLen + 3 + (err?.length ?? 0) + a.payload.length;
  const out = Buffer.allocUnsafe(4 + size);
  out.writeUInt32BE(size, 0);
  out[4 + Offset.VERSION] = PROTOCOL_VERSION;
  out[4 + Offset.KIND] = a.kind;
  out[4 + Offset.MODE] = 0;
  out[4 + Offset.PRIORITY] = request[Offset.PRIORITY] as number;
  out[4 + Offset.HOPS] = 4;
  out[4 + Offset.FLAGS] = err === undefined ? 0 : Flag.ERROR | retryFlags(a.error);
  request.copy(out, 4 + Offset.AREA, Offset.AREA, Offset.DEADLINE);
  out.writeUInt32BE(0, 4 + Offset.DEADLINE);
  out.set(a.source, 4 + Offset.SOURCE);
  out.set(a.origin, 4 + Offset.ORIGIN);
  request.copy(out, 4 + Offset.DESTINATION, Offset.SOURCE, Offset.SOURCE + 16);
  out[4 + Offset.CONTENT_TYPE] = a.contentType;
  out[4 + Offset.ACTION] = 0;
  request.copy(out, 4 + Offset.SERVICE_LEN, Offset.SERVICE_LEN, Offset.SERVICE + serviceLen);
  let o = 4 + Offset.SERVICE + serviceLen;
  out[o++] = 0;
  o = out.writeUInt16BE(0, o);
  if (err !== undefined) o += err.copy(out, o);
  out.set(a.payload, o);
  return out;
}

/** The header flags that carry a thrower's retryable override (docs/protocol.md §5). */
export function retryFlags(e: WireError | undefined): number {
  if (e?.retryable === undefined) return 0;
  return Flag.RETRY_SET | (e.retryable ? Flag.RETRYABLE : 0);
}

function errorBytes(e: WireError): Buffer {
  const code = Buffer.from(e.code, 'utf8');
  if (code.length > 0xffff) throw l8error('L8_ERR_INVALID_ARGUMENT', 'error code over 65535 bytes');
  const message = Buffer.from(e.message, 'utf8');
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(e.data), 'utf8');
  const out = Buffer.allocUnsafe(10 + code.length + message.length + data.length);
  let o = out.writeUInt16BE(code.length, 0);
  o += code.copy(out, o);
  o = out.writeUInt32BE(message.length, o);
  o += message.copy(out, o);
  o = out.writeUInt32BE(data.length, o);
  data.copy(out, o);
  return out;
}
