/**
 * Binds a parsed L8QL query to a model type: resolves the type and every path, checks what may be compared
 * with what, and converts literals to the field's type (64-bit integers to bigint, enum names to numbers).
 */
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { type L8Error, l8error } from '@layer8/protocol';
import { keysOf } from './keys.ts';
import type { AggregateFn, Comparator, Expr, Literal, Operand, PathRef, Query } from './ql-ast.ts';
import { queryError } from './ql-lexer.ts';
import { parseQuery } from './ql-parser.ts';
import type { TypeRegistry } from './registry.ts';
import { type ResolvedPath, resolvePath } from './resolve.ts';

/** How a leaf value compares. */
export type ValueKind = 'string' | 'number' | 'bigint' | 'bool' | 'bytes' | 'message';

/** A path bound to the model; `many` when it crosses a list or map without a key (any element). */
export interface BoundPath {
  readonly text: string;
  readonly resolved: ResolvedPath;
  readonly leaf: DescField;
  readonly kind: ValueKind;
  readonly many: boolean;
  readonly column: number;
}

/** A bound operand: a path, or an aggregate (`name` is its printed form, e.g. `sum(qty)`). */
export type BoundOperand =
  | { readonly kind: 'path'; readonly path: BoundPath; readonly name: string }
  | { readonly kind: 'aggregate'; readonly fn: AggregateFn; readonly arg?: BoundPath; readonly name: string };

/** A literal converted to the operand's type; `glob` is set for string patterns with `*`. */
export type BoundValue = string | number | bigint | boolean;

/** A bound boolean expression. */
export type BoundExpr =
  | { readonly kind: 'and'; readonly operands: readonly BoundExpr[] }
  | { readonly kind: 'or'; readonly operands: readonly BoundExpr[] }
  | { readonly kind: 'nil'; readonly negated: boolean; readonly left: BoundOperand }
  | { readonly kind: 'glob'; readonly negated: boolean; readonly left: BoundOperand; readonly pattern: string }
  | { readonly kind: 'compare'; readonly op: Comparator; readonly left: BoundOperand; readonly value: BoundValue }
  | {
      readonly kind: 'in';
      readonly negated: boolean;
      readonly left: BoundOperand;
      readonly values: readonly BoundValue[];
    };

/** A query ready to run over messages of `desc` or to translate to SQL. */
export interface BoundQuery {
  readonly query: Query;
  readonly desc: DescMessage;
  /** Selected operands; empty for `select *`. */
  readonly select: readonly BoundOperand[];
  readonly aggregate: boolean;
  readonly where?: BoundExpr;
  readonly groupBy: readonly BoundPath[];
  readonly having?: BoundExpr;
  readonly sortBy?: BoundOperand;
  /** Primary key paths, the tie-break of every sort. */
  readonly primary: readonly BoundPath[];
}

/**
 * Parses (when given text) and binds a query.
 * @throws L8_ERR_QUERY with `data.column` for syntax errors, unknown paths, and values that do not fit;
 *   L8_ERR_UNKNOWN_TYPE (with `data.column`) when the type is not registered.
 */
export function bindQuery(registry: TypeRegistry, query: string | Query): BoundQuery {
  const q = typeof query === 'string' ? parseQuery(query) : query;
  const desc = lookup(registry, q);
  const b = new Binder(desc, q.matchCase);
  const select = q.select === '*' ? [] : q.select.map((o) => b.operand(o));
  const aggregate = select.some((o) => o.kind === 'aggregate') || q.groupBy.length > 0;
  const groupBy = q.groupBy.map((g) => b.path(g));
  checkShape(q, select, groupBy, aggregate);
  const primary = keysOf(desc).primary.map((name) => b.path({ kind: 'path', path: name, column: 0 }));
  return {
    query: q,
    desc,
    select,
    aggregate,
    groupBy,
    primary,
    ...(q.where === undefined ? {} : { where: b.expr(q.where, false) }),
    ...(q.having === undefined ? {} : { having: b.expr(q.having, true) }),
    ...(q.sortBy === undefined ? {} : { sortBy: b.operand(q.sortBy) }),
  };
}

function lookup(registry: TypeRegistry, q: Query): DescMessage {
  try {
    return registry.get(q.from).desc;
  } catch (err) {
    const e = err as L8Error;
    throw l8error(e.code, `L8QL: ${e.message} at column ${q.fromColumn}`, {
      cause: err,
      data: { ...(e.data as object), column: q.fromColumn },
    });
  }
}

function checkShape(q: Query, select: readonly BoundOperand[], groupBy: readonly BoundPath[], aggregate: boolean) {
  const grouped = new Set(groupBy.map((g) => g.resolved.text));
  for (const item of select) {
    if (aggregate && item.kind === 'path' && !grouped.has(item.path.resolved.text)) {
      throw queryError(`"${item.name}" must be in group-by or inside an aggregate`, item.path.column);
    }
  }
  if (q.having !== undefined && q.groupBy.length === 0) throw queryError('"having" needs "group-by"', q.fromColumn);
  const sortPath = q.sortBy?.kind === 'path' ? q.sortBy : undefined;
  if (aggregate && sortPath !== undefined && !groupBy.some((g) => g.text === sortPath.path)) {
    throw queryError(`"${sortPath.path}" must be in group-by to sort an aggregate query`, sortPath.column);
  }
  if (!aggregate && q.sortBy?.kind === 'aggregate') {
    throw queryError('sorting by an aggregate needs an aggregate query', q.sortBy.column);
  }
}

