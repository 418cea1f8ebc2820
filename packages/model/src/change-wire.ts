/**
 * The binary form of change sets (`layer8.model.v1.ChangeSetWire`). Paths travel as field numbers plus keys,
 * values in a typed oneof so that zeros, false and empty strings stay explicit.
 */
import { type DescField, type DescMessage, isMessage, ScalarType } from '@bufbuild/protobuf';
import { l8error } from '@layer8/protocol';
import type { ChangeSet } from './change-set.ts';
import { binaryOf } from './codec.ts';
import { type Change, ChangeOp } from './diff.ts';
import { type ChangeSetWire, ChangeSetWireSchema, type ChangeWire } from './gen/layer8/model/v1/delta_pb.ts';
import { formatPath, type PathStep } from './path.ts';
import type { TypeRegistry } from './registry.ts';
import { resolvePath } from './resolve.ts';
import { fastWirePath, wirePathOf } from './wire-path.ts';

type WireValue = ChangeWire['value'];

/**
 * Encodes a change set compactly.
 * @throws L8_ERR_UNKNOWN_TYPE for an unregistered type; L8_ERR_PATH for a bad path;
 *   L8_ERR_INVALID_ARGUMENT for a value that does not fit its field or a whole list or map value (send
 *   elements by key instead).
 */
export function encodeChangeSet(registry: TypeRegistry, changeSet: ChangeSet): Uint8Array {
  return binaryOf(ChangeSetWireSchema).encode(changeSetToWire(registry, changeSet));
}

/**
 * The wire message of a change set (see {@link encodeChangeSet}). The type travels as its 4-byte type id;
 * with `embedded` (inside a notification set, which names the type and key) neither type nor key is written.
 */
export function changeSetToWire(registry: TypeRegistry, cs: ChangeSet, embedded = false): ChangeSetWire {
  const { desc, id } = registry.get(cs.type);
  const next = cs.toVersion === cs.fromVersion + 1;
  // The message create(ChangeSetWireSchema, …) makes, written out: create() costs more than the encoding.
  return {
    $typeName: 'layer8.model.v1.ChangeSetWire',
    model: embedded ? { case: undefined } : { case: 'typeId', value: id },
    key: embedded ? '' : cs.key,
    fromVersion: BigInt(cs.fromVersion),
    toVersion: next ? 0n : BigInt(cs.toVersion),
    changes: cs.changes.map((c) => changeToWire(desc, c)),
  };
}

function changeToWire(desc: DescMessage, change: Change): ChangeWire {
  const { fields, keys, last, keyed } = fastWirePath(desc, change.path) ?? wirePathOf(resolvePath(desc, change.path));
  if (change.op === ChangeOp.DELETE) return changeWire(fields, keys, true, { case: undefined });
  if (!keyed && (last.fieldKind === 'list' || last.fieldKind === 'map')) {
    throw badValue(change.path, 'a change set carries one value per change; set lists and maps by element');
  }
  return changeWire(fields, keys, false, valueToWire(last, change.value, change.path));
}

/** The message `create(ChangeWireSchema, …)` makes. */
function changeWire(fields: number[], keys: string[], del: boolean, value: WireValue): ChangeWire {
  return { $typeName: 'layer8.model.v1.ChangeWire', fields, keys, delete: del, value };
}

function valueToWire(field: DescField, value: unknown, path: string): WireValue {
  if (field.message !== undefined) {
    if (!isMessage(value, field.message)) throw badValue(path, `expected a ${field.message.typeName} message`);
    return { case: 'messageValue', value: binaryOf(field.message).encode(value) };
  }
  if (field.enum !== undefined) return { case: 'intValue', value: BigInt(asInteger(value, path)) };
  const type = field.scalar as ScalarType;
  const ok = CHECK[type](value);
  if (!ok) throw badValue(path, `expected a ${ScalarType[type].toLowerCase()} value`);
  return { case: CASE_OF[type], value: WIDEN[CASE_OF[type]](value) } as WireValue;
}

function asInteger(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw badValue(path, 'expected an enum number');
}

const isInt = (v: unknown) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
const isNum = (v: unknown) => typeof v === 'number';

const CHECK: Record<ScalarType, (v: unknown) => boolean> = {
  [ScalarType.DOUBLE]: isNum,
  [ScalarType.FLOAT]: isNum,
  [ScalarType.INT64]: isInt,
  [ScalarType.UINT64]: isInt,
  [ScalarType.INT32]: isInt,
  [ScalarType.FIXED64]: isInt,
  [ScalarType.FIXED32]: isInt,
  [ScalarType.BOOL]: (v) => typeof v === 'boolean',
  [ScalarType.STRING]: (v) => typeof v === 'string',
  [ScalarType.BYTES]: (v) => v instanceof Uint8Array,
  [ScalarType.UINT32]: isInt,
  [ScalarType.SFIXED32]: isInt,
  [ScalarType.SFIXED64]: isInt,
  [ScalarType.SINT32]: isInt,
  [ScalarType.SINT64]: isInt,
};

type ScalarCase = Exclude<WireValue['case'], 'messageValue' | undefined>;

