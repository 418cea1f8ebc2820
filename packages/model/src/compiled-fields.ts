/**
 * Source fragments shared by the compiled differ (compiled-diff.ts) and cloner (compiled-clone.ts): how a
 * field of a proto3 message is read, tested for presence, defaulted and checked, exactly as `@bufbuild/protobuf`'s
 * reflection does (`unsafeIsSet`, `ReflectMessage.get`, `checkField`). Helper names refer to compiled-runtime.ts.
 */
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';

/** `FeatureSet.FieldPresence.IMPLICIT`. */
export const IMPLICIT = 2;
const WRAPPERS = /^google\.protobuf\.(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value$/;

/** A JavaScript string literal. */
export const q = (s: string): string => JSON.stringify(s);

/** How a singular scalar or enum value is handled in generated code. */
export interface ValueSrc {
  /** The zero value, as an expression. */
  readonly zero: string;
  /** The implicit-presence "is set" test of `v` (reflection's `!isScalarZeroValue`). */
  isSet(v: string): string;
  /** The value reflection reads for `v` (the zero when undefined). */
  get(v: string): string;
  /** The runtime helper that checks a value and returns its copy, or bails. */
  readonly check: string;
  /** True for float and double, where `===` is not enough to call two values the same. */
  readonly float: boolean;
}

interface ScalarSrc {
  readonly zero: string;
  readonly isSet: (v: string) => string;
  readonly check: string;
  /** Map key: the reflective text of a key, and the check of a key kept as it is. */
  readonly norm: string;
  readonly key: string;
}

const loose = (v: string) => `${v}!=0`;
const notZeroFloat = (v: string) => `!Object.is(${v},0)`;
const signed32: ScalarSrc = { zero: '0', isSet: loose, check: 'ckI32', norm: 'nInt', key: 'kI32' };
const unsigned32: ScalarSrc = { zero: '0', isSet: loose, check: 'ckU32', norm: 'nInt', key: 'kU32' };
const signed64: ScalarSrc = { zero: '0n', isSet: loose, check: 'ckI64', norm: 'nI64', key: 'kI64' };
const unsigned64: ScalarSrc = { zero: '0n', isSet: loose, check: 'ckU64', norm: 'nU64', key: 'kU64' };
const noKey = { norm: 'fail', key: 'fail' };

const scalars: Record<ScalarType, ScalarSrc> = {
  [ScalarType.DOUBLE]: { zero: '0', isSet: notZeroFloat, check: 'ckNum', ...noKey },
  [ScalarType.FLOAT]: { zero: '0', isSet: notZeroFloat, check: 'ckFloat', ...noKey },
  [ScalarType.INT64]: signed64,
  [ScalarType.UINT64]: unsigned64,
  [ScalarType.INT32]: signed32,
  [ScalarType.FIXED64]: unsigned64,
  [ScalarType.FIXED32]: unsigned32,
  [ScalarType.BOOL]: { zero: 'false', isSet: (v) => `${v}!==false`, check: 'ckBool', norm: 'nId', key: 'kBool' },
  [ScalarType.STRING]: { zero: '""', isSet: (v) => `${v}!==""`, check: 'ckStr', norm: 'nId', key: 'kStr' },
  [ScalarType.BYTES]: {
    zero: 'EMPTY_BYTES',
    isSet: (v) => `!(${v} instanceof Uint8Array&&!${v}.byteLength)`,
    check: 'ckBytes',
    ...noKey,
  },
  [ScalarType.UINT32]: unsigned32,
  [ScalarType.SFIXED32]: signed32,
  [ScalarType.SFIXED64]: signed64,
  [ScalarType.SINT32]: signed32,
  [ScalarType.SINT64]: signed64,
};

/** The handling of values of a scalar type. */
export function scalarSrc(type: ScalarType): ValueSrc {
  const s = scalars[type];
  const float = type === ScalarType.DOUBLE || type === ScalarType.FLOAT;
  return { zero: s.zero, isSet: s.isSet, get: (v) => `(${v}===undefined?${s.zero}:${v})`, check: s.check, float };
}

/** The handling of a singular scalar or enum field's values (enums default to their first value). */
export function valueSrc(field: DescField): ValueSrc {
  if (field.fieldKind === 'scalar') return scalarSrc(field.scalar);
  if (field.fieldKind !== 'enum') throw new Error(`${field.name} is no scalar or enum field`);
  const first = String(field.enum.values[0]?.number ?? 0);
  return { zero: first, isSet: (v) => `${v}!==${first}`, get: (v) => `(${v}??${first})`, check: 'ckI32', float: false };
}

/** The helper names of a map's key type: reflective key text (diff) and key check (clone). */
export function mapKeySrc(type: ScalarType): { readonly norm: string; readonly key: string } {
  return scalars[type];
}

/**
 * The generated function that checks and copies one list element or map value: the clone of its message
 * type, or the scalar check (enums are int32).
 */
export function elementCheck(field: DescField, index: ReadonlyMap<DescMessage, number>): string {
  if (field.fieldKind === 'list' || field.fieldKind === 'map') {
    const kind = field.fieldKind === 'list' ? field.listKind : field.mapKind;
    if (kind === 'message') return `c${index.get(field.message as DescMessage)}`;
    if (kind === 'enum') return 'ckI32';
    return scalars[field.scalar as ScalarType].check;
  }
  throw new Error(`${field.name} is no list or map field`);
}

/** True for a singular message field of a `google.protobuf.*Value` type: its value is held unwrapped. */
export function isUnwrapped(field: DescField): boolean {
  if (field.fieldKind !== 'message' || field.oneof !== undefined) return false;
  const inner = field.message.fields[0];
  return (
    WRAPPERS.test(field.message.typeName) &&
    inner?.fieldKind === 'scalar' &&
    inner.name === 'value' &&
    inner.number === 1
  );
}

/** The handling of the value an unwrapped wrapper field holds. */
export function wrappedSrc(field: DescField & { fieldKind: 'message' }): ValueSrc {
  return scalarSrc((field.message.fields[0] as DescField & { fieldKind: 'scalar' }).scalar);
}

/** `m[name]` of a field or oneof. */
export function prop(m: string, localName: string): string {
  return `${m}[${q(localName)}]`;
}

/** True when the field's presence is tracked by the property being there (optional scalars, messages). */
export function isExplicit(field: DescField): boolean {
  return field.fieldKind === 'message' || field.presence !== IMPLICIT;
}
