/**
 * The L8QL parser: recursive descent over the tokens of `ql-lexer.ts`.
 *
 *   query    := SELECT items FROM name clause*
 *   clause   := WHERE expr | GROUP-BY path (, path)* | HAVING expr | SORT-BY operand
 *             | ASCENDING | DESCENDING | LIMIT int | PAGE int | MATCH-CASE      (each at most once)
 *   items    := * | operand (,? operand)*
 *   operand  := fn ( * | path ) | path           fn := count | sum | avg | min | max
 *   expr     := conj (OR conj)*      conj := atom (AND atom)*
 *   atom     := ( expr ) | operand cmp literal | operand [NOT] IN list
 *   list     := [ literal (, literal)* ]  or the same in ( )
 *
 * Keywords are case-insensitive and only keywords where the grammar expects one, so a value or a field may
 * be called `homepage`, `order` or `from`.
 */
import {
  AggregateFn,
  type Comparator,
  type Expr,
  type Literal,
  type Operand,
  type PathRef,
  type Query,
} from './ql-ast.ts';
import { queryError, type Token, TokenKind, tokenize } from './ql-lexer.ts';

const FUNCTIONS: ReadonlySet<string> = new Set(Object.values(AggregateFn));
const CLAUSES = ['where', 'group-by', 'having', 'sort-by', 'ascending', 'descending', 'limit', 'page', 'match-case'];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Parses L8QL text.
 * @throws L8_ERR_QUERY with `data.column` (1-based) on a syntax error.
 */
export function parseQuery(text: string): Query {
  return new Parser(tokenize(text)).query();
}

class Parser {
  readonly #tokens: readonly Token[];
  /** Index of the next token; never past the EOF token. */
  #at = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  query(): Query {
    this.#keyword('select');
    const select = this.#selectList();
    this.#keyword('from');
    const from = this.#expect(TokenKind.NAME, 'a type name');
    const q: Mutable<Query> = {
      select,
      from: from.text,
      fromColumn: from.column,
      groupBy: [],
      descending: false,
      matchCase: false,
    };
    const seen = new Set<string>();
    while (this.#peek().kind !== TokenKind.EOF) this.#clause(q, seen);
    if (q.page !== undefined && q.limit === undefined) throw queryError('"page" needs "limit"', from.column);
    return q;
  }