const CASE_OF: Record<ScalarType, ScalarCase> = {
  [ScalarType.DOUBLE]: 'doubleValue',
  [ScalarType.FLOAT]: 'floatValue',
  [ScalarType.INT64]: 'intValue',
  [ScalarType.UINT64]: 'uintValue',
  [ScalarType.INT32]: 'intValue',
  [ScalarType.FIXED64]: 'uintValue',
  [ScalarType.FIXED32]: 'uintValue',
  [ScalarType.BOOL]: 'boolValue',
  [ScalarType.STRING]: 'stringValue',
  [ScalarType.BYTES]: 'bytesValue',
  [ScalarType.UINT32]: 'uintValue',
  [ScalarType.SFIXED32]: 'intValue',
  [ScalarType.SFIXED64]: 'intValue',
  [ScalarType.SINT32]: 'intValue',
  [ScalarType.SINT64]: 'intValue',
};

const WIDEN: Record<ScalarCase, (v: unknown) => unknown> = {
  boolValue: (v) => v,
  intValue: (v) => BigInt(v as number),
  uintValue: (v) => BigInt(v as number),
  doubleValue: (v) => v,
  floatValue: (v) => v,
  stringValue: (v) => v,
  bytesValue: (v) => v,
};

/**
 * Decodes a change set made by {@link encodeChangeSet}.
 * @throws L8_ERR_DECODE when the bytes or a change do not decode (`data.change` is its index);
 *   L8_ERR_UNKNOWN_TYPE when the type is not registered.
 */
export function decodeChangeSet(registry: TypeRegistry, bytes: Uint8Array): ChangeSet {
  let wire: ChangeSetWire;
  try {
    wire = binaryOf(ChangeSetWireSchema).decode(bytes) as typeof wire;
  } catch (err) {
    throw l8error('L8_ERR_DECODE', `change set does not decode: ${(err as Error).message}`, { cause: err });
  }
  return changeSetFromWire(registry, wire);
}

/**
 * The change set of a wire message (see {@link decodeChangeSet}); `outer` gives the type and key of an
 * embedded change set.
 */
export function changeSetFromWire(
  registry: TypeRegistry,
  wire: ChangeSetWire,
  outer?: { readonly type: string; readonly key: string },
): ChangeSet {
  const { desc } = entryOf(registry, wire, outer?.type);
  const changes = wire.changes.map((c, i) => changeFromWire(desc, c, i));
  const fromVersion = safeNumber(wire.fromVersion);
  return {
    type: desc.typeName,
    key: outer?.key ?? wire.key,
    fromVersion,
    toVersion: wire.toVersion === 0n ? fromVersion + 1 : safeNumber(wire.toVersion),
    changes,
  };
}

function entryOf(registry: TypeRegistry, wire: ChangeSetWire, outer: string | undefined) {
  if (wire.model.case === 'typeId') return registry.byId(wire.model.value);
  const name = wire.model.case === 'type' ? wire.model.value : outer;
  if (name === undefined) throw l8error('L8_ERR_DECODE', 'change set names no model type');
  return registry.get(name);
}

function changeFromWire(desc: DescMessage, wire: ChangeWire, index: number): Change {
  const { steps, last } = stepsOf(desc, wire, index);
  const path = formatPath(steps);
  if (wire.delete) return { path, op: ChangeOp.DELETE };
  return { path, op: ChangeOp.SET, value: valueFromWire(last, wire.value, index) };
}

function stepsOf(desc: DescMessage, wire: ChangeWire, index: number): { steps: PathStep[]; last: DescField } {
  const steps: PathStep[] = [];
  const keys = [...wire.keys];
  let current: DescMessage | undefined = desc;
  let last: DescField | undefined;
  for (const number of wire.fields) {
    last = current?.fields.find((f) => f.number === number);
    if (last === undefined) throw decodeError(index, `no field number ${number} on the path`);
    const keyed = (last.fieldKind === 'list' || last.fieldKind === 'map') && keys.length > 0;
    const key = keyed ? keys.shift() : undefined;
    steps.push(key === undefined ? { name: last.name } : { name: last.name, key });
    current = last.message;
  }
  if (last === undefined || keys.length > 0) throw decodeError(index, 'path has no fields or too many keys');
  return { steps, last };
}

function valueFromWire(field: DescField, value: WireValue, index: number): unknown {
  if (field.message !== undefined) {
    if (value.case !== 'messageValue') throw decodeError(index, `expected a ${field.message.typeName} value`);
    try {
      return binaryOf(field.message).decode(value.value);
    } catch (err) {
      throw decodeError(index, (err as Error).message);
    }
  }
  const expected = field.enum !== undefined ? 'intValue' : CASE_OF[field.scalar as ScalarType];
  if (value.case !== expected) throw decodeError(index, `expected ${expected}, found ${value.case ?? 'nothing'}`);
  return narrow(field, value.value);
}

/** 32-bit integers and enums come back as numbers, 64-bit ones stay bigint. */
function narrow(field: DescField, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  const wide = field.scalar !== undefined && SIXTY_FOUR.has(field.scalar);
  return wide ? value : Number(value);
}

const SIXTY_FOUR: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
  ScalarType.SINT64,
]);

function safeNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw l8error('L8_ERR_DECODE', `version ${v} is beyond 2^53`, { data: { version: String(v) } });
  }
  return Number(v);
}

function decodeError(change: number, reason: string) {
  return l8error('L8_ERR_DECODE', `change ${change} does not decode: ${reason}`, { data: { change, reason } });
}

function badValue(path: string, reason: string) {
  return l8error('L8_ERR_INVALID_ARGUMENT', `path "${path}": ${reason}`, { data: { path } });
}
