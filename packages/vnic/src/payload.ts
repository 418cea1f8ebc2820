import {
  type Action,
  ContentType,
  decodeMessage,
  type Kind,
  l8error,
  type Message,
  type NodeId,
  Offset,
  payloadOffset,
  readNodeId,
} from '@layer8/protocol';

/**
 * Encodes and decodes values of one type: a model codec of `@layer8/model` (`modelCodec(OrderSchema)`)
 * is one. `contentType` is the header's content type (protobuf unless the codec says otherwise).
 */
export interface PayloadCodec<T> {
  encode(value: T, contentType?: number): Uint8Array;
  decode(bytes: Uint8Array, contentType?: number): T;
}

/** The encoding half of a {@link PayloadCodec}, as the `codec` option of a send takes it. */
export type PayloadEncoder = Pick<PayloadCodec<never>, 'encode'>;

/** A value already encoded by a codec (see {@link typed}): it travels with its content type. */
export class Encoded {
  readonly bytes: Uint8Array;
  /** The content type the header carries. */
  readonly contentType: ContentType;

  constructor(bytes: Uint8Array, contentType: ContentType) {
    this.bytes = bytes;
    this.contentType = contentType;
  }
}

/**
 * `value` encoded by `codec` as protobuf (or as `contentType`), for a handler's reply or a payload sent
 * without the `codec` option. @throws the codec's error (L8_ERR_INVALID_ARGUMENT for a value of another type)
 */
export function typed<T>(codec: PayloadCodec<T>, value: T, contentType: ContentType = ContentType.PROTOBUF): Encoded {
  return new Encoded(codec.encode(value, contentType), contentType);
}

/**
 * What a caller may send: bytes as they are, a {@link typed} value, `undefined` for nothing, anything else
 * as JSON.
 */
export type Payload = Uint8Array | Encoded | string | number | boolean | object | null | undefined;

/** The header fields a payload sets. */
export interface EncodedPayload {
  readonly payload: Uint8Array;
  readonly contentType: ContentType;
}

/**
 * Encodes a payload and picks its content type; with `codec`, the value is encoded by it as protobuf.
 * @throws L8_ERR_INVALID_ARGUMENT when not JSON-able (or the codec refuses the value).
 */
export function encodePayload(value: Payload, codec?: PayloadEncoder): EncodedPayload {
  if (codec !== undefined && value !== undefined && !(value instanceof Encoded)) {
    return {
      payload: (codec as Pick<PayloadCodec<unknown>, 'encode'>).encode(value, ContentType.PROTOBUF),
      contentType: ContentType.PROTOBUF,
    };
  }
  if (value === undefined) return { payload: EMPTY, contentType: ContentType.NONE };
  if (value instanceof Uint8Array) return { payload: value, contentType: ContentType.BINARY };
  if (value instanceof Encoded) return { payload: value.bytes, contentType: value.contentType };
  try {
    return { payload: Buffer.from(JSON.stringify(value), 'utf8'), contentType: ContentType.JSON };
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `payload is not JSON-serialisable: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const EMPTY = new Uint8Array(0);

function malformed(what: string): never {
  throw l8error('L8_ERR_MALFORMED_FRAME', `malformed frame: ${what} runs past the end`);
}

/**
 * A received message with lazy accessors: the frame is decoded only as far as the reader asks
 * (docs/protocol.md §3-§4; a handler that reads only the payload never decodes a string). Either a frame
 * or an in-process message backs it.
 *
 * Invariant: at least one of `#frame` and `#message` is set; `#message`, once built, matches `#frame`.
 */
export class Incoming {
  readonly #frame: Buffer | undefined;
  #message: Message | undefined;
  #payload: Uint8Array | undefined;
  #decoded: { codec: PayloadCodec<unknown>; value: unknown } | undefined;

  /** Wraps a frame (without its length prefix) or an in-process message. */
  constructor(from: Buffer | Message) {
    if (Buffer.isBuffer(from)) this.#frame = from;
    else this.#message = from;
  }

  /** The frame behind this message (without its length prefix); undefined for an in-process message. */
  get frame(): Buffer | undefined {
    return this.#frame;
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

  /** What the frame is (REQUEST, NOTIFY, REPLY, …). */
  get kind(): Kind {
    return (this.#frame === undefined ? this.message.kind : this.#frame[Offset.KIND]) as Kind;
  }

  /** The action the sender asked for (POST, GET, …; HANDLE by default). */
  get action(): Action {
    return (this.#frame === undefined ? this.message.action : this.#frame[Offset.ACTION]) as Action;
  }

  /** The area of the (service, area) it was sent to. */
  get area(): number {
    return this.#frame === undefined ? this.message.area : this.#frame.readUInt16BE(Offset.AREA);
  }

  /** The deadline the sender gave, ms from when it was sent; 0 for none. */
  get deadlineMs(): number {
    return this.#frame === undefined ? this.message.deadlineMs : this.#frame.readUInt32BE(Offset.DEADLINE);
  }

  /** The service it was sent to. @throws L8_ERR_MALFORMED_FRAME */
  get service(): string {
    const f = this.#frame;
    if (f === undefined) return this.message.service;
    const end = Offset.SERVICE + (f[Offset.SERVICE_LEN] as number);
    if (end > f.length) malformed('service name');
    return f.toString('utf8', Offset.SERVICE, end);
  }

  /** The W3C traceparent the sender carried, if any. @throws L8_ERR_MALFORMED_FRAME */
  get traceparent(): string | undefined {
    const f = this.#frame;
    if (f === undefined) return this.message.traceparent;
    const at = Offset.SERVICE + (f[Offset.SERVICE_LEN] as number);
    const len = f[at];
    if (len === undefined || at + 1 + len > f.length) malformed('traceparent');
    return len === 0 ? undefined : f.toString('utf8', at + 1, at + 1 + len);
  }

  /** The identity (AAA token or user) the sender carried; empty when none. @throws L8_ERR_MALFORMED_FRAME */
  get identity(): string {
    const f = this.#frame;
    if (f === undefined) return this.message.aaa;
    const at = Offset.SERVICE + (f[Offset.SERVICE_LEN] as number);
    const lenAt = at + 1 + ((f[at] as number | undefined) ?? f.length);
    if (lenAt + 2 > f.length) malformed('identity');
    const len = f.readUInt16BE(lenAt);
    if (lenAt + 2 + len > f.length) malformed('identity');
    return len === 0 ? '' : f.toString('utf8', lenAt + 2, lenAt + 2 + len);
  }

  /** The idempotency key the sender carried, if any (decodes the message). */
  get idempotencyKey(): string | undefined {
    return this.message.idempotencyKey;
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

  /**
   * The payload decoded by `codec` (a model codec: protobuf, or its JSON form when the sender sent JSON),
   * decoded once per codec.
   * @throws L8_ERR_DECODE when the content type is neither protobuf nor JSON, or the bytes do not decode.
   */
  decode<T>(codec: PayloadCodec<T>): T {
    if (this.#decoded?.codec === codec) return this.#decoded.value as T;
    const type = this.contentType;
    if (type !== ContentType.PROTOBUF && type !== ContentType.JSON) {
      throw l8error('L8_ERR_DECODE', `payload from ${this.source} has content type ${type}, not a model`, {
        data: { contentType: type },
      });
    }
    const value = codec.decode(this.payload, type);
    this.#decoded = { codec: codec as PayloadCodec<unknown>, value };
    return value;
  }
}
