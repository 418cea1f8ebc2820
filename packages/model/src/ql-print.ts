/** Prints a parsed L8QL query back to text, and the stable hash of a query used as a cache key. */
import { createHash } from 'node:crypto';
import type { Expr, Literal, Operand, Query } from './ql-ast.ts';

/** Options of {@link printQuery}. */
export interface PrintOptions {
  /**
   * Canonical form for hashing: names lower-cased, and string values too unless the query has `match-case`
   * (then `where name = 'A'` and `WHERE Name='a'` hash alike).
   */
  readonly canonical?: boolean;
}

/** Prints `query` in the canonical clause order; `parseQuery(printQuery(q))` gives `q` back (columns aside). */
export function printQuery(query: Query, options: PrintOptions = {}): string {
  const fold = options.canonical === true;
  const name = (s: string) => (fold ? s.toLowerCase() : s);
  const value = (s: string) => (fold && !query.matchCase ? s.toLowerCase() : s);
  const p = new Printer(name, value);
  const select = query.select === '*' ? '*' : query.select.map((o) => p.operand(o)).join(', ');
  const parts = [`select ${select} from ${name(query.from)}`];
  if (query.where !== undefined) parts.push(`where ${p.expr(query.where, false)}`);
  if (query.groupBy.length > 0) parts.push(`group-by ${query.groupBy.map((g) => p.operand(g)).join(', ')}`);
  if (query.having !== undefined) parts.push(`having ${p.expr(query.having, false)}`);
  if (query.sortBy !== undefined) parts.push(`sort-by ${p.operand(query.sortBy)}`);
  if (query.descending) parts.push('descending');
  if (query.limit !== undefined) parts.push(`limit ${query.limit}`);
  if (query.page !== undefined) parts.push(`page ${query.page}`);
  if (query.matchCase) parts.push('match-case');
  return parts.join(' ');
}

class Printer {
  readonly #name: (s: string) => string;
  readonly #value: (s: string) => string;

  constructor(name: (s: string) => string, value: (s: string) => string) {
    this.#name = name;
    this.#value = value;
  }

  operand(o: Operand): string {
    if (o.kind === 'path') return this.#name(o.path);
    return `${o.fn}(${o.arg === '*' ? '*' : this.#name(o.arg)})`;
  }

  /** `nested` is true inside an `and`, where an `or` needs parentheses. */
  expr(e: Expr, nested: boolean): string {
    if (e.kind === 'or') {
      const text = e.operands.map((x) => this.expr(x, false)).join(' or ');
      return nested ? `(${text})` : text;
    }
    if (e.kind === 'and') return e.operands.map((x) => this.expr(x, true)).join(' and ');
    const left = this.operand(e.left);
    if (e.kind === 'compare') return `${left} ${e.op} ${this.literal(e.right)}`;
    const values = e.values.map((v) => this.literal(v)).join(', ');
    return `${left} ${e.negated ? 'not in' : 'in'} [${values}]`;
  }

  literal(l: Literal): string {
    if (l.kind === 'nil') return 'nil';
    if (l.kind === 'bool') return String(l.value);
    if (l.kind === 'number') return l.text;
    return `'${this.#value(l.value)
      .replace(/[\\']/g, (c) => `\\${c}`)
      .replace(/\n/g, '\\n')
      .replace(/\t/g, '\\t')}'`;
  }
}

/** A stable hash (16 hex digits of SHA-256) of the canonical form of `query`, for caching results. */
export function queryHash(query: Query): string {
  return createHash('sha256')
    .update(printQuery(query, { canonical: true }))
    .digest('hex')
    .slice(0, 16);
}
