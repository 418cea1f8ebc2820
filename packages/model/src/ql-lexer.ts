/**
 * The L8QL tokenizer. Names may hold `-` (for `sort-by`), dots and `<key>` steps (`lines<3>.qty`), so a
 * property path is one token. A `<` right after a name opens a key only when a `>` closes it before any
 * space; otherwise it is the less-than operator (`qty<5 and …`).
 */
import { l8error } from '@layer8/protocol';

/** Token kinds. */
export const TokenKind = {
  NAME: 'name',
  STRING: 'string',
  NUMBER: 'number',
  OP: 'op',
  PUNCT: 'punct',
  EOF: 'eof',
} as const;

/** A value of {@link TokenKind}. */
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

/** One token; `column` is 1-based; `value` is the unescaped text of a string. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly value: string;
  readonly column: number;
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_-]/;
const KEY = /^<((?:\\.|[^\\<>\s])*)>/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const OPS = ['<=', '>=', '!=', '=', '<', '>'] as const;
const PUNCT = '()[],*';

/**
 * Splits L8QL text into tokens, ending with an EOF token.
 * @throws L8_ERR_QUERY with `data.column` for an unterminated string or an unexpected character.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) i++;
    else {
      const token = readToken(text, i);
      tokens.push(token);
      i += token.text.length;
    }
  }
  tokens.push({ kind: TokenKind.EOF, text: '', value: '', column: text.length + 1 });
  return tokens;
}

function readToken(text: string, i: number): Token {
  const c = text[i] as string;
  const rest = text.slice(i);
  if (NAME_START.test(c)) return token(TokenKind.NAME, readName(text, i), i);
  if (c === "'" || c === '"') return readString(text, i);
  const number = NUMBER.exec(rest)?.[0];
  if (number !== undefined && (c !== '-' || number.length > 1)) return token(TokenKind.NUMBER, number, i);
  const op = OPS.find((o) => rest.startsWith(o));
  if (op !== undefined) return token(TokenKind.OP, op, i);
  if (PUNCT.includes(c)) return token(TokenKind.PUNCT, c, i);
  throw queryError(`unexpected character "${c}"`, i + 1);
}

/** A name with optional `<key>` steps and `.`-separated parts. */
function readName(text: string, start: number): string {
  let i = start;
  for (;;) {
    while (i < text.length && NAME_PART.test(text[i] as string)) i++;
    const key = text[i] === '<' ? KEY.exec(text.slice(i))?.[0] : undefined;
    if (key !== undefined) i += key.length;
    if (text[i] !== '.' || !NAME_START.test(text[i + 1] ?? '')) return text.slice(start, i);
    i++;
  }
}

function readString(text: string, start: number): Token {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === quote) return { kind: TokenKind.STRING, text: text.slice(start, i + 1), value, column: start + 1 };
    if (c === '\\' && i + 1 < text.length) value += unescapeChar(text[++i] as string);
    else value += c;
  }
  throw queryError('unterminated string', start + 1);
}

function unescapeChar(c: string): string {
  return c === 'n' ? '\n' : c === 't' ? '\t' : c;
}

function token(kind: TokenKind, text: string, index: number): Token {
  return { kind, text, value: text, column: index + 1 };
}

/** An `L8_ERR_QUERY` pointing at a 1-based column. */
export function queryError(reason: string, column: number, extra: Record<string, unknown> = {}) {
  return l8error('L8_ERR_QUERY', `L8QL: ${reason} at column ${column}`, { data: { column, ...extra } });
}
