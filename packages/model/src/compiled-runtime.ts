/**
 * Runtime helpers of the compiled differ and cloner (compiled-model.ts): the generated code calls them by
 * name. Each one either gives exactly what the reflective `diff` (diff.ts) or `clone` of `@bufbuild/protobuf`
 * gives, or throws {@link bail} so that the caller runs the reflective one instead.
 */
import { protoInt64 } from '@bufbuild/protobuf';
import { escapeKey } from './path.ts';
import { bail } from './wire.ts';

/** A change as diff.ts makes it (kept structural here so that this module does not import diff.ts). */
type Out = { path: string; op: 'set' | 'delete'; value?: unknown }[];
type Diff = (a: unknown, b: unknown, prefix: string, patch: boolean, out: Out) => void;
type Clone = (value: unknown) => unknown;
type Norm = (key: string) => string;

const wellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** Throws {@link bail}; usable in an expression. */
function fail(): never {
  throw bail;
}

function own(o: object, key: string): boolean {
  return Object.hasOwn(o, key);
}

/** Scalar equality of diff.ts: bytes by content, the rest with Object.is; any other object bails. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' && typeof b !== 'object') return Object.is(a, b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (isPlainObject(a) || isPlainObject(b)) fail();
  return Object.is(a, b);
}

/** An object that is no Uint8Array: a list element or map value reflection might take for a message. */
function isPlainObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array);
}

/** A copy of a scalar value as diff.ts makes it: bytes copied; any other object bails. */
function copy(v: unknown): unknown {
  if (v instanceof Uint8Array) return v.slice();
  return v !== null && typeof v === 'object' ? fail() : v;
}

/** The path of a map entry. */
function at(path: string, key: string): string {
  return `${path}<${/[\\<>]/.test(key) ? escapeKey(key) : key}>`;
}

/** A list of scalars: changed elements set, extra ones set, missing ones deleted from the end. */
function diffList(x: unknown[], y: unknown[], path: string, out: Out): void {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (!same(x[i], y[i])) out.push({ path: `${path}<${i}>`, op: 'set', value: copy(y[i]) });
  for (let i = x.length; i < y.length; i++) out.push({ path: `${path}<${i}>`, op: 'set', value: copy(y[i]) });
  for (let i = x.length - 1; i >= y.length; i--) out.push({ path: `${path}<${i}>`, op: 'delete' });
}

/** A map: `norm` gives the text of a key as reflection reads it; message values go to `diff`/`clone`. */
function diffMap(
  x: Record<string, unknown>,
  y: Record<string, unknown>,
  keys: string[],
  path: string,
  patch: boolean,
  out: Out,
  norm: Norm,
  diff?: Diff,
  clone?: Clone,
): void {
  if (!patch) {
    for (const k of Object.keys(x)) {
      const t = norm(k);
      if (!own(y, t)) out.push({ path: at(path, t), op: 'delete' });
    }
  }
  for (const k of keys) {
    const t = norm(k);
    const v = y[k];
    const old = own(x, t) ? x[t] : undefined;
    if (diff === undefined || clone === undefined) {
      if (!own(x, t) || !same(old, v)) out.push({ path: at(path, t), op: 'set', value: copy(v) });
    } else if (old === undefined) out.push({ path: at(path, t), op: 'set', value: clone(v) });
    else diff(old, v, `${at(path, t)}.`, patch, out);
  }
}

const nId: Norm = (k) => k;
const nInt: Norm = (k) => {
  // biome-ignore lint/correctness/useParseIntRadix: as protobuf-es reads a map key ("0x10" is 16)
  const n = Number.parseInt(k);
  return Number.isFinite(n) ? String(n) : k;
};
const nI64: Norm = (k) => {
  try {
    return String(protoInt64.parse(k));
  } catch {
    return k;
  }
};
const nU64: Norm = (k) => {
  try {
    return String(protoInt64.uParse(k));
  } catch {
    return k;
  }
};

