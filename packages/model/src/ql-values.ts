/** Reading and comparing the values a bound L8QL path selects in a message. */
import type { Message } from '@bufbuild/protobuf';
import { type ReflectList, type ReflectMap, type ReflectMessage, reflect } from '@bufbuild/protobuf/reflect';
import type { BoundPath } from './ql-bind.ts';
import type { ResolvedStep } from './resolve.ts';

/** `FeatureSet.FieldPresence.IMPLICIT`. */
const IMPLICIT = 2;

/**
 * Every value `path` selects in `message`: none when something on the way is absent, one for a plain path,
 * any number through lists and maps without a key. Messages come back as messages.
 */
export function valuesAt(path: BoundPath, message: Message): unknown[] {
  const root = reflect(path.resolved.desc, message as never, false);
  return collect(root, path.resolved.steps, 0);
}

function collect(r: ReflectMessage, steps: readonly ResolvedStep[], i: number): unknown[] {
  const step = steps[i] as ResolvedStep;
  const items = itemsOf(r, step);
  if (i === steps.length - 1) return items.map(unwrap);
  return items.flatMap((item) => collect(item as ReflectMessage, steps, i + 1));
}

function itemsOf(r: ReflectMessage, { field, key }: ResolvedStep): unknown[] {
  if (field.fieldKind === 'list') {
    const list = r.get(field) as ReflectList;
    if (key === undefined) return [...list];
    return (key as number) < list.size ? [list.get(key as number)] : [];
  }
  if (field.fieldKind === 'map') {
    const map = r.get(field) as ReflectMap;
    if (key === undefined) return [...map.values()];
    return map.has(key) ? [map.get(key)] : [];
  }
  const present = r.isSet(field) || (field.fieldKind !== 'message' && field.presence === IMPLICIT);
  return present ? [r.get(field)] : [];
}

function unwrap(v: unknown): unknown {
  return typeof v === 'object' && v !== null && 'desc' in v && 'message' in v ? (v as ReflectMessage).message : v;
}

/** The first value `path` selects, or null (the SQL view of a column). */
export function firstValue(path: BoundPath, message: Message): unknown {
  const values = valuesAt(path, message);
  return values.length === 0 ? null : values[0];
}

/** Orders scalars: numbers and bigints together, booleans as 0 and 1, strings by code unit; null first. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  const x = typeof a === 'boolean' ? Number(a) : (a as number);
  const y = typeof b === 'boolean' ? Number(b) : (b as number);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True for the zero value of a scalar (and for messages, never: a present message is not nil). */
export function isZero(v: unknown): boolean {
  if (v instanceof Uint8Array) return v.length === 0;
  return v === '' || v === 0 || v === 0n || v === false;
}

/** An anchored glob: `*` matches any run of characters, everything else is literal. */
export function globRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}
