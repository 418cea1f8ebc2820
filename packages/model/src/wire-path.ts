/**
 * The path of a change in its wire form (`ChangeWire.fields` and `keys`): field numbers from the root, and
 * the key text of each map or list step. {@link fastWirePath} reads path text straight into it for the
 * common case; anything else takes {@link resolvePath}, which gives the same answer or the error.
 */
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { scalarText } from './keys.ts';
import { mapKeyOf, type ResolvedPath, type StepKey } from './resolve.ts';

/** A path as field numbers and key texts, with its last field and whether the last step has a key. */
export interface WirePath {
  readonly fields: number[];
  readonly keys: string[];
  readonly last: DescField;
  readonly keyed: boolean;
}

/** Fields by every name `findField` matches exactly (proto, JSON, TS), first field first; one map per type. */
const names = new WeakMap<DescMessage, ReadonlyMap<string, DescField>>();

function namesOf(desc: DescMessage): ReadonlyMap<string, DescField> {
  let map = names.get(desc);
  if (map === undefined) {
    const byName = new Map<string, DescField>();
    for (const f of desc.fields)
      for (const n of [f.name, f.jsonName, f.localName]) if (!byName.has(n)) byName.set(n, f);
    map = byName;
    names.set(desc, map);
  }
  return map;
}

/** The wire path of a resolved path. */
export function wirePathOf(path: ResolvedPath): WirePath {
  const last = path.steps.at(-1) as (typeof path.steps)[number];
  return {
    fields: path.steps.map((s) => s.field.number),
    keys: path.steps.flatMap((s) => (s.key === undefined ? [] : [scalarText(s.key)])),
    last: last.field,
    keyed: last.key !== undefined,
  };
}

const DOT = 46;
const LT = 60;
const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isNamePart = (c: number) => isNameStart(c) || (c >= 48 && c <= 57);

/**
 * The wire path of `text` on `desc` as `resolvePath` binds it, or undefined when the path needs
 * `resolvePath`: a root step, a name matched only case-insensitively, a key that does not convert, a syntax
 * error or a step through a scalar.
 */
export function fastWirePath(desc: DescMessage, text: string): WirePath | undefined {
  const fields: number[] = [];
  const keys: string[] = [];
  let current: DescMessage | undefined = desc;
  for (let i = 0; current !== undefined; i++) {
    const step = readStep(current, text, i);
    if (step === undefined) return undefined;
    fields.push(step.field.number);
    if (step.key !== undefined) keys.push(scalarText(step.key));
    i = step.next;
    if (i === text.length) return { fields, keys, last: step.field, keyed: step.key !== undefined };
    if (text.charCodeAt(i) !== DOT) return undefined;
    current = childMessage(step.field, step.key !== undefined);
  }
  return undefined;
}

interface Step {
  readonly field: DescField;
  readonly key: StepKey | undefined;
  /** The index after the step. */
  readonly next: number;
}

/** The step at `i`: a field of `desc` by exact name, with its converted key if `<key>` follows. */
function readStep(desc: DescMessage, text: string, i: number): Step | undefined {
  const end = nameEnd(text, i);
  const field = end === i ? undefined : namesOf(desc).get(text.slice(i, end));
  if (field === undefined) return undefined;
  if (text.charCodeAt(end) !== LT) return { field, key: undefined, next: end };
  const read = readKey(text, end + 1);
  const key = read === undefined ? undefined : convertKey(field, read.key);
  return key === undefined || read === undefined ? undefined : { field, key, next: read.next };
}

/** The end of the name that starts at `i` (`i` itself when there is none). */
function nameEnd(text: string, i: number): number {
  if (!isNameStart(text.charCodeAt(i))) return i;
  let end = i + 1;
  while (end < text.length && isNamePart(text.charCodeAt(end))) end++;
  return end;
}

/** The key text after `<` (unescaped) and the index after its `>`, as `parsePath` reads it. */
function readKey(text: string, from: number): { key: string; next: number } | undefined {
  let key = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '>') return { key, next: i + 1 };
    if (c === '<' || (c === '\\' && i + 1 >= text.length)) return undefined;
    key += c === '\\' ? text[++i] : c;
  }
  return undefined;
}

/** The typed key of a list or map step as `resolvePath` converts it; undefined where it throws. */
function convertKey(field: DescField, key: string): StepKey | undefined {
  if (field.fieldKind === 'list') return /^\d+$/.test(key) && Number(key) <= 0xffffffff ? Number(key) : undefined;
  return field.fieldKind === 'map' ? mapKeyOf(field.mapKey, key) : undefined;
}

/** The message a step leads into, as `resolvePath` follows it. */
function childMessage(field: DescField, keyed: boolean): DescMessage | undefined {
  if (field.fieldKind === 'message') return field.message;
  if (field.fieldKind === 'list') return keyed && field.listKind === 'message' ? field.message : undefined;
  if (field.fieldKind === 'map') return keyed && field.mapKind === 'message' ? field.message : undefined;
  return undefined;
}
