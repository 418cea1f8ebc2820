/**
 * Deltas: `diff(before, after)` lists the changes that turn one message into the other, with explicit
 * presence (a set of 0, false or "", a cleared field, a removed map entry and a shorter list all show up).
 */
import { clone, type DescMessage, isMessage, type Message } from '@bufbuild/protobuf';
import { type ReflectList, type ReflectMap, type ReflectMessage, reflect } from '@bufbuild/protobuf/reflect';
import { deletePath, setPath } from './access.ts';
import { compiledModel } from './compiled-model.ts';
import { scalarText } from './keys.ts';
import { escapeKey } from './path.ts';
import { type ResolvedPath, resolvePath } from './resolve.ts';

/** What a change does. */
export const ChangeOp = { SET: 'set', DELETE: 'delete' } as const;

/** A value of {@link ChangeOp}. */
export type ChangeOp = (typeof ChangeOp)[keyof typeof ChangeOp];

/** One change: set the value at a path (relative to the entity), or delete it. */
export interface Change {
  readonly path: string;
  readonly op: ChangeOp;
  /** The value of a set: a scalar (64-bit integers as bigint) or a message; absent for a delete. */
  readonly value?: unknown;
}

/** How `after` is read. */
export const DiffMode = {
  /** Replace: `after` is the whole new entity; whatever it lacks is deleted. */
  PUT: 'put',
  /**
   * Merge: only what is set in `after` changes. Messages and maps merge, lists are replaced. A proto3 field
   * without `optional` cannot be patched to its zero value this way (declare it `optional`, or use PUT).
   */
  PATCH: 'patch',
} as const;

/** A value of {@link DiffMode}. */
export type DiffMode = (typeof DiffMode)[keyof typeof DiffMode];

/** Options of {@link diff}. */
export interface DiffOptions {
  /** Default PUT. */
  readonly mode?: DiffMode;
}

/**
 * The changes that turn `before` into `after` (both of type `desc`). Values are copies. Applying them with
 * {@link applyChanges} to a copy of `before` gives a message equal to `after` (PUT), or to `before` merged
 * with `after` (PATCH).
 */
export function diff(desc: DescMessage, before: Message, after: Message, options: DiffOptions = {}): Change[] {
  const patch = options.mode === DiffMode.PATCH;
  return compiledModel(desc)?.diff(before, after, patch) ?? reflectDiff(desc, before, after, options);
}

/**
 * {@link diff} by reflection: the reference the compiled differ (compiled-model.ts) reproduces, and what runs
 * for the types and values it does not take.
 */
export function reflectDiff(desc: DescMessage, before: Message, after: Message, options: DiffOptions = {}): Change[] {
  const out: Change[] = [];
  const a = reflect(desc, before as never, false);
  const b = reflect(desc, after as never, false);
  diffMessage(a, b, '', options.mode === DiffMode.PATCH, out);
  return out;
}

function diffMessage(a: ReflectMessage, b: ReflectMessage, prefix: string, patch: boolean, out: Change[]): void {
  for (const field of b.desc.fields) {
    const bSet = b.isSet(field);
    if (patch && !bSet) continue;
    const path = prefix === '' ? field.name : `${prefix}.${field.name}`;
    if (!bSet) {
      if (a.isSet(field)) out.push({ path, op: ChangeOp.DELETE });
    } else if (field.fieldKind === 'list') diffList(a.get(field), b.get(field), path, out);
    else if (field.fieldKind === 'map') diffMap(a.get(field), b.get(field), path, patch, out);
    else if (field.fieldKind === 'message' && a.isSet(field)) {
      diffMessage(a.get(field), b.get(field), path, patch, out);
    } else if (!a.isSet(field) || !same(a.get(field), b.get(field))) {
      out.push({ path, op: ChangeOp.SET, value: copy(b.get(field)) });
    }
  }
}

