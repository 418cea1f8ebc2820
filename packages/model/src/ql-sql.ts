/**
 * Translates a bound L8QL query to parameterized SQL for SQLite or PostgreSQL. Values always travel as
 * parameters, never spliced into the text. A model maps to one table (snake_case of the message name) with a
 * column per scalar reachable through singular messages (`ship_to.city` → `ship_to__city`); NULL marks an
 * absent value. Paths through lists and maps have no column and are rejected with L8_ERR_QUERY.
 */
import { type DescField, type DescMessage, type Message, ScalarType } from '@bufbuild/protobuf';
import { type BoundExpr, type BoundOperand, type BoundPath, type BoundQuery, kindOf } from './ql-bind.ts';
import { queryError } from './ql-lexer.ts';
import { firstValue } from './ql-values.ts';
import { resolvePath } from './resolve.ts';

/** SQL dialects. */
export const SqlDialect = { SQLITE: 'sqlite', POSTGRES: 'postgres' } as const;

/** A value of {@link SqlDialect}. */
export type SqlDialect = (typeof SqlDialect)[keyof typeof SqlDialect];

/** Options of the SQL functions. */
export interface SqlOptions {
  /** Default SQLite. */
  readonly dialect?: SqlDialect;
  /** Table name; default the snake_case message name. */
  readonly table?: string;
  /** Columns an entity query selects instead of its select list (a store reads its key and bytes). */
  readonly columns?: readonly string[];
  /** A column that breaks the ties left after the primary key, ascending (a store's unique key column). */
  readonly tieBreak?: string;
}

/** SQL text and its parameters, in order (`?` for SQLite, `$1…` for PostgreSQL). */
export interface SqlQuery {
  readonly sql: string;
  readonly params: unknown[];
}

/** One column of a model table. */
export interface SqlColumn {
  readonly name: string;
  /** The key-less property path it holds. */
  readonly path: string;
  readonly sqlType: string;
}

/** The columns of the table of `desc`: its scalars, through singular messages (not recursive ones). */
export function sqlColumns(desc: DescMessage, dialect: SqlDialect = SqlDialect.SQLITE): SqlColumn[] {
  const walk = (d: DescMessage, prefix: string, seen: readonly string[]): SqlColumn[] =>
    d.fields.flatMap((f) => {
      const path = prefix === '' ? f.name : `${prefix}.${f.name}`;
      if (f.fieldKind === 'scalar' || f.fieldKind === 'enum') {
        return [{ name: columnName(path), path, sqlType: sqlType(f, dialect) }];
      }
      if (f.fieldKind !== 'message' || seen.includes(f.message.typeName)) return [];
      return walk(f.message, path, [...seen, f.message.typeName]);
    });
  return walk(desc, '', [desc.typeName]);
}

/** `CREATE TABLE IF NOT EXISTS` for `desc` (no keys or indexes: stores add their own). */
export function createTableSql(desc: DescMessage, options: SqlOptions = {}): string {
  const cols = sqlColumns(desc, options.dialect).map((c) => `${quote(c.name)} ${c.sqlType}`);
  return `CREATE TABLE IF NOT EXISTS ${quote(tableOf(desc, options))} (${cols.join(', ')})`;
}

/** The row of `message` for the table of its type: column → value, null when absent. */
export function sqlRow(desc: DescMessage, message: Message, dialect: SqlDialect = SqlDialect.SQLITE) {
  const row: Record<string, unknown> = {};
  for (const c of sqlColumns(desc, dialect)) {
    const path = resolvePath(desc, c.path);
    const leaf = path.steps.at(-1)?.field as DescField;
    const bound = { text: c.path, resolved: path, leaf, kind: kindOf(leaf), many: false, column: 0 };
    row[c.name] = param(firstValue(bound, message), dialect);
  }
  return row;
}

/**
 * Translates `bound` to SQL.
 * @throws L8_ERR_QUERY with `data.column` when a path has no column (through a list or map, or a whole
 *   message compared with something else than nil).
 */
export function toSql(bound: BoundQuery, options: SqlOptions = {}): SqlQuery {
  return new Translator(bound, options).translate(tableOf(bound.desc, options));
}

class Translator {
  readonly #bound: BoundQuery;
  readonly #dialect: SqlDialect;
  readonly #options: SqlOptions;
  readonly #params: unknown[] = [];

  constructor(bound: BoundQuery, options: SqlOptions) {
    this.#bound = bound;
    this.#dialect = options.dialect ?? SqlDialect.SQLITE;
    this.#options = options;
  }

  translate(table: string): SqlQuery {
    const b = this.#bound;
    const parts = [`SELECT ${this.#selectList()} FROM ${quote(table)}`];
    if (b.where !== undefined) parts.push(`WHERE ${this.#expr(b.where)}`);
    if (b.groupBy.length > 0) parts.push(`GROUP BY ${b.groupBy.map((g) => this.#column(g)).join(', ')}`);
    if (b.having !== undefined) parts.push(`HAVING ${this.#expr(b.having)}`);
    const order = this.#orderBy();
    if (order.length > 0) parts.push(`ORDER BY ${order.join(', ')}`);
    const { limit, page = 0 } = b.query;
    if (limit !== undefined) parts.push(`LIMIT ${this.#param(limit)} OFFSET ${this.#param(page * limit)}`);
    return { sql: parts.join(' '), params: this.#params };
  }

  #selectList(): string {
    const b = this.#bound;
    const columns = this.#options.columns;
    if (!b.aggregate && columns !== undefined) return columns.map(quote).join(', ');
    if (!b.aggregate) return b.select.length === 0 ? '*' : b.select.map((o) => this.#aliased(o)).join(', ');
    const groups = b.groupBy.map((g) => `${this.#column(g)} AS ${quote(g.text)}`);
    const aggregates = b.select.filter((o) => o.kind === 'aggregate').map((o) => this.#aliased(o));
    return [...groups, ...aggregates].join(', ');
  }

  #aliased(o: BoundOperand): string {
    return `${this.#operand(o)} AS ${quote(o.name)}`;
  }

  #orderBy(): string[] {
    const b = this.#bound;
    const dir = b.query.descending ? 'DESC NULLS LAST' : 'ASC NULLS FIRST';
    const main = b.sortBy === undefined ? [] : [`${this.#operand(b.sortBy)} ${dir}`];
    const ties = (b.aggregate ? b.groupBy : b.primary).map((p) => `${this.#column(p)} ASC NULLS FIRST`);
    const last = this.#options.tieBreak;
    return [...main, ...ties, ...(last === undefined || b.aggregate ? [] : [`${quote(last)} ASC`])];
  }