/** A copy of a list, each element through `f`. */
function cloneList(v: unknown, f: Clone): unknown[] {
  if (!Array.isArray(v)) fail();
  const r: unknown[] = [];
  for (let i = 0; i < v.length; i++) r.push(f(v[i]));
  return r;
}

/** A copy of a map whose keys `key` accepts as they are (it bails on any key reflection would rewrite). */
function cloneMap(v: unknown, key: (k: string) => void, f: Clone): Record<string, unknown> {
  if (v === null || typeof v !== 'object') fail();
  const r: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    key(k);
    const x = f((v as Record<string, unknown>)[k]);
    if (k === '__proto__')
      Object.defineProperty(r, k, { value: x, writable: true, enumerable: true, configurable: true });
    else r[k] = x;
  }
  return r;
}

/** Unknown fields, each entry and its bytes copied. */
function cloneUnknown(u: { data: Uint8Array }[]): unknown[] {
  return u.map((e) => ({ ...e, data: e.data.slice() }));
}

function isWellFormed(s: string): boolean {
  if (wellFormed !== undefined) return wellFormed.call(s);
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

// Checks of a value to copy, as reflection's checkField (stricter is fine: it bails). They return the copy.
const ckNum: Clone = (v) => (typeof v === 'number' ? v : fail());
const ckFloat: Clone = (v) =>
  typeof v === 'number' && (Number.isFinite(Math.fround(v)) || !Number.isFinite(v)) ? v : fail();
const ckI32: Clone = (v) => (typeof v === 'number' && (v | 0) === v ? v : fail());
const ckU32: Clone = (v) => (typeof v === 'number' && v >>> 0 === v ? v : fail());
const ckBool: Clone = (v) => (typeof v === 'boolean' ? v : fail());
const ckStr: Clone = (v) => (typeof v === 'string' && isWellFormed(v) ? v : fail());
const ckBytes: Clone = (v) => (v instanceof Uint8Array ? v.slice() : fail());
// range compares: BigInt.asIntN would allocate a bigint per check
const ckI64: Clone = (v) => (typeof v === 'bigint' && v >= I64_MIN && v <= I64_MAX ? v : fail());
const ckU64: Clone = (v) => (typeof v === 'bigint' && v >= 0n && v <= U64_MAX ? v : fail());

// Checks of a map key: valid and already in the form reflection would write it back in.
const kStr = (k: string) => ckStr(k);
const kBool = (k: string) => (k === 'true' || k === 'false' ? k : fail());
const kI32 = (k: string) => (String(ckI32(Number.parseInt(k, 10))) === k ? k : fail());
const kU32 = (k: string) => (String(ckU32(Number.parseInt(k, 10))) === k ? k : fail());
const kI64 = (k: string) => (/^-?\d+$/.test(k) && String(ckI64(BigInt(k))) === k ? k : fail());
const kU64 = (k: string) => (/^\d+$/.test(k) && String(ckU64(BigInt(k))) === k ? k : fail());

/**
 * The value of every unset bytes field of a compiled clone: one shared empty array (nothing can be written
 * into a zero-length array, and allocating an ArrayBuffer per clone is the costliest part of it).
 */
const EMPTY_BYTES = new Uint8Array(0);

/** Every helper by the name the generated code uses. */
export const runtime: Readonly<Record<string, unknown>> = {
  EMPTY_BYTES,
  bail,
  fail,
  own,
  same,
  copy,
  at,
  diffList,
  diffMap,
  nId,
  nInt,
  nI64,
  nU64,
  cloneList,
  cloneMap,
  cloneUnknown,
  ckNum,
  ckFloat,
  ckI32,
  ckU32,
  ckBool,
  ckStr,
  ckBytes,
  ckI64,
  ckU64,
  kStr,
  kBool,
  kI32,
  kU32,
  kI64,
  kU64,
};
