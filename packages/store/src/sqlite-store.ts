/**
 * The SQLite backend (the default): one file, WAL journal, `synchronous = FULL` so a committed write
 * survives a crash or power loss. better-sqlite3 is synchronous: every call runs to completion on the event
 * loop, so no other call can slip into a transaction.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SqlDialect, type SqlQuery } from '@layer8/model';
import { L8Error, l8error } from '@layer8/protocol';
import Database from 'better-sqlite3';
import { openSqlStore, type SqlDriver, type SqlRecord } from './sql-store.ts';
import type { Store, StoreOptions } from './store.ts';

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** Open the file read-only (it and its table must exist); every write rejects with L8_ERR_STORAGE. */
  readonly readonly?: boolean;
  /** A cap on the database size in bytes (`PRAGMA max_page_count`); writes past it fail as a full disk. */
  readonly maxBytes?: number;
  /** How long a write waits for another process's lock, in ms; default 5000. */
  readonly busyTimeoutMs?: number;
}

/** Prepared statements kept per connection; past this the cache starts over. */
const MAX_STATEMENTS = 256;

/**
 * Opens (creating the parent directory, the file and the table as needed) a store on a SQLite file, e.g.
 * `<data directory>/<service>.db`.
 * @throws L8_ERR_STORAGE when the file cannot be opened or created (`data.reason`: `unavailable`,
 *   `read-only`, `corrupt`…); L8_ERR_INVALID_ARGUMENT for a bad option.
 */
export async function sqliteStore(file: string, o: SqliteStoreOptions): Promise<Store> {
  return openSqlStore(new SqliteDriver(file, o), o);
}

function openDatabase(file: string, o: SqliteStoreOptions): Database.Database {
  const memory = file === ':memory:' || file === '';
  try {
    if (!memory && o.readonly !== true) mkdirSync(dirname(resolve(file)), { recursive: true });
    const db = new Database(file, {
      readonly: o.readonly === true,
      fileMustExist: o.readonly === true,
      timeout: o.busyTimeoutMs ?? 5000,
    });
    configure(db, o);
    return db;
  } catch (err) {
    throw sqliteFailure(err, 'open');
  }
}

function configure(db: Database.Database, o: SqliteStoreOptions): void {
  if (o.readonly !== true) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  if (o.maxBytes === undefined) return;
  if (!Number.isSafeInteger(o.maxBytes) || o.maxBytes <= 0) {
    db.close();
    throw l8error('L8_ERR_INVALID_ARGUMENT', `maxBytes ${o.maxBytes} is not a positive integer`);
  }
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`max_page_count = ${Math.max(1, Math.floor(o.maxBytes / pageSize))}`);
}

/**
 * Invariant: `#readOnlyOpen` is true only while `#db` is a connection SQLite opened read-only although the
 * store was opened for writing (the file could not be written then); the next write once it can reopens it.
 */
class SqliteDriver implements SqlDriver {
  readonly backend = 'sqlite';
  readonly dialect = SqlDialect.SQLITE;
  readonly #file: string;
  readonly #o: SqliteStoreOptions;
  #db: Database.Database;
  #readOnlyOpen = false;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(file: string, o: SqliteStoreOptions) {
    this.#file = file;
    this.#o = o;
    this.#db = openDatabase(file, o);
  }

  async all(query: SqlQuery): Promise<SqlRecord[]> {
    return this.#run('read', () => this.#prepare(query.sql).all(...query.params) as SqlRecord[]);
  }

  async snapshot(queries: readonly SqlQuery[]): Promise<SqlRecord[][]> {
    const read = () => queries.map((q) => this.#prepare(q.sql).all(...q.params) as SqlRecord[]);
    return this.#run('read', () => this.#db.transaction(read).deferred());
  }

  async write(statements: Iterable<SqlQuery>): Promise<number[]> {
    if (this.#readOnlyOpen && writable(this.#file)) this.#reopen();
    const run = () => Array.from(statements, (s) => this.#prepare(s.sql).run(...s.params).changes);
    return this.#run('write', () => this.#db.transaction(run).immediate());
  }

  async close(): Promise<void> {
    this.#statements.clear();
    this.#db.close();
  }

  #run<R>(operation: string, fn: () => R): R {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 'SQLITE_READONLY' && this.#o.readonly !== true) this.#readOnlyOpen = true;
      throw sqliteFailure(err, operation, this.#file);
    }
  }

  /** Opens the file again (read-write now that it can be written); the old connection goes. */
  #reopen(): void {
    const db = openDatabase(this.#file, this.#o);
    this.#statements.clear();
    this.#db.close();
    this.#db = db;
    this.#readOnlyOpen = false;
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size >= MAX_STATEMENTS) this.#statements.clear();
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/** SQLite result codes (prefixes of extended codes) → reason and whether a retry may succeed. */
const REASONS: readonly (readonly [prefix: string, reason: string, retryable: boolean])[] = [
  ['SQLITE_READONLY', 'read-only', false],
  ['SQLITE_FULL', 'full', true],
  ['SQLITE_BUSY', 'busy', true],
  ['SQLITE_LOCKED', 'busy', true],
  ['SQLITE_IOERR', 'io', true],
  ['SQLITE_CANTOPEN', 'unavailable', false],
  ['SQLITE_CORRUPT', 'corrupt', false],
  ['SQLITE_NOTADB', 'corrupt', false],
  ['SQLITE_PERM', 'read-only', false],
  // the parent directory could not be made
  ['EACCES', 'read-only', false],
  ['EPERM', 'read-only', false],
  ['EROFS', 'read-only', false],
  ['ENOSPC', 'full', true],
  ['E', 'unavailable', false],
];

/**
 * The coded error of a SQLite failure: L8_ERR_STORAGE with `data.reason` (`read-only`, `full`, `busy`, `io`,
 * `unavailable`, `corrupt`, `failed`); a value the driver cannot bind (a 64-bit integer out of range, a
 * string or blob over SQLite's limit) is L8_ERR_INVALID_ARGUMENT; an L8Error passes through. An I/O error
 * on a database `file` that can no longer be written is `read-only`.
 */
function sqliteFailure(err: unknown, operation: string, file?: string): L8Error {
  if (err instanceof L8Error) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof RangeError || code === 'SQLITE_TOOBIG') {
    return l8error('L8_ERR_INVALID_ARGUMENT', `sqlite cannot store this value: ${message}`, { cause: err });
  }
  const driverCode = typeof code === 'string' ? code : 'none';
  const [reason, retryable] = reasonOf(driverCode, file);
  return l8error('L8_ERR_STORAGE', `sqlite ${operation} failed (${reason}): ${message}`, {
    cause: err,
    retryable,
    data: { backend: 'sqlite', reason, driverCode, operation },
  });
}

/**
 * The reason of a result code. SQLite reports a write refused on a file it holds open (made immutable, its
 * file system remounted read-only: EPERM, EROFS, even for root) as an I/O error; that is `read-only`.
 */
function reasonOf(driverCode: string, file: string | undefined): readonly [reason: string, retryable: boolean] {
  const [, reason, retryable] = REASONS.find(([prefix]) => driverCode.startsWith(prefix)) ?? ['', 'failed', false];
  if (reason === 'io' && file !== undefined && !writable(file)) return ['read-only', false];
  return [reason, retryable];
}

/** Whether the database file and its WAL and shared-memory files, those that exist, can be written now. */
function writable(file: string): boolean {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      accessSync(f, constants.W_OK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
  }
  return true;
}
