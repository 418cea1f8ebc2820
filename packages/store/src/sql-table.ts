/**
 * The table of a SQL store and its statements, for SQLite and PostgreSQL. A row holds the key, the version
 * and the protobuf bytes of the entity, plus the model's query columns (`sqlColumns` of `@layer8/model`),
 * which L8QL queries translated by `toSql` filter and sort on. The three store columns start with `$`, which
 * no protobuf field name can, so they never collide with a model column.
 */
import type { DescMessage, Message } from '@bufbuild/protobuf';
import {
  type BoundQuery,
  keysOf,
  type SqlColumn,
  SqlDialect,
  type SqlQuery,
  sqlColumns,
  sqlRow,
  toSql,
} from '@layer8/model';
import type { StoredItem } from './store.ts';

/** The key column: TEXT, ordered by code point (BINARY in SQLite, `COLLATE "C"` in PostgreSQL). */
export const KEY = '$key';
/** The version column. */
export const VERSION = '$version';
/** The protobuf bytes of the entity. */
export const BODY = '$body';

/** PostgreSQL's identifier limit in bytes; longer index names are hashed. */
const MAX_NAME = 63;

/** The statements of one model table in one dialect. */
export class SqlTable {
  readonly name: string;
  readonly dialect: SqlDialect;
  /** The model's query columns. */
  readonly columns: readonly SqlColumn[];
  readonly #desc: DescMessage;
  readonly #upsert: string;

  constructor(desc: DescMessage, name: string, dialect: SqlDialect) {
    this.#desc = desc;
    this.name = name;
    this.dialect = dialect;
    this.columns = sqlColumns(desc, dialect);
    this.#upsert = this.#upsertSql();
  }

  /** `CREATE TABLE IF NOT EXISTS` with the store columns and the model's. */
  create(): SqlQuery {
    const pg = this.dialect === SqlDialect.POSTGRES;
    const own = [
      `${quote(KEY)} ${pg ? 'TEXT COLLATE "C"' : 'TEXT'} PRIMARY KEY NOT NULL`,
      `${quote(VERSION)} ${pg ? 'BIGINT' : 'INTEGER'} NOT NULL`,
      `${quote(BODY)} ${pg ? 'BYTEA' : 'BLOB'} NOT NULL`,
    ];
    const model = this.columns.map((c) => `${quote(c.name)} ${this.#type(c)}`);
    return { sql: `CREATE TABLE IF NOT EXISTS ${quote(this.name)} (${[...own, ...model].join(', ')})`, params: [] };
  }

