import { create, type DescField, type DescMessage, type Message, ScalarType } from '@bufbuild/protobuf';
import { isWrapperDesc } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';

/** Random values of a scalar type, across its whole range (specials of floats included). */
export function scalarArb(t: ScalarType): fc.Arbitrary<unknown> {
  switch (t) {
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float().map(Math.fround);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return fc.string({ maxLength: 8 });
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 8 });
  }
}

/** Well-known messages with a JSON form of their own: valid values only (the JSON mapping refuses others). */
const WELL_KNOWN: Record<string, () => fc.Arbitrary<Record<string, unknown>>> = {
  'google.protobuf.Timestamp': () =>
    fc.record({
      seconds: fc.bigInt({ min: -62135596800n, max: 253402300799n }),
      nanos: fc.integer({ min: 0, max: 999_999_999 }),
    }),
  'google.protobuf.Duration': () =>
    fc.bigInt({ min: -315576000000n, max: 315576000000n }).map((seconds) => ({ seconds, nanos: 0 })),
  'google.protobuf.FieldMask': () =>
    fc.record({ paths: fc.array(fc.constantFrom('a', 'b_c', 'd.e'), { maxLength: 3 }) }),
  'google.protobuf.Any': () => fc.constant({}),
  'google.protobuf.Struct': () => fc.constant({ fields: { a: { kind: { case: 'numberValue', value: 1 } } } }),
  'google.protobuf.Value': () =>
    fc.constantFrom({ kind: { case: 'stringValue', value: 's' } }, { kind: { case: 'boolValue', value: true } }),
  'google.protobuf.ListValue': () => fc.constant({ values: [{ kind: { case: 'stringValue', value: 's' } }] }),
};

/**
 * Random messages of `desc`: each field set or not, lists and maps of up to 3 entries, nested messages
 * down to `depth` (recursive models end there).
 */
export function messageArb(desc: DescMessage, depth = 2): fc.Arbitrary<Message> {
  return initArb(desc, depth).map((init) => create(desc, init as never));
}

function initArb(desc: DescMessage, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const special = WELL_KNOWN[desc.typeName];
  if (special !== undefined) return special();
  const plain = desc.fields.filter((f) => f.oneof === undefined && (depth > 0 || !holdsMessages(f)));
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of plain) parts[f.localName] = fieldArb(f, depth);
  const oneofs = desc.oneofs.map((o) => {
    const cases = o.fields.filter((f) => depth > 0 || !holdsMessages(f));
    const arbs = cases.map((f) => valueArb(f, depth).map((value) => ({ case: f.localName, value })));
    return [o.localName, arbs.length === 0 ? fc.constant(undefined) : fc.oneof(...arbs)] as const;
  });
  for (const [name, arb] of oneofs) parts[name] = arb;
  return fc.record(parts, { requiredKeys: [] });
}

/** Whether a field holds messages (a wrapper's bare value does not count). */
function holdsMessages(f: DescField): boolean {
  const kind = f.fieldKind === 'list' ? f.listKind : f.fieldKind === 'map' ? f.mapKind : f.fieldKind;
  return kind === 'message' && !isWrapperDesc(f.message as DescMessage);
}

function fieldArb(f: DescField, depth: number): fc.Arbitrary<unknown> {
  if (f.fieldKind === 'list') return fc.array(valueArb(f, depth), { maxLength: 3 });
  if (f.fieldKind === 'map') {
    const key = scalarArb(f.mapKey).map((k) => String(k));
    return fc.dictionary(key, valueArb(f, depth), { maxKeys: 3 });
  }
  return valueArb(f, depth);
}

/** A value of the field (an element for a list or map). */
function valueArb(f: DescField, depth: number): fc.Arbitrary<unknown> {
  const kind = f.fieldKind === 'list' ? f.listKind : f.fieldKind === 'map' ? f.mapKind : f.fieldKind;
  if (kind === 'enum') return fc.constantFrom(...(f.enum?.values.map((v) => v.number) ?? [0]));
  const message = f.message as DescMessage;
  // a wrapper field holds the bare value (`string | undefined` for a StringValue)
  if (kind === 'message' && isWrapperDesc(message)) return scalarArb(message.fields[0]?.scalar as ScalarType);
  if (kind === 'message') return messageArb(message, depth - 1);
  return scalarArb(f.scalar as ScalarType);
}
