/** Arbitrary messages of any proto3 model, generated from its descriptor (fast-check). */
import { create, type DescField, type DescMessage, type Message, ScalarType } from '@bufbuild/protobuf';
import fc from 'fast-check';

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const someText = ['', 'a', 'x y', 'kéy', '__proto__', '\uFEFFbom', 'a'.repeat(130), 'é'.repeat(70), 'a<b>', 'c\\d'];

/** Any text, unpaired surrogates included (not valid UTF-8: protobuf-es refuses to clone it). */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...someText),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Well-formed text only. */
export const wellFormedText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...someText),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);

/** Options of {@link messageArb}. */
export interface MessageArbOptions {
  /** Nesting depth of message fields (default 2): lists and maps are empty at the last level. */
  readonly depth?: number;
  /** Strings and string map keys (default {@link anyText}). */
  readonly text?: fc.Arbitrary<string>;
}

/** Values of a scalar type, zeros and extremes included. */
export function scalarArb(type: ScalarType, text: fc.Arbitrary<string> = anyText): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.DOUBLE:
      return fc.oneof(fc.constantFrom(0, -0), fc.double());
    case ScalarType.FLOAT:
      return fc.oneof(fc.constantFrom(0, -0), fc.float());
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return text;
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 6 });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(fc.constantFrom(0n, -1n, 2n ** 53n, -(2n ** 53n) - 1n), int64);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.constantFrom(0n, 2n ** 53n), uint64);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.constant(0), uint32);
    default:
      return fc.oneof(fc.constantFrom(0, -1), int32);
  }
}

/**
 * Arbitrary messages of `desc`: every field set, unset or zero; a `google.protobuf.*Value` field holds its
 * bare value, as protobuf-es keeps it.
 */
export function messageArb(desc: DescMessage, options: MessageArbOptions = {}): fc.Arbitrary<Message> {
  const depth = options.depth ?? 2;
  const text = options.text ?? anyText;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const member of desc.members) {
    if (member.kind === 'oneof') {
      const cases = member.fields.map((f) =>
        fieldArb(f, depth, text).map((value) => ({ case: f.localName, value }) as { case: string; value: unknown }),
      );
      parts[member.localName] = fc.oneof(fc.constant({ case: undefined }), ...cases);
    } else parts[member.localName] = fieldArb(member, depth, text);
  }
  return fc.record(parts, { requiredKeys: [] }).map((init) => create(desc, init as never));
}

function fieldArb(field: DescField, depth: number, text: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const element = (kind: string, scalar: ScalarType | undefined, message: DescMessage | undefined) => {
    if (kind === 'enum') return fc.oneof(fc.constantFrom(0, 1, 2), int32);
    if (kind !== 'message') return scalarArb(scalar as ScalarType, text);
    if (depth > 0) return messageArb(message as DescMessage, { depth: depth - 1, text });
    return fc.constant(null).map(() => create(message as DescMessage));
  };
  const few = { maxLength: depth > 0 ? 3 : 0 };
  switch (field.fieldKind) {
    case 'list':
      return fc.array(element(field.listKind, field.scalar, field.message), few);
    case 'map': {
      const key = scalarArb(field.mapKey, text).map(String);
      const entry = fc.tuple(key, element(field.mapKind, field.scalar, field.message));
      return fc.array(entry, few).map((entries) => Object.fromEntries(entries));
    }
    case 'message':
      if (isUnwrapped(field)) return scalarArb((field.message.fields[0] as { scalar: ScalarType }).scalar, text);
      return element('message', undefined, field.message);
    case 'enum':
      return element('enum', undefined, undefined);
    default:
      return element('scalar', field.scalar, undefined);
  }
}

function isUnwrapped(field: DescField & { fieldKind: 'message' }): boolean {
  return (
    field.oneof === undefined &&
    /^google\.protobuf\.(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value$/.test(field.message.typeName)
  );
}
