/** Get, set and delete by property path, creating missing parents on set. */
import { create, type DescField, type DescMessage, isMessage, type Message } from '@bufbuild/protobuf';
import {
  type ReflectList,
  type ReflectMap,
  type ReflectMessage,
  reflect,
  scalarZeroValue,
} from '@bufbuild/protobuf/reflect';
import { isWrapperDesc } from '@bufbuild/protobuf/wkt';
import { l8error } from '@layer8/protocol';
import { mapKeyOf, type ResolvedPath, type ResolvedStep, resolvePath, type StepKey } from './resolve.ts';

/** A path as text, or already bound with `resolvePath`. */
export type PathLike = string | ResolvedPath;

function bind(desc: DescMessage, path: PathLike): ResolvedPath {
  return typeof path === 'string' ? resolvePath(desc, path) : path;
}

/**
 * The value at `path`: a scalar (64-bit integers as bigint), a message, an array for a whole list, a record
 * for a whole map. Undefined when something on the way is absent: an unset message or optional field, a
 * oneof member that is not selected, a missing map key or a list index out of range. Nothing is created.
 * @throws L8_ERR_PATH when the path does not fit the model.
 */
export function getPath(desc: DescMessage, message: Message, path: PathLike): unknown {
  const bound = bind(desc, path);
  const parent = walk(reflect(desc, message as never, false), bound, false);
  const last = bound.steps.at(-1) as ResolvedStep;
  return parent === undefined ? undefined : readStep(parent, last);
}

/**
 * Sets the value at `path`, creating missing parent messages, map entries and list elements (lists are
 * padded with zero values). Message values are stored as given (clone them to keep them apart).
 * @throws L8_ERR_PATH when the path does not fit the model; L8_ERR_INVALID_ARGUMENT when the value does
 *   not fit the field.
 */
export function setPath(desc: DescMessage, message: Message, path: PathLike, value: unknown): void {
  const full = bind(desc, path);
  const bound = wrapperValue(full);
  const last = bound.steps.at(-1) as ResolvedStep;
  const v = bound === full ? value : create(last.field.message as DescMessage, { value } as never);
  const parent = walk(reflect(desc, message as never), bound, true) as ReflectMessage;
  guard(bound, () => writeStep(parent, last, v));
}

/**
 * `x.value` of a `google.protobuf.*Value` field `x`: the message holds such a field unwrapped (the value
 * itself), and reflection hands out a detached wrapper for it, so a write through `value` would be lost.
 * The path is cut to `x`, whose value is then the wrapped one.
 */
function wrapperValue(path: ResolvedPath): ResolvedPath {
  const owner = path.steps.at(-2);
  const last = path.steps.at(-1);
  const wrapper = owner?.field.fieldKind === 'message' && owner.key === undefined && isWrapperDesc(owner.field.message);
  if (!wrapper || last?.field.name !== 'value') return path;
  return { ...path, steps: path.steps.slice(0, -1) };
}

/**
 * Deletes the value at `path`: clears a field (scalars with implicit presence go back to zero), removes a
 * map entry, or removes a list element (later elements move down). Deleting something absent is a no-op.
 * @throws L8_ERR_PATH when the path does not fit the model.
 */
export function deletePath(desc: DescMessage, message: Message, path: PathLike): void {
  const bound = bind(desc, path);
  const cut = wrapperValue(bound);
  if (cut !== bound) {
    // the value of a wrapper goes back to zero; the wrapper stays set
    const field = (cut.steps.at(-1) as ResolvedStep).field as DescField & { message: DescMessage };
    if (getPath(desc, message, cut) !== undefined) setPath(desc, message, cut, create(field.message));
    return;
  }
  const parent = walk(reflect(desc, message as never, false), bound, false);
  if (parent !== undefined) removeStep(parent, bound.steps.at(-1) as ResolvedStep);
}

/** Follows every step but the last; creates what is missing when `make`, else returns undefined. */
function walk(root: ReflectMessage, path: ResolvedPath, make: boolean): ReflectMessage | undefined {
  let r: ReflectMessage | undefined = root;
  for (const step of path.steps.slice(0, -1)) {
    r = enter(r, step, make);
    if (r === undefined) return undefined;
  }
  return r;
}

