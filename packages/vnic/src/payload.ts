import { ContentType, l8error, type Message, type NodeId } from '@layer8/protocol';

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
 * A received message with lazy payload accessors: the payload is decoded by whoever needs it
 * (DESIGN.md §3, hot-path budget).
 */
export class Incoming {
  readonly message: Message;

  constructor(message: Message) {
    this.message = message;
  }

  /** The sender's node id. */
  get source(): NodeId {
    return this.message.source;
  }

  /** The raw payload bytes. */
  get payload(): Uint8Array {
    return this.message.payload;
  }

  /** The payload as UTF-8 text. */
  text(): string {
    const p = this.message.payload;
    return Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('utf8');
  }

  /**
   * The payload parsed as JSON.
   * @throws L8_ERR_DECODE when it is not JSON.
   */
  json<T = unknown>(): T {
    if (this.message.payload.length === 0) return undefined as T;
    try {
      return JSON.parse(this.text()) as T;
    } catch (err) {
      throw l8error('L8_ERR_DECODE', `payload from ${this.source} is not JSON`, { cause: err });
    }
  }
}