function diffList(a: ReflectList, b: ReflectList, path: string, out: Change[]): void {
  const common = Math.min(a.size, b.size);
  for (let i = 0; i < common; i++) diffValue(a.get(i), b.get(i), `${path}<${i}>`, false, out);
  for (let i = a.size; i < b.size; i++) out.push({ path: `${path}<${i}>`, op: ChangeOp.SET, value: copy(b.get(i)) });
  for (let i = a.size - 1; i >= b.size; i--) out.push({ path: `${path}<${i}>`, op: ChangeOp.DELETE });
}

function diffMap(a: ReflectMap, b: ReflectMap, path: string, patch: boolean, out: Change[]): void {
  const at = (k: unknown) => `${path}<${escapeKey(scalarText(k))}>`;
  if (!patch) for (const k of a.keys()) if (!b.has(k)) out.push({ path: at(k), op: ChangeOp.DELETE });
  for (const [k, v] of b) {
    if (a.has(k)) diffValue(a.get(k), v, at(k), patch, out);
    else out.push({ path: at(k), op: ChangeOp.SET, value: copy(v) });
  }
}

/** Compares two list elements or map values: messages field by field, scalars by value. */
function diffValue(a: unknown, b: unknown, path: string, patch: boolean, out: Change[]): void {
  if (isReflectMessage(a) && isReflectMessage(b)) diffMessage(a, b, path, patch, out);
  else if (!same(a, b)) out.push({ path, op: ChangeOp.SET, value: copy(b) });
}

/** Scalar equality: bytes by content, numbers with Object.is (NaN equals NaN, -0 differs from 0). */
function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return Object.is(a, b);
}

/** A copy of a value read through reflection: messages are cloned, bytes copied. */
function copy(value: unknown): unknown {
  if (isReflectMessage(value)) return clone(value.desc, value.message);
  return value instanceof Uint8Array ? value.slice() : value;
}

function isReflectMessage(value: unknown): value is ReflectMessage {
  return typeof value === 'object' && value !== null && 'desc' in value && 'message' in value;
}

/**
 * Applies changes to `entity` in place, in order. Message values are cloned so the changes stay reusable.
 * Not atomic: on an error the entity holds the changes before the failing one (apply to a clone to avoid
 * that, as `applyChangeSet` does).
 * @throws L8_ERR_PATH for a path that does not fit the model; L8_ERR_INVALID_ARGUMENT for a value that does
 *   not fit its field.
 */
export function applyChanges(desc: DescMessage, entity: Message, changes: readonly Change[]): void {
  for (const change of changes) {
    const path = resolvePath(desc, change.path);
    if (change.op === ChangeOp.DELETE) deletePath(desc, entity, path);
    else setPath(desc, entity, path, cloneFor(path, change.value));
  }
}

/** A copy of a value to store at `path`: messages cloned (also inside arrays), bytes copied. */
function cloneFor(path: ResolvedPath, value: unknown): unknown {
  const desc = path.steps.at(-1)?.field.message;
  const one = (v: unknown) => {
    if (desc !== undefined && isMessage(v, desc)) return deepClone(desc, v);
    return v instanceof Uint8Array ? v.slice() : v;
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

/**
 * Deep equality with the semantics of {@link diff}: equal when there is no change between them. Presence
 * counts (an unset optional differs from one set to zero); NaN equals NaN. It runs the compiled differ, which
 * allocates nothing when the messages are equal (and throws what the reflective diff throws when they are not).
 */
export function deepEqual(desc: DescMessage, a: Message, b: Message): boolean {
  return diff(desc, a, b).length === 0;
}

/**
 * A deep copy of `message`: the message `clone(desc, message)` of `@bufbuild/protobuf` gives (same members,
 * nested messages, lists, maps and bytes copied, unknown fields kept), made by code compiled for the type.
 */
export function deepClone<T extends Message>(desc: DescMessage, message: T): T {
  return (compiledModel(desc)?.clone(message) ?? clone(desc, message as never)) as unknown as T;
}

/**
 * Merges `partial` into `target` in place with PATCH semantics and returns the changes it made.
 * @throws as {@link applyChanges}.
 */
export function merge(desc: DescMessage, target: Message, partial: Message): Change[] {
  const changes = diff(desc, target, partial, { mode: DiffMode.PATCH });
  applyChanges(desc, target, changes);
  return changes;
}
