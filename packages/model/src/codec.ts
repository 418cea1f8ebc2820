/** Binary and JSON codecs of model messages, and the payload content type (protobuf or JSON). */
import {
  type DescMessage,
  fromBinary,
  fromJsonString,
  isMessage,
  type Message,
  type MessageShape,
  toBinary,
  toJsonString,
} from '@bufbuild/protobuf';
import { ContentType, l8error } from '@layer8/protocol';
import { type CompiledCodec, compileCodec, whyNotCompiled } from './compiled-codec.ts';

/** The payload content types a model value may travel as. */
export type PayloadContentType = typeof ContentType.PROTOBUF | typeof ContentType.JSON;

/**
 * How a codec does protobuf binary: `compiled` (code generated per type, see compiled-codec.ts) or `bufbuild`
 * (`toBinary`/`fromBinary` of `@bufbuild/protobuf`). Both give the same bytes and the same messages.
 */
export type CodecEngine = 'compiled' | 'bufbuild';

/** Options of {@link modelCodec}. */
export interface ModelCodecOptions {
  /** `compiled` (default) where the type allows it, else `bufbuild`; `bufbuild` forces it. */
  readonly engine?: CodecEngine;
}

/**
 * Encodes and decodes messages of one model type. It is a `PayloadCodec` of `@layer8/vnic`: pass it as
 * the `codec` option of a send and to `Incoming.decode` to send the model over the overlay.
 */
export interface ModelCodec<T extends Message = Message> {
  /** The protobuf binary engine actually used. */
  readonly engine: CodecEngine;
  /** The engine, and why the type uses `bufbuild` when it does (e.g. `layer8.x.V1 is not proto3`). */
  readonly description: string;
  /**
   * Encodes `message` as protobuf (default) or canonical protobuf JSON (UTF-8).
   * @throws L8_ERR_INVALID_ARGUMENT when `message` is not of this type, or the content type is neither.
   */
  encode(message: T, contentType?: number): Uint8Array;
  /**
   * Decodes bytes of the content type.
   * @throws L8_ERR_DECODE with `data.type`, `data.contentType` and the decoder's reason.
   */
  decode(bytes: Uint8Array, contentType?: number): T;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Protobuf binary of one type. */
export interface Binary {
  encode(message: Message): Uint8Array;
  /** Throws the decoder's error on bad bytes. */
  decode(bytes: Uint8Array): Message;
}

/**
 * The codec of one message descriptor. Protobuf binary uses the compiled engine unless the type (or a type it
 * reaches) is not proto3 or uses a field form it does not reproduce; the reason is then in `description`.
 */
export function modelCodec<Desc extends DescMessage>(
  desc: Desc,
  options: ModelCodecOptions = {},
): ModelCodec<MessageShape<Desc>> {
  const why = options.engine === 'bufbuild' ? 'requested' : whyNotCompiled(desc);
  const binary = why === undefined ? compiledBinary(desc) : bufbuildBinary(desc);
  return {
    engine: why === undefined ? 'compiled' : 'bufbuild',
    description:
      why === undefined
        ? `compiled protobuf codec of ${desc.typeName} (unknown fields and invalid values go through @bufbuild/protobuf)`
        : `@bufbuild/protobuf codec of ${desc.typeName} (${why})`,
    encode: (message, contentType = ContentType.PROTOBUF) => encodeMessage(desc, binary, message, contentType),
    decode: (bytes, contentType = ContentType.PROTOBUF) =>
      decodeMessage(desc, binary, bytes, contentType) as MessageShape<Desc>,
  };
}

/** The binary engine of every type asked for so far (see {@link binaryOf}). */
const binaries = new WeakMap<DescMessage, Binary>();

/**
 * The protobuf binary encoder and decoder of `desc`, as `modelCodec` picks it (compiled where the type
 * allows, bufbuild otherwise), made once per type: the same bytes as `toBinary`, the same messages (or
 * errors) as `fromBinary`.
 */
export function binaryOf(desc: DescMessage): Binary {
  let binary = binaries.get(desc);
  if (binary === undefined) {
    binary = whyNotCompiled(desc) === undefined ? compiledBinary(desc) : bufbuildBinary(desc);
    binaries.set(desc, binary);
  }
  return binary;
}

function bufbuildBinary(desc: DescMessage): Binary {
  return { encode: (message) => toBinary(desc, message), decode: (bytes) => fromBinary(desc, bytes) };
}

/**
 * The compiled engine, compiled on first use. Whatever it does not take (it throws) goes to bufbuild, which
 * then gives the same result or its own error: unknown fields, invalid values, bytes it does not accept.
 */
function compiledBinary(desc: DescMessage): Binary {
  let compiled: CompiledCodec | undefined;
  return {
    encode(message) {
      try {
        compiled ??= compileCodec(desc) as CompiledCodec;
        return compiled.encode(message);
      } catch {
        return toBinary(desc, message);
      }
    },
    decode(bytes) {
      try {
        compiled ??= compileCodec(desc) as CompiledCodec;
        return compiled.decode(bytes);
      } catch {
        return fromBinary(desc, bytes);
      }
    },
  };
}

function encodeMessage(desc: DescMessage, binary: Binary, message: Message, contentType: number): Uint8Array {
  if (!isMessage(message, desc)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `value is not a ${desc.typeName} message`, {
      data: { type: desc.typeName },
    });
  }
  if (contentType === ContentType.PROTOBUF) return binary.encode(message);
  if (contentType === ContentType.JSON) return utf8.encode(toJsonString(desc, message));
  throw badContentType(contentType);
}

function decodeMessage(desc: DescMessage, binary: Binary, bytes: Uint8Array, contentType: number): Message {
  if (contentType !== ContentType.PROTOBUF && contentType !== ContentType.JSON) throw badContentType(contentType);
  try {
    return contentType === ContentType.PROTOBUF ? binary.decode(bytes) : fromJsonString(desc, strictUtf8.decode(bytes));
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
