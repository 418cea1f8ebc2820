/**
 * The L8QL interpreter: filters, sorts, pages and aggregates messages in memory. Its semantics are the SQL
 * ones of `ql-sql.ts`, so a cache and a store answer a query alike: an absent value (null) fails every
 * comparison, `= nil` holds for absent and zero values, string comparisons fold case unless `match-case`,
 * sorting puts absent values first (last when descending) and breaks ties by primary key.
 */
import type { Message } from '@bufbuild/protobuf';
import type { Query } from './ql-ast.ts';
import { type BoundExpr, type BoundOperand, type BoundPath, type BoundQuery, bindQuery } from './ql-bind.ts';
import { compareValues, firstValue, globRegExp, isZero, valuesAt } from './ql-values.ts';
import type { TypeRegistry } from './registry.ts';

/** A row of an aggregate query, or a projected row: operand name (`city`, `count(*)`) → value or null. */
export type Row = Record<string, unknown>;

/** What a query returns. */
export interface QueryResult<T extends Message = Message> {
  /** The page of matching messages (entity queries; empty for aggregate queries). */
  readonly items: T[];
  /** Rows: the selected fields of each item, or one row per group of an aggregate query. */
  readonly rows: Row[];
  /** Matches (items or groups) before paging. */
  readonly total: number;
}

/**
 * Runs a query over `items`.
 * @throws L8_ERR_QUERY / L8_ERR_UNKNOWN_TYPE as `bindQuery` when given text or an unbound query.
 */
export function runQuery<T extends Message>(
  registry: TypeRegistry,
  query: string | Query | BoundQuery,
  items: Iterable<T>,
): QueryResult<T> {
  const bound = typeof query === 'object' && 'desc' in query ? query : bindQuery(registry, query);
  const matched = [...items].filter((item) => matches(bound, item));
  if (bound.aggregate) {
    const rows = sortRows(bound, groupRows(bound, matched)).filter((row) => holds(bound, bound.having, row));
    return { items: [], rows: pageOf(bound, rows), total: rows.length };
  }
  const page = pageOf(bound, sortItems(bound, matched));
  const rows = bound.select.length === 0 ? [] : page.map((item) => projectRow(bound, item));
  return { items: page, rows, total: matched.length };
}

/** True when `item` satisfies the where clause (always, without one). */
export function matches(bound: BoundQuery, item: Message): boolean {
  return bound.where === undefined || evaluate(bound, bound.where, (o) => valuesOf(o, item));
}

/** The selected paths of `item` as a row (first value of each, or null). */
export function projectRow(bound: BoundQuery, item: Message): Row {
  const row: Row = {};
  for (const o of bound.select) if (o.kind === 'path') row[o.name] = firstValue(o.path, item);
  return row;
}

function valuesOf(o: BoundOperand, item: Message): unknown[] {
  return o.kind === 'path' ? valuesAt(o.path, item) : [];
}

function holds(bound: BoundQuery, e: BoundExpr | undefined, row: Row): boolean {
  if (e === undefined) return true;
  return evaluate(bound, e, (o) => (row[o.name] === null || row[o.name] === undefined ? [] : [row[o.name]]));
}

function evaluate(bound: BoundQuery, e: BoundExpr, values: (o: BoundOperand) => unknown[]): boolean {
  if (e.kind === 'and') return e.operands.every((x) => evaluate(bound, x, values));
  if (e.kind === 'or') return e.operands.some((x) => evaluate(bound, x, values));
  const fold = (v: unknown) => (typeof v === 'string' && !bound.query.matchCase ? v.toLowerCase() : v);
  const vs = values(e.left).map(fold);
  if (e.kind === 'nil') return vs.every(isZero) !== e.negated;
  if (e.kind === 'glob') {
    const re = globRegExp(e.pattern);
    return vs.some((v) => re.test(v as string) !== e.negated);
  }
  if (e.kind === 'in') return vs.some((v) => e.values.some((x) => compareValues(v, x) === 0) !== e.negated);
  return vs.some((v) => test(e.op, compareValues(v, e.value)));
}

function test(op: string, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

function sortItems<T extends Message>(bound: BoundQuery, items: T[]): T[] {
  const sort = bound.sortBy;
  const sign = bound.query.descending ? -1 : 1;
  const keyed = items.map((item) => ({
    item,
    main: sort?.kind === 'path' ? firstValue(sort.path, item) : null,
    ties: bound.primary.map((p) => firstValue(p, item)),
  }));
  keyed.sort((a, b) => sign * compareValues(a.main, b.main) || compareAll(a.ties, b.ties));
  return keyed.map((k) => k.item);
}

function sortRows(bound: BoundQuery, rows: Row[]): Row[] {
  const sign = bound.query.descending ? -1 : 1;
  const main = bound.sortBy?.name;
  const ties = (r: Row) => bound.groupBy.map((g) => r[g.text]);
  const key = (r: Row) => (main === undefined ? null : r[main]);
  return rows.sort((a, b) => sign * compareValues(key(a), key(b)) || compareAll(ties(a), ties(b)));
}

function compareAll(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function pageOf<T>(bound: BoundQuery, all: T[]): T[] {
  const { limit, page = 0 } = bound.query;
  return limit === undefined ? all : all.slice(page * limit, page * limit + limit);
}

/** Groups matched items by the group-by paths and computes every aggregate the query mentions. */
function groupRows(bound: BoundQuery, items: readonly Message[]): Row[] {
  const groups = new Map<string, Message[]>();
  for (const item of items) {
    const key = bound.groupBy.map((g) => keyPart(firstValue(g, item))).join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  if (bound.groupBy.length === 0 && groups.size === 0) groups.set('', []);
  return [...groups.values()].map((members) => rowOf(bound, members));
}

function keyPart(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
}

function rowOf(bound: BoundQuery, members: readonly Message[]): Row {
  const row: Row = {};
  const first = members[0];
  for (const g of bound.groupBy) row[g.text] = first === undefined ? null : firstValue(g, first);
  for (const a of aggregatesOf(bound)) row[a.name] = aggregate(a, members);
  return row;
}

function aggregatesOf(bound: BoundQuery): (BoundOperand & { kind: 'aggregate' })[] {
  const all: BoundOperand[] = [...bound.select, ...(bound.sortBy === undefined ? [] : [bound.sortBy])];
  collectOperands(bound.having, all);
  return all.filter((o): o is BoundOperand & { kind: 'aggregate' } => o.kind === 'aggregate');
}

function collectOperands(e: BoundExpr | undefined, out: BoundOperand[]): void {
  if (e === undefined) return;
  if (e.kind === 'and' || e.kind === 'or') for (const x of e.operands) collectOperands(x, out);
  else out.push(e.left);
}

function aggregate(a: BoundOperand & { kind: 'aggregate' }, members: readonly Message[]): unknown {
  if (a.arg === undefined) return members.length;
  const arg: BoundPath = a.arg;
  const values = members.flatMap((m) => valuesAt(arg, m));
  if (a.fn === 'count') return values.length;
  if (values.length === 0) return null;
  if (a.fn === 'min' || a.fn === 'max') return values.reduce((x, y) => pick(a.fn, x, y));
  const sum = values.reduce((x, y) => (x as number) + (y as number));
  return a.fn === 'sum' ? sum : Number(sum) / values.length;
}

function pick(fn: string, x: unknown, y: unknown): unknown {
  const c = compareValues(y, x);
  return (fn === 'min' ? c < 0 : c > 0) ? y : x;
}
