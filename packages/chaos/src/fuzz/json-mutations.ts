import type { FuzzRandom } from './fuzz-random.ts';

/**
 * Structure-aware mutations of the JSON bodies of control and handshake frames (docs/protocol.md §6):
 * a field dropped or given another type, an unknown message type, arrays over their bounds, deep
 * nesting, prototype keys, edge numbers and strings, and text that is not JSON at all.
 */

/** The JSON mutations, by name: the `op` a mutated control frame reports. */
export const JSON_OPS = [
  'drop-field',
  'retype',
  'unknown-type',
  'swap-type',
  'huge-array',
  'deep-nesting',
  'proto-key',
  'edge-number',
  'edge-string',
  'duplicate-key',
  'not-json',
  'not-object',
] as const;

/** A JSON mutation's name. */
export type JsonOp = (typeof JSON_OPS)[number];

/** Every `t` of docs/protocol.md §6, and some that are none. */
const TYPES = [
  'hb',
  'health',
  'resync',
  'drop',
  'close',
  'services',
  'bye',
  'stats',
  'challenge',
  'proof',
  'accept',
  'hello',
  '',
  'HB',
  'x',
];

/** A string over every length bound of a control body (64 KiB records, 4 KiB messages). */
const LONG = 'x'.repeat(70_000);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A JSON body as a mutable tree. */
type Tree = { [k: string]: Json };

/** Every path (keys and indices) to a value inside `root`, the root excluded; at most `max`. */
function paths(root: Json, max = 256): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: Json, path: (string | number)[]): void => {
    if (out.length >= max || v === null || typeof v !== 'object') return;
    const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const k of keys) {
      const p = [...path, k];
      out.push(p);
      walk((v as Record<string | number, Json>)[k] as Json, p);
    }
  };
  walk(root, []);
  return out;
}

/** The container holding the value at `path`, and its key. */
function parentOf(
  root: Tree,
  path: (string | number)[],
): { parent: Record<string | number, Json>; key: string | number } {
  let parent = root as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  return { parent, key: path[path.length - 1] as string | number };
}

/** A value of a type a schema would not expect. */
function oddValue(rng: FuzzRandom): Json {
  return rng.pick<Json>([
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 53,
    -(2 ** 63),
    '',
    '0',
    [],
    {},
    [null],
    { t: 'hb' },
    LONG,
  ]);
}

function deep(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Text of a body: the tree mutated by `op` and stringified, or text no tree gives. */
function mutatedText(rng: FuzzRandom, tree: Tree, op: JsonOp): string {
  const all = paths(tree);
  const at = all.length > 0 ? rng.pick(all) : undefined;
  switch (op) {
    case 'drop-field': {
      if (at === undefined) return '{}';
      const { parent, key } = parentOf(tree, at);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return JSON.stringify(tree);
    }
    case 'retype': {
      if (at !== undefined) {
        const { parent, key } = parentOf(tree, at);
        parent[key] = oddValue(rng);
      }
      return JSON.stringify(tree);
    }
    case 'unknown-type':
      return JSON.stringify({
        ...tree,
        t: rng.chance(0.5) ? rng.bytes(rng.below(12)).toString('latin1') : oddValue(rng),
      });
    case 'swap-type':
      return JSON.stringify({ ...tree, t: rng.pick(TYPES) });
    case 'huge-array': {
      const n = rng.pick([65_537, 4097, 513, 100_000]);
      const arrays = all.filter((p) => Array.isArray(parentOf(tree, p).parent[parentOf(tree, p).key]));
      if (arrays.length === 0) return JSON.stringify({ ...tree, services: new Array(n).fill(0) });
      const { parent, key } = parentOf(tree, rng.pick(arrays));
      parent[key] = new Array(n).fill(rng.chance(0.5) ? 0 : { service: 's', area: 0 });
      return JSON.stringify(tree);
    }
    case 'deep-nesting':
      return `{"t":${JSON.stringify(tree.t ?? 'hb')},"x":${deep(rng.pick([64, 5000, 100_000]), '[', ']')}}`;
    case 'proto-key':
      return JSON.stringify(tree).replace(
        /^\{/,
        `{"${rng.pick(['__proto__', 'constructor', 'prototype'])}":{"polluted":true,"t":"hb"},`,
      );
    case 'edge-number':
      return JSON.stringify(tree).replace(
        /-?\d+(\.\d+)?(e[+-]?\d+)?/,
        rng.pick(['1e999', '-1e999', '-0', '1e-400', '9007199254740993', '0.5', '-1']),
      );
    case 'edge-string':
      return JSON.stringify(tree).replace(
        /"([^"\\]*)"(?=[,}\]])/,
        `"${rng.pick(['\\ud800', '\\u0000', 'é'.repeat(300), '\\"'.repeat(40), ''])}"`,
      );
    case 'duplicate-key':
      return JSON.stringify(tree).replace(/\}$/, `,"t":${JSON.stringify(rng.pick(TYPES))}}`);
    case 'not-json':
      return rng.pick([
        JSON.stringify(tree).slice(0, rng.below(JSON.stringify(tree).length)),
        '',
        '{',
        '\ufeff{"t":"hb"}',
        'null',
        'NaN',
        '{"t":"hb",}',
      ]);
    case 'not-object':
      return rng.pick(['[{"t":"hb"}]', '"hb"', '42', 'true', `[${JSON.stringify(tree)}]`]);
  }
}

/**
 * Mutates a valid control or handshake body: returns the payload bytes and the mutation applied.
 * The body is not changed (a copy is mutated). With probability 1/16 the text is then damaged byte-wise
 * (invalid UTF-8 included).
 */
export function mutateJson(
  rng: FuzzRandom,
  body: Readonly<Record<string, unknown>>,
  op: JsonOp = rng.pick(JSON_OPS),
): { payload: Buffer; op: JsonOp } {
  const tree = JSON.parse(JSON.stringify(body)) as Tree;
  const payload = Buffer.from(mutatedText(rng, tree, op), 'utf8');
  if (payload.length > 0 && rng.chance(1 / 16))
    payload[rng.below(payload.length)] = rng.pick([0xff, 0xc0, 0x80, 0x00, rng.below(256)]);
  return { payload, op };
}