  #clause(q: Mutable<Query>, seen: Set<string>): void {
    const t = this.#next();
    const word = t.kind === TokenKind.NAME ? t.text.toLowerCase() : '';
    if (!CLAUSES.includes(word)) throw this.#unexpected(t, `a clause (${CLAUSES.join(', ')})`);
    const group = word === 'ascending' ? 'descending' : word;
    if (seen.has(group)) throw queryError(`"${word}" given twice`, t.column);
    seen.add(group);
    if (word === 'where') q.where = this.#expr();
    else if (word === 'having') q.having = this.#expr();
    else if (word === 'group-by') q.groupBy = this.#pathList();
    else if (word === 'sort-by') q.sortBy = this.#operand();
    else if (word === 'limit') q.limit = this.#integer(1);
    else if (word === 'page') q.page = this.#integer(0);
    else if (word === 'match-case') q.matchCase = true;
    else q.descending = word === 'descending';
  }

  #selectList(): '*' | Operand[] {
    if (this.#acceptPunct('*')) return '*';
    const items = [this.#operand()];
    for (;;) {
      this.#acceptPunct(',');
      if (this.#isKeyword(this.#peek(), 'from')) return items;
      items.push(this.#operand());
    }
  }

  #pathList(): PathRef[] {
    const paths = [this.#path()];
    while (this.#acceptPunct(',')) paths.push(this.#path());
    return paths;
  }

  #operand(): Operand {
    const t = this.#peek();
    const fn = t.text.toLowerCase();
    if (t.kind !== TokenKind.NAME || !FUNCTIONS.has(fn) || !this.#isPunct(this.#peek(1), '(')) return this.#path();
    this.#at += 2;
    const arg = this.#acceptPunct('*') ? '*' : this.#path().path;
    if (arg === '*' && fn !== AggregateFn.COUNT) throw queryError(`${fn}(*) is not allowed`, t.column);
    this.#expectPunct(')');
    return { kind: 'aggregate', fn: fn as AggregateFn, arg, column: t.column };
  }

  #path(): PathRef {
    const t = this.#expect(TokenKind.NAME, 'a property path');
    return { kind: 'path', path: t.text, column: t.column };
  }

  #expr(): Expr {
    const operands = [this.#conjunction()];
    while (this.#acceptKeyword('or')) operands.push(this.#conjunction());
    return operands.length === 1 ? (operands[0] as Expr) : { kind: 'or', operands };
  }

  #conjunction(): Expr {
    const operands = [this.#atom()];
    while (this.#acceptKeyword('and')) operands.push(this.#atom());
    return operands.length === 1 ? (operands[0] as Expr) : { kind: 'and', operands };
  }

  #atom(): Expr {
    if (this.#acceptPunct('(')) {
      const inner = this.#expr();
      this.#expectPunct(')');
      return inner;
    }
    const left = this.#operand();
    const t = this.#next();
    if (t.kind === TokenKind.OP)
      return { kind: 'compare', op: t.text as Comparator, left, right: this.#literal(), column: t.column };
    const negated = this.#isKeyword(t, 'not');
    if (negated) this.#keyword('in');
    else if (!this.#isKeyword(t, 'in')) throw this.#unexpected(t, 'a comparator (= != < <= > >= in, not in)');
    return { kind: 'in', negated, left, values: this.#list(), column: t.column };
  }

  #list(): Literal[] {
    const open = this.#next();
    const close = open.text === '[' ? ']' : ')';
    if (open.kind !== TokenKind.PUNCT || (open.text !== '[' && open.text !== '('))
      throw this.#unexpected(open, '"[" or "("');
    const values = [this.#literal()];
    while (this.#acceptPunct(',')) values.push(this.#literal());
    this.#expectPunct(close);
    return values;
  }

  #literal(): Literal {
    const t = this.#next();
    if (t.kind === TokenKind.STRING) return { kind: 'string', value: t.value };
    if (t.kind === TokenKind.NUMBER) return { kind: 'number', text: t.text };
    if (t.kind !== TokenKind.NAME) throw this.#unexpected(t, 'a value');
    const word = t.text.toLowerCase();
    if (word === 'nil') return { kind: 'nil' };
    if (word === 'true' || word === 'false') return { kind: 'bool', value: word === 'true' };
    return { kind: 'string', value: t.text };
  }

  #integer(min: number): number {
    const t = this.#expect(TokenKind.NUMBER, 'an integer');
    const n = Number(t.text);
    if (!/^\d+$/.test(t.text) || n < min || !Number.isSafeInteger(n)) {
      throw queryError(`expected an integer ≥ ${min}, found ${t.text}`, t.column);
    }
    return n;
  }

  #peek(ahead = 0): Token {
    const last = this.#tokens.length - 1;
    return this.#tokens[Math.min(this.#at + ahead, last)] as Token;
  }

  #next(): Token {
    const t = this.#peek();
    if (t.kind !== TokenKind.EOF) this.#at++;
    return t;
  }

  #expect(kind: TokenKind, what: string): Token {
    const t = this.#next();
    if (t.kind !== kind) throw this.#unexpected(t, what);
    return t;
  }

  #isKeyword(t: Token, word: string): boolean {
    return t.kind === TokenKind.NAME && t.text.toLowerCase() === word;
  }

  #keyword(word: string): void {
    const t = this.#next();
    if (!this.#isKeyword(t, word)) throw this.#unexpected(t, `"${word}"`);
  }

  #acceptKeyword(word: string): boolean {
    if (!this.#isKeyword(this.#peek(), word)) return false;
    this.#at++;
    return true;
  }

  #isPunct(t: Token, c: string): boolean {
    return t.kind === TokenKind.PUNCT && t.text === c;
  }

  #acceptPunct(c: string): boolean {
    if (!this.#isPunct(this.#peek(), c)) return false;
    this.#at++;
    return true;
  }

  #expectPunct(c: string): void {
    const t = this.#next();
    if (!this.#isPunct(t, c)) throw this.#unexpected(t, `"${c}"`);
  }

  #unexpected(t: Token, what: string) {
    const found = t.kind === TokenKind.EOF ? 'the end' : `"${t.text}"`;
    return queryError(`expected ${what}, found ${found}`, t.column, { found: t.text });
  }
}
