import { type DescEnum, type DescField, type JsonValue, type Message, ScalarType, toJson } from '@bufbuild/protobuf';
import { type ChangeSet, resolvePath } from '@layer8/model';
import type { RouteModel } from './route.ts';
import type { ChangeJson } from './ws-protocol.ts';

/** Scalars whose canonical JSON is a string. */
const WIDE: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/**
 * The changes of a change set in canonical JSON: each path as the model writes it, each value as protobuf's
 * JSON mapping has it (int64 as strings, enums as names, bytes as base64, messages as objects).
 * @throws L8_ERR_PATH when a path does not fit the route's model
 */
export function changesToJson(model: RouteModel, cs: ChangeSet): ChangeJson[] {
  return cs.changes.map((c) => {
    if (c.op === 'delete' || c.value === undefined) return { path: c.path, op: c.op };
    const steps = resolvePath(model.desc, c.path).steps;
    const last = steps[steps.length - 1] as (typeof steps)[number];
    return { path: c.path, op: c.op, value: valueJson(model, last.field, last.key !== undefined, c.value) };
  });
}

/** A field's value: one element when the path had a key (or the field is singular), else the whole list or map. */
function valueJson(model: RouteModel, field: DescField, element: boolean, value: unknown): JsonValue {
  if (!element && field.fieldKind === 'list') return (value as unknown[]).map((v) => elementJson(model, field, v));
  if (!element && field.fieldKind === 'map') {
    const entries = value instanceof Map ? [...value] : Object.entries(value as object);
    return Object.fromEntries(entries.map(([k, v]) => [String(k), elementJson(model, field, v)]));
  }
  return elementJson(model, field, value);
}

function elementJson(model: RouteModel, field: DescField, value: unknown): JsonValue {
  const message = messageOf(field);
  if (message !== undefined) return toJson(message, value as Message, { registry: model.files });
  const e = enumOf(field);
  if (e !== undefined) return e.values.find((v) => v.number === value)?.name ?? (value as number);
  return scalarJson(scalarOf(field), value);
}

function scalarJson(scalar: ScalarType | undefined, value: unknown): JsonValue {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint' || (scalar !== undefined && WIDE.has(scalar))) return String(value);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return value as JsonValue;
}

function messageOf(f: DescField) {
  if (f.fieldKind === 'message') return f.message;
  if (f.fieldKind === 'list' && f.listKind === 'message') return f.message;
  if (f.fieldKind === 'map' && f.mapKind === 'message') return f.message;
  return undefined;
}

function enumOf(f: DescField): DescEnum | undefined {
  if (f.fieldKind === 'enum') return f.enum;
  if (f.fieldKind === 'list' && f.listKind === 'enum') return f.enum;
  if (f.fieldKind === 'map' && f.mapKind === 'enum') return f.enum;
  return undefined;
}

function scalarOf(f: DescField): ScalarType | undefined {
  if (f.fieldKind === 'scalar') return f.scalar;
  if (f.fieldKind === 'list' && f.listKind === 'scalar') return f.scalar;
  if (f.fieldKind === 'map' && f.mapKind === 'scalar') return f.scalar;
  return undefined;
}
