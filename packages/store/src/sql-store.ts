/**
 * The store over a SQL database, shared by SQLite and PostgreSQL: each backend only provides a
 * {@link SqlDriver} (how to run statements, transactions and snapshots, and how its errors map to codes).
 */
import type { Message } from '@bufbuild/protobuf';
import type { SqlColumn, SqlDialect, SqlQuery } from '@layer8/model';
import { l8error } from '@layer8/protocol';
import { checkKey, closedError, EntityCodec, scanBounds } from './entity-codec.ts';
import { BODY, KEY, SqlTable, VERSION } from './sql-table.ts';
import type { ScanOptions, Store, StoredItem, StoreOp, StoreOptions, StoreQueryResult } from './store.ts';

/** A row as a driver returns it: column name → value. */
export type SqlRecord = Record<string, unknown>;

/**
 * What a SQL backend provides. Every method rejects with an L8Error (L8_ERR_STORAGE for the database's own
 * failures) and lets an L8Error thrown while consuming `write`'s statements through unchanged.
 */
export interface SqlDriver {
  readonly backend: 'sqlite' | 'postgres';
  readonly dialect: SqlDialect;
  /** Runs one read statement. */
  all(query: SqlQuery): Promise<SqlRecord[]>;
  /** Runs read statements on one snapshot of the data. */
  snapshot(queries: readonly SqlQuery[]): Promise<SqlRecord[][]>;
  /**
   * Runs statements in one transaction, consuming the iterable inside it (a throw rolls everything back),
   * and resolves with each statement's changed-row count once committed (durable).
   */
  write(statements: Iterable<SqlQuery>): Promise<number[]>;
  close(): Promise<void>;
}

/** Rows per page of a scan. */
const PAGE = 256;

/**
 * Creates the table (or adds the columns a newer version of the type declares, filling them from the stored
 * bytes), then its key indexes, and returns the store. The driver is closed when this fails.
 */
export async function openSqlStore(driver: SqlDriver, o: StoreOptions): Promise<Store> {
  const codec = new EntityCodec(o);
  const table = new SqlTable(codec.desc, codec.table, driver.dialect);
  try {
    await prepareTable(driver, table, codec);
  } catch (err) {
    await driver.close();
    throw err;
  }
  return new SqlStore(driver, codec, table);
}

async function prepareTable(driver: SqlDriver, table: SqlTable, codec: EntityCodec): Promise<void> {
  await driver.write([table.create()]);
  const present = new Set((await driver.all(table.listColumns())).map((r) => String(r.name)));
  const missing = table.columns.filter((c) => !present.has(c.name));
  if (missing.length > 0) {
    await driver.write(missing.map((c) => table.addColumn(c)));
    await refill(driver, table, codec, missing);
  }
  await driver.write(table.indexes());
}

/** Computes new columns of every row from its bytes, a page per transaction. */
async function refill(driver: SqlDriver, table: SqlTable, codec: EntityCodec, columns: readonly SqlColumn[]) {
  let after: string | undefined;
  for (;;) {
    const rows = await driver.all(table.page(after, PAGE));
    await driver.write(rows.map((r) => table.refill(String(r[KEY]), codec.message(bytesOf(r[BODY])), columns)));
    if (rows.length < PAGE) return;
    after = String(rows.at(-1)?.[KEY]);
  }
}

class SqlStore implements Store {
  readonly backend: 'sqlite' | 'postgres';
  readonly #driver: SqlDriver;
  readonly #codec: EntityCodec;
  readonly #table: SqlTable;
  /** Set by the first close(); every later call is refused. */
  #closing: Promise<void> | undefined;

  constructor(driver: SqlDriver, codec: EntityCodec, table: SqlTable) {
    this.backend = driver.backend;
    this.#driver = driver;
    this.#codec = codec;
    this.#table = table;
  }

  async put(stored: StoredItem): Promise<void> {
    this.#checkOpen();
    await this.#driver.write([this.#upsert(stored)]);
  }

  async get(key: string): Promise<StoredItem | undefined> {
    this.#checkOpen();
    checkKey(key);
    const [row] = await this.#driver.all(this.#table.select(key));
    return row === undefined ? undefined : this.#stored(row);
  }

  async delete(key: string): Promise<boolean> {
    this.#checkOpen();
    checkKey(key);
    const [changed = 0] = await this.#driver.write([this.#table.remove(key)]);
    return changed > 0;
  }

  async *scan(options: ScanOptions = {}): AsyncIterable<StoredItem> {
    let { after, limit } = scanBounds(options);
    while (limit > 0) {
      this.#checkOpen();
      const size = Math.min(limit, PAGE);
      const rows = await this.#driver.all(this.#table.page(after, size));
      for (const row of rows) yield this.#stored(row);
      if (rows.length < size) return;
      limit -= rows.length;
      after = String(rows.at(-1)?.[KEY]);
    }
  }

  async count(): Promise<number> {
    this.#checkOpen();
    const [row] = await this.#driver.all(this.#table.count());
    return Number(row?.n ?? 0);
  }

  async query(l8ql: string): Promise<StoreQueryResult> {
    this.#checkOpen();
    const { page, count } = this.#table.query(this.#codec.bind(l8ql));
    const [rows = [], counted] =
      count === undefined ? [await this.#driver.all(page)] : await this.#driver.snapshot([page, count]);
    const items: Message[] = rows.map((r) => this.#codec.message(bytesOf(r[BODY])));
    return { items, total: counted === undefined ? items.length : Number(counted[0]?.n ?? 0) };
  }

  async batch(ops: readonly StoreOp[]): Promise<void> {
    this.#checkOpen();
    if (!Array.isArray(ops)) throw l8error('L8_ERR_INVALID_ARGUMENT', 'a batch is an array of operations');
    if (ops.length > 0) await this.#driver.write(this.#statements(ops));
  }

  close(): Promise<void> {
    this.#closing ??= this.#driver.close();
    return this.#closing;
  }

  /** The statements of a batch, made one by one inside its transaction: a bad operation rolls back. */
  *#statements(ops: readonly StoreOp[]): Iterable<SqlQuery> {
    for (const op of ops) {
      if (op?.op === 'put') yield this.#upsert(op.item);
      else if (op?.op === 'delete') {
        checkKey(op.key);
        yield this.#table.remove(op.key);
      } else throw l8error('L8_ERR_INVALID_ARGUMENT', 'a batch operation is {op: "put", item} or {op: "delete", key}');
    }
  }

  #upsert(stored: StoredItem): SqlQuery {
    return this.#table.upsert(stored, this.#codec.encode(stored));
  }

  #stored(row: SqlRecord): StoredItem {
    return this.#codec.decode(String(row[KEY]), Number(row[VERSION]), bytesOf(row[BODY]));
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closedError(this.backend);
  }
}

/**
 * The bytes of a BLOB / BYTEA value (both drivers return a Buffer).
 * @throws L8_ERR_DECODE when the column holds something else (a row written by another program).
 */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw l8error('L8_ERR_DECODE', `a stored row has no protobuf bytes in ${BODY}`, { data: { column: BODY } });
}
