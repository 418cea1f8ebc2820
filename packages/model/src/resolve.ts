/** Binds path steps to the fields of a model, converting keys to typed map keys and list indexes. */
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { l8error } from '@layer8/protocol';
import { formatPath, type PathStep, parsePath } from './path.ts';

/** A map key or list index in its typed form. */
export type StepKey = string | number | bigint | boolean;

/** A path step bound to a field; `key` is typed (list index, map key) when the step had one. */
export interface ResolvedStep {
  readonly field: DescField;
  readonly key?: StepKey;
}

/** A path bound to a model type. `rootKey` is the key given to the root step, if the path had one. */
export interface ResolvedPath {
  readonly desc: DescMessage;
  readonly text: string;
  readonly steps: readonly ResolvedStep[];
  readonly rootKey?: string;
}

/** Options of {@link resolvePath}. */
export interface ResolveOptions {
  /** Allows list and map steps without a key before the last step ("any element"), as L8QL does. */
  readonly anyElement?: boolean;
}

/**
 * Binds a path (text or steps) to `desc`. A first step naming the type itself (`order<42>`, short name,
 * any case) is the root and is skipped. Field names match the proto name, the JSON name or the TS name.
 * @throws L8_ERR_PATH with `data.path` and `data.step` (0-based) when a field does not exist, a key sits on a
 *   field that takes none, a key does not convert, or the path goes through a scalar.
 */
export function resolvePath(
  desc: DescMessage,
  path: string | readonly PathStep[],
  options: ResolveOptions = {},
): ResolvedPath {
  const raw = typeof path === 'string' ? parsePath(path) : path;
  const text = typeof path === 'string' ? path : formatPath(path);
  const first = raw[0];
  const isRoot = first !== undefined && findField(desc, first.name) === undefined && sameName(desc, first.name);
  const steps: ResolvedStep[] = [];
  let current: DescMessage | undefined = desc;
  const from = isRoot ? 1 : 0;
  for (let i = from; i < raw.length; i++) {
    const step = raw[i] as PathStep;
    if (current === undefined) throw stepError(text, i, `"${raw[i - 1]?.name}" is not a message`);
    const field = findField(current, step.name);
    if (field === undefined) throw stepError(text, i, `${current.typeName} has no field "${step.name}"`);
    const key = step.key === undefined ? undefined : convertKey(field, step.key, text, i);
    steps.push(key === undefined ? { field } : { field, key });
    current = childMessage(field, key !== undefined || options.anyElement === true);
  }
  if (steps.length === 0) throw stepError(text, raw.length, 'the path names no field');
  const result = { desc, text, steps };
  return isRoot && first?.key !== undefined ? { ...result, rootKey: first.key } : result;
}

/** The field of `desc` called `name` (proto, JSON or TS name; then case-insensitive), or undefined. */
export function findField(desc: DescMessage, name: string): DescField | undefined {
  const exact = desc.fields.find((f) => f.name === name || f.jsonName === name || f.localName === name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  return desc.fields.find((f) => f.name.toLowerCase() === lower || f.localName.toLowerCase() === lower);
}

function sameName(desc: DescMessage, name: string): boolean {
  return desc.name.toLowerCase() === name.toLowerCase();
}

/** The message a step leads into, or undefined when the path cannot go deeper. */
function childMessage(field: DescField, keyed: boolean): DescMessage | undefined {
  switch (field.fieldKind) {
    case 'message':
      return field.message;
    case 'list':
      return keyed && field.listKind === 'message' ? field.message : undefined;
    case 'map':
      return keyed && field.mapKind === 'message' ? field.message : undefined;
    default:
      return undefined;
  }
}

function convertKey(field: DescField, key: string, path: string, step: number): StepKey {
  if (field.fieldKind === 'list') {
    if (/^\d+$/.test(key) && Number(key) <= 0xffffffff) return Number(key);
    throw stepError(path, step, `list index "${key}" is not a non-negative integer`);
  }
  if (field.fieldKind !== 'map') throw stepError(path, step, `field "${field.name}" takes no key`);
  const typed = mapKeyOf(field.mapKey, key);
  if (typed === undefined) throw stepError(path, step, `map key "${key}" is not a ${ScalarType[field.mapKey]}`);
  return typed;
}

/** Converts key text to the typed form of a map key scalar type; undefined when it does not convert. */
export function mapKeyOf(type: ScalarType, key: string): StepKey | undefined {
  switch (type) {
    case ScalarType.STRING:
      return key;
    case ScalarType.BOOL:
      return key === 'true' ? true : key === 'false' ? false : undefined;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return /^-?\d+$/.test(key) ? inRange(BigInt(key), -(2n ** 63n), 2n ** 63n - 1n) : undefined;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return /^\d+$/.test(key) ? inRange(BigInt(key), 0n, 2n ** 64n - 1n) : undefined;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return /^\d+$/.test(key) ? inRange(Number(key), 0, 0xffffffff) : undefined;
    default:
      return /^-?\d+$/.test(key) ? inRange(Number(key), -0x80000000, 0x7fffffff) : undefined;
  }
}

function inRange<T extends number | bigint>(v: T, min: T, max: T): T | undefined {
  return v >= min && v <= max ? v : undefined;
}

function stepError(path: string, step: number, reason: string) {
  return l8error('L8_ERR_PATH', `path "${path}": ${reason}`, { data: { path, step } });
}