function enter(r: ReflectMessage, { field, key }: ResolvedStep, make: boolean): ReflectMessage | undefined {
  if (field.fieldKind === 'message') {
    if (!r.isSet(field) && !make) return undefined;
    if (!r.isSet(field)) r.set(field, reflect(field.message));
    return r.get(field) as ReflectMessage;
  }
  if (field.fieldKind === 'list') {
    const list = r.get(field) as ReflectList;
    if ((key as number) >= list.size && !make) return undefined;
    pad(list, field, (key as number) + 1);
    return list.get(key as number) as ReflectMessage;
  }
  const map = r.get(field) as ReflectMap;
  if (!map.has(key) && !make) return undefined;
  if (!map.has(key)) map.set(key, reflect((field as DescField & { message: DescMessage }).message));
  return map.get(key) as ReflectMessage;
}

function readStep(r: ReflectMessage, { field, key }: ResolvedStep): unknown {
  if (key !== undefined) return unwrap(readKeyed(r, field, key));
  if (field.fieldKind === 'list' || field.fieldKind === 'map') return rawOf(r, field);
  if (!r.isSet(field) && (field.fieldKind === 'message' || field.presence !== IMPLICIT)) return undefined;
  return unwrap(r.get(field));
}

function readKeyed(r: ReflectMessage, field: DescField, key: StepKey): unknown {
  if (field.fieldKind === 'list') return (r.get(field) as ReflectList).get(key as number);
  return (r.get(field) as ReflectMap).get(key);
}

function writeStep(r: ReflectMessage, { field, key }: ResolvedStep, value: unknown): void {
  if (field.fieldKind === 'list') {
    const list = r.get(field) as ReflectList;
    if (key === undefined) return replaceList(list, field, value);
    pad(list, field, key as number);
    const item = wrap(field, value);
    if ((key as number) < list.size) list.set(key as number, item);
    else list.add(item);
  } else if (field.fieldKind === 'map') {
    const map = r.get(field) as ReflectMap;
    if (key === undefined) return replaceMap(map, field, value);
    map.set(key, wrap(field, value));
  } else r.set(field, wrap(field, value));
}

function removeStep(r: ReflectMessage, { field, key }: ResolvedStep): void {
  if (key === undefined) {
    if (r.isSet(field)) r.clear(field);
  } else if (field.fieldKind === 'list') {
    (rawOf(r, field) as unknown[]).splice(key as number, 1);
  } else (r.get(field) as ReflectMap).delete(key);
}

function replaceList(list: ReflectList, field: DescField, value: unknown): void {
  if (!Array.isArray(value)) throw new TypeError(`expected an array for list field ${field.name}`);
  list.clear();
  for (const item of value) list.add(wrap(field, item));
}

function replaceMap(map: ReflectMap, field: DescField & { fieldKind: 'map' }, value: unknown): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`expected a record for map ${field.name}`);
  const entries =
    value instanceof Map ? [...value] : Object.entries(value).map(([k, v]) => [mapKeyOf(field.mapKey, k) ?? k, v]);
  map.clear();
  for (const [k, v] of entries) map.set(k, wrap(field, v));
}

/** Appends zero values until the list holds `size` elements. */
function pad(list: ReflectList, field: DescField, size: number): void {
  while (list.size < size) list.add(zeroOf(field));
}

function zeroOf(field: DescField): unknown {
  if (field.message !== undefined) return reflect(field.message);
  if (field.scalar !== undefined) return scalarZeroValue(field.scalar, false);
  return 0;
}

/** Wraps a message value for the reflection API, checking its type. */
function wrap(field: DescField, value: unknown): unknown {
  const desc = field.message;
  if (desc === undefined) return value;
  if (!isMessage(value, desc)) throw new TypeError(`expected a ${desc.typeName} message for ${field.name}`);
  return reflect(desc, value as never);
}

function unwrap(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'message' in value && 'desc' in value
    ? (value as ReflectMessage).message
    : value;
}

function rawOf(r: ReflectMessage, field: DescField): unknown {
  return (r.message as unknown as Record<string, unknown>)[field.localName];
}

/** Turns a validation failure of the reflection API into L8_ERR_INVALID_ARGUMENT. */
function guard(path: ResolvedPath, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `path "${path.text}": ${(err as Error).message}`, {
      cause: err,
      data: { path: path.text },
    });
  }
}

/** `FeatureSet.FieldPresence.IMPLICIT`: proto3 scalars without `optional`. */
const IMPLICIT = 2;
