/** Binary and JSON codecs of model messages, and the payload content type (protobuf or JSON). */
import {
  type DescMessage,
  fromBinary,
  fromJsonString,
  isMessage,
  type Message,
  toBinary,
  toJsonString,
} from '@bufbuild/protobuf';
import { ContentType, l8error } from '@layer8/protocol';

/** The payload content types a model value may travel as. */
export type PayloadContentType = typeof ContentType.PROTOBUF | typeof ContentType.JSON;

/** Encodes and decodes messages of one model type. */
export interface ModelCodec {
  /**
   * Encodes `message` as protobuf (default) or canonical protobuf JSON (UTF-8).
   * @throws L8_ERR_INVALID_ARGUMENT when `message` is not of this type, or the content type is neither.
   */
  encode(message: Message, contentType?: number): Uint8Array;
  /**
   * Decodes bytes of the content type.
   * @throws L8_ERR_DECODE with `data.type`, `data.contentType` and the decoder's reason.
   */
  decode(bytes: Uint8Array, contentType?: number): Message;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The codec of one message descriptor. */
export function modelCodec(desc: DescMessage): ModelCodec {
  return {
    encode: (message, contentType = ContentType.PROTOBUF) => encodeMessage(desc, message, contentType),
    decode: (bytes, contentType = ContentType.PROTOBUF) => decodeMessage(desc, bytes, contentType),
  };
}

function encodeMessage(desc: DescMessage, message: Message, contentType: number): Uint8Array {
  if (!isMessage(message, desc)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `value is not a ${desc.typeName} message`, {
      data: { type: desc.typeName },
    });
  }
  if (contentType === ContentType.PROTOBUF) return toBinary(desc, message);
  if (contentType === ContentType.JSON) return utf8.encode(toJsonString(desc, message));
  throw badContentType(contentType);
}

function decodeMessage(desc: DescMessage, bytes: Uint8Array, contentType: number): Message {
  if (contentType !== ContentType.PROTOBUF && contentType !== ContentType.JSON) throw badContentType(contentType);
  try {
    return contentType === ContentType.PROTOBUF
      ? fromBinary(desc, bytes)
      : fromJsonString(desc, strictUtf8.decode(bytes));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw l8error('L8_ERR_DECODE', `cannot decode ${desc.typeName}: ${reason}`, {
      cause: err,
      data: { type: desc.typeName, contentType, reason },
    });
  }
}

/**
 * Encodes a schemaless value as UTF-8 JSON (for services without a protobuf model).
 * @throws L8_ERR_INVALID_ARGUMENT when the value does not serialise (a cycle, a bigint).
 */
export function encodeJson(value: unknown): Uint8Array {
  try {
    return utf8.encode(JSON.stringify(value) ?? 'null');
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `value is not JSON-serialisable: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Decodes a schemaless UTF-8 JSON payload.
 * @throws L8_ERR_DECODE with `data.position` (byte offset) when the parser reports one.
 */
export function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(strictUtf8.decode(bytes));
  } catch (err) {
    const reason = (err as Error).message;
    const position = /position (\d+)/.exec(reason)?.[1];
    throw l8error('L8_ERR_DECODE', `cannot decode JSON payload: ${reason}`, {
      cause: err,
      data: { contentType: ContentType.JSON, reason, ...(position === undefined ? {} : { position: +position }) },
    });
  }
}

function badContentType(contentType: number) {
  return l8error('L8_ERR_INVALID_ARGUMENT', `content type ${contentType} is not protobuf (3) or JSON (2)`, {
    data: { contentType },
  });
}
