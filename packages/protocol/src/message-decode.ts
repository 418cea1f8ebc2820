import {
  type Action,
  type ContentType,
  FIXED_HEADER_SIZE,
  Flag,
  type Kind,
  type Mode,
  Offset,
  PROTOCOL_VERSION,
  type TxState,
} from './constants.ts';
import { l8error, type WireError } from './errors.ts';
import type { Message, TxBlock } from './message.ts';
import { readNodeId } from './node-id.ts';

const MAX_KIND = 7;
const MAX_MODE = 5;
const MAX_CONTENT_TYPE = 4;
const MAX_TX_STATE = 6;

function malformed(what: string): never {
  throw l8error('L8_ERR_MALFORMED_FRAME', `malformed frame: ${what}`);
}

/** A bounds-checked cursor over one frame. */
class Cursor {
  readonly buf: Buffer;
  at: number;

  constructor(buf: Buffer, at: number) {
    this.buf = buf;
    this.at = at;
  }

  need(n: number, what: string): number {
    const start = this.at;
    if (start + n > this.buf.length) malformed(`${what} runs past the end`);
    this.at = start + n;
    return start;
  }

  u8(what: string): number {
    return this.buf[this.need(1, what)] as number;
  }

  u16(what: string): number {
    return this.buf.readUInt16BE(this.need(2, what));
  }

  u32(what: string): number {
    return this.buf.readUInt32BE(this.need(4, what));
  }

  text(n: number, what: string): string {
    const start = this.need(n, what);
    return n === 0 ? '' : this.buf.toString('utf8', start, start + n);
  }
}

/**
 * Checks the version byte and the enum bytes of a frame's fixed header.
 * @throws L8_ERR_VERSION, L8_ERR_MALFORMED_FRAME
 */
export function checkFixedHeader(frame: Buffer): void {
  if (frame.length < FIXED_HEADER_SIZE) malformed(`${frame.length} bytes is shorter than the fixed header`);
  const version = frame[Offset.VERSION] as number;
  if (version !== PROTOCOL_VERSION) {
    throw l8error(
      'L8_ERR_VERSION',
      `protocol version ${version} is not supported (this side speaks ${PROTOCOL_VERSION})`,
      {
        data: { version, supported: PROTOCOL_VERSION },
      },
    );
  }
  const kind = frame[Offset.KIND] as number;
  if (kind < 1 || kind > MAX_KIND) malformed(`unknown kind ${kind}`);
  if ((frame[Offset.MODE] as number) > MAX_MODE) malformed(`unknown mode ${frame[Offset.MODE]}`);
  if ((frame[Offset.PRIORITY] as number) > 7) malformed(`priority ${frame[Offset.PRIORITY]} over 7`);
  if ((frame[Offset.CONTENT_TYPE] as number) > MAX_CONTENT_TYPE) malformed(`unknown content type`);
}

function readError(c: Cursor): WireError {
  const code = c.text(c.u16('error code length'), 'error code');
  const message = c.text(c.u32('error message length'), 'error message');
  const dataLen = c.u32('error data length');
  if (dataLen === 0) return { code, message };
  const raw = c.text(dataLen, 'error data');
  try {
    return { code, message, data: JSON.parse(raw) as unknown };
  } catch {
    return malformed('error data is not JSON');
  }
}

/** The error with the retryable override its frame's flags carry, if any. */
function withRetry(e: WireError, flags: number): WireError {
  return flags & Flag.RETRY_SET ? { ...e, retryable: (flags & Flag.RETRYABLE) !== 0 } : e;
}

function readTx(c: Cursor): TxBlock {
  const at = c.need(25, 'transaction block');
  const state = c.buf[at + 16] as number;
  if (state > MAX_TX_STATE) malformed(`unknown transaction state ${state}`);
  const term = c.buf.readBigUInt64BE(at + 17);
  if (term > BigInt(Number.MAX_SAFE_INTEGER)) malformed('transaction term over 2^53');
  return { id: readNodeId(c.buf, at), state: state as TxState, term: Number(term) };
}

/**
 * Decodes one frame (without its length prefix). The payload is a view into `frame`, not a copy.
 * @throws L8_ERR_VERSION, L8_ERR_MALFORMED_FRAME
 */
export function decodeMessage(frame: Buffer): Message {
  checkFixedHeader(frame);
  const flags = frame[Offset.FLAGS] as number;
  const c = new Cursor(frame, Offset.SERVICE);
  const service = c.text(frame[Offset.SERVICE_LEN] as number, 'service name');
  const traceLen = c.u8('trace length');
  const traceparent = traceLen > 0 ? c.text(traceLen, 'traceparent') : undefined;
  const aaa = c.text(c.u16('AAA length'), 'AAA identity');
  const error = flags & Flag.ERROR ? withRetry(readError(c), flags) : undefined;
  const tx = flags & Flag.TX ? readTx(c) : undefined;
  const idem = flags & Flag.IDEMPOTENCY ? c.text(c.u8('idempotency key length'), 'idempotency key') : undefined;
  return {
    kind: frame[Offset.KIND] as Kind,
    mode: frame[Offset.MODE] as Mode,
    priority: frame[Offset.PRIORITY] as number,
    hops: frame[Offset.HOPS] as number,
    area: frame.readUInt16BE(Offset.AREA),
    sequence: frame.readUInt32BE(Offset.SEQUENCE),
    deadlineMs: frame.readUInt32BE(Offset.DEADLINE),
    source: readNodeId(frame, Offset.SOURCE),
    origin: readNodeId(frame, Offset.ORIGIN),
    destination: readNodeId(frame, Offset.DESTINATION),
    contentType: frame[Offset.CONTENT_TYPE] as ContentType,
    action: frame[Offset.ACTION] as Action,
    service,
    traceparent,
    aaa,
    error,
    tx,
    ...(idem === undefined ? {} : { idempotencyKey: idem }),
    payload: frame.subarray(c.at),
  };
}
