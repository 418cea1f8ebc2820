import {
  type DescField,
  type DescMessage,
  fromJson,
  type JsonValue,
  type Message,
  ScalarType,
  toJson,
} from '@bufbuild/protobuf';
import { l8error } from '@layer8/protocol';
import { HttpError } from './http-errors.ts';
import type { RouteModel } from './route.ts';

/** Scalar types whose canonical JSON is a string because a JSON number cannot hold every value. */
const WIDE: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);
const WIDE_WRAPPERS: ReadonlySet<string> = new Set(['google.protobuf.Int64Value', 'google.protobuf.UInt64Value']);

/**
 * A request body as a message of the route's model (protobuf's canonical JSON mapping: JSON or proto
 * field names, int64 as strings or safe numbers, enums as names or numbers, bytes as base64).
 * @throws HttpError 400 L8_ERR_INVALID_ARGUMENT naming the field that does not fit
 */
export function messageFromJson(model: RouteModel, body: unknown): Message {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(`the body must be a JSON object: a ${model.desc.typeName}`);
  }
  let unsafe: string | undefined;
  try {
    unsafe = unsafeNumber(model.desc, body as Record<string, unknown>, '');
  } catch {
    throw invalid('the body is nested too deeply');
  }
  if (unsafe !== undefined) {
    throw invalid(`${unsafe} is a 64-bit integer beyond 2^53: send it as a JSON string`, unsafe);
  }
  try {
    return fromJson(model.desc, body as JsonValue, { registry: model.files, ignoreUnknownFields: false });
  } catch (err) {
    const field = /field ([\w.]+)/.exec((err as Error).message)?.[1];
    throw invalid(`the body is not a ${model.desc.typeName}: ${(err as Error).message}`, field);
  }
}

/** A message of the route's model as canonical JSON, every field present (defaults included). */
export function messageToJson(model: RouteModel, message: Message): JsonValue {
  return toJson(model.desc, message, { registry: model.files, alwaysEmitImplicit: true });
}

function invalid(message: string, field?: string): HttpError {
  return new HttpError(
    400,
    l8error('L8_ERR_INVALID_ARGUMENT', message, field === undefined ? {} : { data: { field } }),
  );
}

/**
 * The path of the first 64-bit integer field given as a JSON number that is not a safe integer (its value
 * was already rounded by JSON parsing), else undefined. Anything else is left to `fromJson` to judge.
 */
function unsafeNumber(desc: DescMessage, obj: Record<string, unknown>, at: string): string | undefined {
  for (const [name, value] of Object.entries(obj)) {
    const field = desc.fields.find((f) => f.jsonName === name || f.name === name);
    if (field === undefined || value === null || value === undefined) continue;
    const found = unsafeIn(field, value, `${at}${name}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

function unsafeIn(field: DescField, value: unknown, path: string): string | undefined {
  if (field.fieldKind === 'list' && Array.isArray(value)) {
    return value.map((v, i) => unsafeOne(field, v, `${path}[${i}]`)).find((p) => p !== undefined);
  }
  if (field.fieldKind === 'map' && typeof value === 'object') {
    const entries = Object.entries(value as object);
    return entries.map(([k, v]) => unsafeOne(field, v, `${path}.${k}`)).find((p) => p !== undefined);
  }
  return unsafeOne(field, value, path);
}

/** Checks one value of a field (an element of a list or map, or the singular value). */
function unsafeOne(field: DescField, value: unknown, path: string): string | undefined {
  const { scalar, message } = elementOf(field);
  if ((scalar !== undefined && WIDE.has(scalar)) || (message !== undefined && WIDE_WRAPPERS.has(message.typeName))) {
    return typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) ? path : undefined;
  }
  if (message === undefined || message.typeName.startsWith('google.protobuf.')) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return unsafeNumber(message, value as Record<string, unknown>, `${path}.`);
}

/** The scalar type or message of a field's values (its elements for a list or map). */
function elementOf(field: DescField): { scalar?: ScalarType; message?: DescMessage } {
  switch (field.fieldKind) {
    case 'scalar':
      return { scalar: field.scalar };
    case 'message':
      return { message: field.message };
    case 'list':
      return field.listKind === 'scalar'
        ? { scalar: field.scalar }
        : field.listKind === 'message'
          ? { message: field.message }
          : {};
    case 'map':
      return field.mapKind === 'scalar'
        ? { scalar: field.scalar }
        : field.mapKind === 'message'
          ? { message: field.message }
          : {};
    default:
      return {};
  }
}
