/**
 * Compiled diff and clone: per message type, JavaScript generated once from the descriptor (as the compiled
 * codec is) that gives what the reflective `diff` of diff.ts and `clone` of `@bufbuild/protobuf` give
 * (compiled-diff.ts, compiled-clone.ts). One unit compiles a type and every type it reaches; units are cached
 * per descriptor in a WeakMap. Whatever the generated code does not reproduce it throws on, and the functions
 * here then return undefined so that the caller runs the reflective implementation.
 */
import { type DescField, type DescMessage, type Message, protoInt64 } from '@bufbuild/protobuf';
import { genClone } from './compiled-clone.ts';
import { genDiff } from './compiled-diff.ts';
import { runtime } from './compiled-runtime.ts';

/** A change as diff.ts's `Change` (declared here, structurally, so that diff.ts can import this module). */
interface Change {
  readonly path: string;
  readonly op: 'set' | 'delete';
  readonly value?: unknown;
}

/** The compiled diff and clone of one message type. */
export interface CompiledModel {
  /** The changes of reflective `diff`, or undefined when the reflective diff must run. */
  diff(before: Message, after: Message, patch: boolean): Change[] | undefined;
  /** The message of `clone(desc, message)`, or undefined when the reflective clone must run. */
  clone(message: Message): Message | undefined;
}

type Diff = (a: Message, b: Message, prefix: string, patch: boolean, out: Change[]) => void;
type Clone = (m: Message) => Message;

/** `Edition.EDITION_PROTO3`. */
const EDITION_PROTO3 = 999;
const cache = new WeakMap<DescMessage, CompiledModel | null>();

/**
 * The compiled diff and clone of `desc`, compiled on first use; undefined when {@link whyNotCompiledModel}
 * gives a reason.
 */
export function compiledModel(desc: DescMessage): CompiledModel | undefined {
  let unit = cache.get(desc);
  if (unit === undefined) {
    unit = whyNotCompiledModel(desc) === undefined ? compileModel(desc) : null;
    cache.set(desc, unit);
  }
  return unit ?? undefined;
}

/**
 * Why `desc` (or a type it reaches) keeps the reflective diff and clone, or undefined when it compiles: only
 * proto3 messages (no prototype of defaults), without `jstype = JS_STRING`, `google.protobuf.Struct` fields
 * (held as JSON objects), closed enums or a member called `__proto__`.
 */
export function whyNotCompiledModel(desc: DescMessage): string | undefined {
  if (!protoInt64.supported) return '64-bit integers are strings (BigInt unavailable)';
  for (const type of reachable(desc)) {
    if (type.file.edition !== EDITION_PROTO3) return `${type.typeName} is not proto3`;
    if (type.members.some((m) => m.localName === '__proto__')) return `${type.typeName} has a member __proto__`;
    for (const field of type.fields) {
      const why = whyNotField(field);
      if (why !== undefined) return `${type.typeName}.${field.name} ${why}`;
    }
  }
  return undefined;
}

function whyNotField(field: DescField): string | undefined {
  if ('longAsString' in field && field.longAsString) return 'has jstype = JS_STRING';
  if (field.message?.typeName === 'google.protobuf.Struct') return 'is a Struct';
  if (field.enum !== undefined && !field.enum.open) return 'has a closed enum';
  return undefined;
}

/** `desc` and every message type its fields reach, `desc` first. */
function reachable(desc: DescMessage): DescMessage[] {
  const seen = new Set([desc]);
  for (const type of seen) for (const field of type.fields) if (field.message !== undefined) seen.add(field.message);
  return [...seen];
}

function compileModel(desc: DescMessage): CompiledModel {
  const types = reachable(desc);
  const index = new Map(types.map((t, i) => [t, i]));
  const src = ['"use strict";'];
  for (const [i, type] of types.entries()) src.push(genDiff(type, i, index), genClone(type, i, index));
  src.push('return [d0, c0];');
  const names = Object.keys(runtime);
  const compile = new Function(...names, src.join('\n'));
  const [diff, clone] = compile(...names.map((n) => runtime[n])) as [Diff, Clone];
  return {
    diff(before, after, patch) {
      try {
        const out: Change[] = [];
        diff(before, after, '', patch, out);
        return out;
      } catch {
        return undefined;
      }
    },
    clone(message) {
      try {
        return clone(message);
      } catch {
        return undefined;
      }
    },
  };
}