  #expr(e: BoundExpr): string {
    if (e.kind === 'and' || e.kind === 'or') {
      return `(${e.operands.map((x) => this.#expr(x)).join(e.kind === 'and' ? ' AND ' : ' OR ')})`;
    }
    const col = this.#operand(e.left, true);
    if (e.kind === 'nil') return this.#nil(e.left, col, e.negated);
    if (e.kind === 'glob') return this.#glob(col, e.pattern, e.negated);
    if (e.kind === 'in') {
      const list = e.values.map((v) => this.#value(v)).join(', ');
      return `${col} ${e.negated ? 'NOT IN' : 'IN'} (${list})`;
    }
    return `${col} ${e.op === '!=' ? '<>' : e.op} ${this.#value(e.value)}`;
  }

  #nil(left: BoundOperand, col: string, negated: boolean): string {
    const zero = ZERO[left.kind === 'path' ? left.path.kind : 'number'];
    const test = zero === undefined ? `${col} IS NULL` : `(${col} IS NULL OR ${col} = ${this.#param(zero)})`;
    return negated ? `NOT ${test}` : test;
  }

  #glob(col: string, pattern: string, negated: boolean): string {
    const not = negated ? 'NOT ' : '';
    if (this.#bound.query.matchCase && this.#dialect === SqlDialect.SQLITE) {
      return `${not}${col} GLOB ${this.#param(pattern.replace(/[[?]/g, (c) => `[${c}]`))}`;
    }
    const like = pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
    return `${not}${col} LIKE ${this.#param(like)} ESCAPE '\\'`;
  }

  /** The SQL of an operand; `fold` lower-cases strings when the query does not match case. */
  #operand(o: BoundOperand, fold = false): string {
    const sql = o.kind === 'path' ? this.#column(o.path) : this.#aggregate(o);
    const kind = o.kind === 'path' ? o.path.kind : o.arg?.kind;
    const lower =
      fold && kind === 'string' && !this.#bound.query.matchCase && !(o.kind === 'aggregate' && o.fn === 'count');
    return lower ? `lower(${sql})` : sql;
  }

  #aggregate(o: BoundOperand & { kind: 'aggregate' }): string {
    return o.arg === undefined ? 'count(*)' : `${o.fn}(${this.#column(o.arg)})`;
  }

  #column(p: BoundPath): string {
    const plain = p.resolved.steps.every(
      (s) => s.key === undefined && s.field.fieldKind !== 'list' && s.field.fieldKind !== 'map',
    );
    if (!plain || p.kind === 'message') {
      throw queryError(`"${p.text}" has no SQL column (lists, maps and whole messages do not translate)`, p.column, {
        path: p.text,
      });
    }
    return quote(columnName(p.resolved.steps.map((s) => s.field.name).join('.')));
  }

  #param(v: unknown): string {
    this.#params.push(param(v, this.#dialect));
    return this.#dialect === SqlDialect.POSTGRES ? `$${this.#params.length}` : '?';
  }

  /**
   * A compared value. PostgreSQL types a parameter after its column, so a number an `integer` cannot hold
   * (a fraction, or past 32 bits) is cast to `double precision` to compare as the interpreter does.
   */
  #value(v: unknown): string {
    const int4 = typeof v !== 'number' || (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31);
    return this.#dialect === SqlDialect.POSTGRES && !int4 ? `${this.#param(v)}::double precision` : this.#param(v);
  }
}

const ZERO: Partial<Record<string, unknown>> = { string: '', number: 0, bigint: 0n, bool: false };

/** A value as a driver parameter: booleans are 0/1 for SQLite, bytes a Buffer. */
function param(v: unknown, dialect: SqlDialect): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  return typeof v === 'boolean' && dialect === SqlDialect.SQLITE ? Number(v) : v;
}

function sqlType(f: DescField, dialect: SqlDialect): string {
  if (f.fieldKind === 'enum') return 'INTEGER';
  switch (f.scalar) {
    case ScalarType.STRING:
      return 'TEXT';
    case ScalarType.BYTES:
      return dialect === SqlDialect.POSTGRES ? 'BYTEA' : 'BLOB';
    case ScalarType.BOOL:
      return dialect === SqlDialect.POSTGRES ? 'BOOLEAN' : 'INTEGER';
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return dialect === SqlDialect.POSTGRES ? 'DOUBLE PRECISION' : 'REAL';
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return dialect === SqlDialect.POSTGRES ? 'BIGINT' : 'INTEGER';
    default:
      return dialect === SqlDialect.POSTGRES && kindOf(f) === 'bigint' ? 'BIGINT' : 'INTEGER';
  }
}

function tableOf(desc: DescMessage, options: SqlOptions): string {
  return options.table ?? desc.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** The column of a key-less path: dots become double underscores. */
export function columnName(path: string): string {
  return path.replace(/\./g, '__');
}

/** A double-quoted identifier (both dialects). */
function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