  /** An index on every unique and non-unique key of the model (not enforced: the service checks unique keys). */
  indexes(): SqlQuery[] {
    const { unique, nonUnique } = keysOf(this.#desc);
    return [...unique, ...nonUnique].map((fields) => ({
      sql: `CREATE INDEX IF NOT EXISTS ${quote(indexName(this.name, fields))} ON ${quote(this.name)} (${fields.map(quote).join(', ')})`,
      params: [],
    }));
  }

  /** The column names the table has now, as rows `{name}`. */
  listColumns(): SqlQuery {
    if (this.dialect === SqlDialect.SQLITE)
      return { sql: 'SELECT name FROM pragma_table_info(?)', params: [this.name] };
    return {
      sql: 'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
      params: [this.name],
    };
  }

  /** Adds a model column (one a newer version of the type declares). */
  addColumn(c: SqlColumn): SqlQuery {
    return { sql: `ALTER TABLE ${quote(this.name)} ADD COLUMN ${quote(c.name)} ${this.#type(c)}`, params: [] };
  }

  /** Inserts or replaces the row of `stored`, whose checked bytes are `body`. */
  upsert(stored: StoredItem, body: Uint8Array): SqlQuery {
    const row = sqlRow(this.#desc, stored.item, this.dialect);
    const values = this.columns.map((c) => row[c.name]);
    return { sql: this.#upsert, params: [stored.key, stored.version, bufferOf(body), ...values] };
  }

  /** Sets `columns` of the row of `key` from `item` (after they were added). */
  refill(key: string, item: Message, columns: readonly SqlColumn[]): SqlQuery {
    const row = sqlRow(this.#desc, item, this.dialect);
    const set = columns.map((c, i) => `${quote(c.name)} = ${this.#placeholder(i + 1)}`);
    return {
      sql: `UPDATE ${quote(this.name)} SET ${set.join(', ')} WHERE ${quote(KEY)} = ${this.#placeholder(columns.length + 1)}`,
      params: [...columns.map((c) => row[c.name]), key],
    };
  }

  /** The row of `key`. */
  select(key: string): SqlQuery {
    return {
      sql: `SELECT ${this.#own()} FROM ${quote(this.name)} WHERE ${quote(KEY)} = ${this.#placeholder(1)}`,
      params: [key],
    };
  }

  /** Deletes the row of `key`. */
  remove(key: string): SqlQuery {
    return { sql: `DELETE FROM ${quote(this.name)} WHERE ${quote(KEY)} = ${this.#placeholder(1)}`, params: [key] };
  }

  /** Up to `limit` rows in key order, after `after` when given. */
  page(after: string | undefined, limit: number): SqlQuery {
    const where = after === undefined ? '' : ` WHERE ${quote(KEY)} > ${this.#placeholder(1)}`;
    const params = after === undefined ? [limit] : [after, limit];
    const sql = `SELECT ${this.#own()} FROM ${quote(this.name)}${where} ORDER BY ${quote(KEY)} LIMIT ${this.#placeholder(params.length)}`;
    return { sql, params };
  }

  /** The number of rows, as `{n}`. */
  count(): SqlQuery {
    return { sql: `SELECT count(*) AS n FROM ${quote(this.name)}`, params: [] };
  }

  /**
   * The page of an entity query (key, version and bytes, ties broken by key) and, when it has a limit, the
   * count of all its matches (the same where clause, unsorted, unpaged).
   */
  query(bound: BoundQuery): { readonly page: SqlQuery; readonly count?: SqlQuery } {
    const options = { dialect: this.dialect, table: this.name };
    const page = toSql(bound, { ...options, columns: [KEY, VERSION, BODY], tieBreak: KEY });
    if (bound.query.limit === undefined) return { page };
    const { limit: _limit, page: _page, ...query } = bound.query;
    const { sortBy: _sortBy, ...unsorted } = bound;
    const all = toSql({ ...unsorted, query, primary: [] }, { ...options, columns: [KEY] });
    return { page, count: { sql: `SELECT count(*) AS n FROM (${all.sql}) AS m`, params: all.params } };
  }

  #own(): string {
    return [KEY, VERSION, BODY].map(quote).join(', ');
  }

  /** Column types: the model's, with text ordered by code point in PostgreSQL as in SQLite. */
  #type(c: SqlColumn): string {
    return this.dialect === SqlDialect.POSTGRES && c.sqlType === 'TEXT' ? 'TEXT COLLATE "C"' : c.sqlType;
  }

  #placeholder(n: number): string {
    return this.dialect === SqlDialect.POSTGRES ? `$${n}` : '?';
  }

  #upsertSql(): string {
    const names = [KEY, VERSION, BODY, ...this.columns.map((c) => c.name)];
    const values = names.map((_, i) => this.#placeholder(i + 1));
    const set = names.slice(1).map((n) => `${quote(n)} = excluded.${quote(n)}`);
    return (
      `INSERT INTO ${quote(this.name)} (${names.map(quote).join(', ')}) VALUES (${values.join(', ')}) ` +
      `ON CONFLICT (${quote(KEY)}) DO UPDATE SET ${set.join(', ')}`
    );
  }
}

/** A Buffer over the same bytes (what both drivers bind as a BLOB / BYTEA). */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `<table>$<field>$…`, or a hash of it when longer than PostgreSQL keeps. */
function indexName(table: string, fields: readonly string[]): string {
  const name = [table, ...fields].join('$');
  return Buffer.byteLength(name) <= MAX_NAME ? name : `l8$${fnv1a(name).toString(16)}`;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** A double-quoted identifier (both dialects). */
function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
