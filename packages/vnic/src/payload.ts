import {
  ContentType,
  decodeMessage,
  l8error,
  type Message,
  type NodeId,
  Offset,
  payloadOffset,
  readNodeId,
} from '@layer8/protocol';

/** What a caller may send: bytes as they are, `undefined` for nothing, anything else as JSON. */
export type Payload = Uint8Array | string | number | boolean | object | null | undefined;

/** Encodes a payload and picks its content type. @throws L8_ERR_INVALID_ARGUMENT when not JSON-able. */
export function encodePayload(value: Payload): { payload: Uint8Array; contentType: ContentType } {
  if (value === undefined) return { payload: EMPTY, contentType: ContentType.NONE };
  if (value instanceof Uint8Array) return { payload: value, contentType: ContentType.BINARY };
  try {
    return { payload: Buffer.from(JSON.stringify(value), 'utf8'), contentType: ContentType.JSON };
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `payload is not JSON-serialisable: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const EMPTY = new Uint8Array(0);

/**
 * A received message with lazy accessors: the frame is decoded only as far as the reader asks
 * (DESIGN.md §3, hot-path budget). Either a frame or an in-process message backs it.
 *
 * Invariant: at least one of `#frame` and `#message` is set; `#message`, once built, matches `#frame`.
 */
export class Incoming {
  readonly #frame: Buffer | undefined;
  #message: Message | undefined;
  #payload: Uint8Array | undefined;

  /** Wraps a frame (without its length prefix) or an in-process message. */
  constructor(from: Buffer | Message) {
    if (Buffer.isBuffer(from)) this.#frame = from;
    else this.#message = from;
  }

  /** The whole decoded message (decoded on first use). @throws L8_ERR_MALFORMED_FRAME */
  get message(): Message {
    this.#message ??= decodeMessage(this.#frame as Buffer);
    return this.#message;
  }

  /** The sender's node id. */
  get source(): NodeId {
    return this.#frame === undefined ? this.message.source : readNodeId(this.#frame, Offset.SOURCE);
  }

  /** The payload's content type. */
  get contentType(): ContentType {
    return (this.#frame === undefined ? this.message.contentType : this.#frame[Offset.CONTENT_TYPE]) as ContentType;
  }

  /** The raw payload bytes (a view, not a copy). @throws L8_ERR_MALFORMED_FRAME */
  get payload(): Uint8Array {
    if (this.#payload === undefined) {
      const f = this.#frame;
      this.#payload = f === undefined ? this.message.payload : f.subarray(payloadOffset(f));
    }
    return this.#payload;
  }

  /** The payload as UTF-8 text. */
  text(): string {
    const p = this.payload;
    return Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('utf8');
  }

  /**
   * The payload parsed as JSON; `undefined` when empty.
   * @throws L8_ERR_DECODE when it is not JSON.
   */
  json<T = unknown>(): T {
    if (this.payload.length === 0) return undefined as T;
    try {
      return JSON.parse(this.text()) as T;
    } catch (err) {
      throw l8error('L8_ERR_DECODE', `payload from ${this.source} is not JSON`, { cause: err });
    }
  }
}