class Binder {
  readonly #desc: DescMessage;
  readonly #matchCase: boolean;

  constructor(desc: DescMessage, matchCase: boolean) {
    this.#desc = desc;
    this.#matchCase = matchCase;
  }

  path(ref: PathRef): BoundPath {
    let resolved: ResolvedPath;
    try {
      resolved = resolvePath(this.#desc, ref.path, { anyElement: true });
    } catch (err) {
      throw queryError((err as Error).message, ref.column, { path: ref.path });
    }
    const leaf = resolved.steps.at(-1)?.field as DescField;
    const many = resolved.steps.some((s) => s.key === undefined && isCollection(s.field));
    return { text: ref.path, resolved, leaf, kind: kindOf(leaf), many, column: ref.column };
  }

  operand(o: Operand): BoundOperand {
    if (o.kind === 'path') return { kind: 'path', path: this.path(o), name: o.path };
    const name = `${o.fn}(${o.arg})`;
    if (o.arg === '*') return { kind: 'aggregate', fn: o.fn, name };
    const arg = this.path({ kind: 'path', path: o.arg, column: o.column });
    const numeric = arg.kind === 'number' || arg.kind === 'bigint';
    const ordered = numeric || arg.kind === 'string' || arg.kind === 'bool';
    if ((o.fn === 'sum' || o.fn === 'avg') && !numeric) throw queryError(`${o.fn} needs a number`, o.column);
    if ((o.fn === 'min' || o.fn === 'max') && !ordered) throw queryError(`${o.fn} needs a scalar`, o.column);
    return { kind: 'aggregate', fn: o.fn, arg, name };
  }

  expr(e: Expr, having: boolean): BoundExpr {
    if (e.kind === 'and' || e.kind === 'or') {
      const operands = e.operands.map((x) => this.expr(x, having));
      return e.kind === 'and' ? { kind: 'and', operands } : { kind: 'or', operands };
    }
    if (e.left.kind === 'aggregate' && !having) throw queryError('aggregates belong in "having"', e.left.column);
    const left = this.operand(e.left);
    const kind = left.kind === 'path' ? left.path.kind : aggregateKind(left);
    if (e.kind === 'in') {
      const values = e.values.map((v) => this.#value(v, kind, left, e.column));
      return { kind: 'in', negated: e.negated, left, values };
    }
    const negated = e.op === '!=';
    if (e.right.kind === 'nil') {
      if (e.op !== '=' && e.op !== '!=') throw queryError('nil compares only with = and !=', e.column);
      return { kind: 'nil', negated, left };
    }
    const value = this.#value(e.right, kind, left, e.column);
    if (typeof value === 'string' && value.includes('*') && (e.op === '=' || e.op === '!=')) {
      return { kind: 'glob', negated, left, pattern: value };
    }
    return { kind: 'compare', op: e.op, left, value };
  }

  #value(l: Literal, kind: ValueKind, left: BoundOperand, column: number): BoundValue {
    const value = convert(l, kind, left.kind === 'path' ? left.path.leaf : undefined);
    if (value === undefined) {
      throw queryError(`${describe(l)} does not fit "${left.name}" (${kind})`, column, { path: left.name });
    }
    return typeof value === 'string' && !this.#matchCase ? value.toLowerCase() : value;
  }
}

function isCollection(field: DescField): boolean {
  return field.fieldKind === 'list' || field.fieldKind === 'map';
}

function aggregateKind(a: BoundOperand & { kind: 'aggregate' }): ValueKind {
  if (a.fn === 'count' || a.fn === 'avg') return 'number';
  return a.arg?.kind ?? 'number';
}

/** The comparison kind of a field's values (list and map fields: of their elements). */
export function kindOf(field: DescField): ValueKind {
  if (field.message !== undefined) return 'message';
  if (field.enum !== undefined) return 'number';
  switch (field.scalar) {
    case ScalarType.STRING:
      return 'string';
    case ScalarType.BOOL:
      return 'bool';
    case ScalarType.BYTES:
      return 'bytes';
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 'bigint';
    default:
      return 'number';
  }
}

function convert(l: Literal, kind: ValueKind, leaf: DescField | undefined): BoundValue | undefined {
  const text = l.kind === 'string' ? l.value : l.kind === 'number' ? l.text : undefined;
  switch (kind) {
    case 'string':
      return text;
    case 'bool':
      return l.kind === 'bool' ? l.value : text === 'true' ? true : text === 'false' ? false : undefined;
    case 'bigint':
      return text !== undefined && /^-?\d+$/.test(text) ? BigInt(text) : undefined;
    case 'number':
      return l.kind === 'number' ? Number(l.text) : enumNumber(leaf, text);
    default:
      return undefined;
  }
}

/** An enum value by name: full (`STATUS_OPEN`) or without the type prefix (`open`), any case. */
function enumNumber(leaf: DescField | undefined, text: string | undefined): number | undefined {
  const e = leaf?.enum;
  if (e === undefined || text === undefined) return undefined;
  const upper = text.toUpperCase();
  return e.values.find((v) => v.name === upper || v.localName.toUpperCase() === upper)?.number;
}

function describe(l: Literal): string {
  if (l.kind === 'string') return `'${l.value}'`;
  return l.kind === 'number' ? l.text : l.kind === 'bool' ? String(l.value) : 'nil';
}
