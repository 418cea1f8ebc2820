/**
 * Property paths: `order<42>.lines<3>.qty`. A path is a dot-separated list of field names, each optionally
 * followed by `<key>` (a map key, a list index, or for the first step the entity's primary key). Inside a
 * key, `\` escapes the next character so keys may hold `>`, `<` and `\`.
 */
import { l8error } from '@layer8/protocol';

/** One step of a path: a field name and an optional key text (unescaped). */
export interface PathStep {
  readonly name: string;
  readonly key?: string;
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

/**
 * Parses the text of a path into steps; it does not look at any model (see `resolvePath`).
 * @throws L8_ERR_PATH with `data.path` and `data.column` (1-based) on a syntax error.
 */
export function parsePath(text: string): PathStep[] {
  const steps: PathStep[] = [];
  let i = 0;
  for (;;) {
    const start = i;
    if (!NAME_START.test(text[i] ?? '')) throw pathError(text, i, 'a field name');
    while (i < text.length && NAME_PART.test(text[i] as string)) i++;
    const name = text.slice(start, i);
    if (text[i] === '<') {
      const [key, next] = readKey(text, i + 1);
      steps.push({ name, key });
      i = next;
    } else steps.push({ name });
    if (i === text.length) return steps;
    if (text[i] !== '.') throw pathError(text, i, '"." or "<"');
    i++;
  }
}

function readKey(text: string, from: number): [string, number] {
  let key = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '>') return [key, i + 1];
    if (c === '<') throw pathError(text, i, 'a key character ("<" must be escaped)');
    if (c === '\\') {
      if (i + 1 >= text.length) break;
      key += text[++i];
    } else key += c;
  }
  throw pathError(text, text.length, '">" closing the key');
}

/** Formats steps as path text, escaping keys. */
export function formatPath(steps: readonly PathStep[]): string {
  return steps.map((s) => (s.key === undefined ? s.name : `${s.name}<${escapeKey(s.key)}>`)).join('.');
}

/** Escapes `\`, `<` and `>` in a key so it can sit between `<` and `>`. */
export function escapeKey(key: string): string {
  return key.replace(/[\\<>]/g, (c) => `\\${c}`);
}

/** An `L8_ERR_PATH` pointing at a column (1-based) of the path text. */
export function pathError(path: string, index: number, expected: string) {
  const found = index < path.length ? `"${path[index]}"` : 'the end';
  return l8error('L8_ERR_PATH', `path "${path}": expected ${expected} at column ${index + 1}, found ${found}`, {
    data: { path, column: index + 1 },
  });
}
