/**
 * The PostgreSQL backend (production): a `pg` pool, one statement per autocommit write, `BEGIN … COMMIT`
 * for batches and a repeatable-read snapshot for a query's page and count. With the server's default
 * `synchronous_commit = on`, a resolved write is on the server's disk.
 */
import { SqlDialect, type SqlQuery } from '@layer8/model';
import { L8Error, l8error } from '@layer8/protocol';
import pg from 'pg';
import { openSqlStore, type SqlDriver, type SqlRecord } from './sql-store.ts';
import type { Store, StoreOptions } from './store.ts';

/** Where {@link postgresStore} connects: a connection string (the store owns its pool) or the caller's pool. */
export type PostgresConfig =
  | {
      /** `postgres://user:password@host:5432/database` (libpq parameters such as `options` allowed). */
      readonly connectionString: string;
      /** Pool size; default 10. */
      readonly max?: number;
      /** How long opening a connection may take, in ms; default 5000. */
      readonly connectTimeoutMs?: number;
    }
  | {
      /** The caller's pool: the store never ends it, and the caller listens to its `error` events. */
      readonly pool: pg.Pool;
    };

/**
 * Opens a store on a PostgreSQL table (in the connection's current schema), creating it as needed.
 * @throws L8_ERR_STORAGE when the server cannot be reached (retryable) or refuses (`data.reason`, and the
 *   server's SQLSTATE in `data.driverCode`); L8_ERR_INVALID_ARGUMENT for a bad config.
 */
export async function postgresStore(config: PostgresConfig, o: StoreOptions): Promise<Store> {
  if (typeof config === 'object' && config !== null && 'pool' in config) {
    return openSqlStore(new PostgresDriver(config.pool, false), o);
  }
  if (typeof config?.connectionString !== 'string') {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'postgresStore needs {connectionString} or {pool}');
  }
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    max: config.max ?? 10,
    connectionTimeoutMillis: config.connectTimeoutMs ?? 5000,
  });
  // An idle connection the server closed: the pool drops it and the next call opens another. Without a
  // listener the pool's `error` event would end the process.
  pool.on('error', () => {});
  return openSqlStore(new PostgresDriver(pool, true), o);
}

class PostgresDriver implements SqlDriver {
  readonly backend = 'postgres';
  readonly dialect = SqlDialect.POSTGRES;
  readonly #pool: pg.Pool;
  /** Whether close() ends the pool (it does when the store made it). */
  readonly #owned: boolean;

  constructor(pool: pg.Pool, owned: boolean) {
    this.#pool = pool;
    this.#owned = owned;
  }

  async all(query: SqlQuery): Promise<SqlRecord[]> {
    try {
      return (await this.#pool.query(query.sql, query.params)).rows;
    } catch (err) {
      throw pgFailure(err, 'read');
    }
  }

  snapshot(queries: readonly SqlQuery[]): Promise<SqlRecord[][]> {
    return this.#transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', 'read', async (client) => {
      const results: SqlRecord[][] = [];
      for (const q of queries) results.push((await client.query(q.sql, q.params)).rows);
      return results;
    });
  }

  async write(statements: Iterable<SqlQuery>): Promise<number[]> {
    if (Array.isArray(statements) && statements.length === 1) {
      const [only] = statements as SqlQuery[];
      try {
        return [(await this.#pool.query(only?.sql ?? '', only?.params)).rowCount ?? 0];
      } catch (err) {
        throw pgFailure(err, 'write');
      }
    }
    return this.#transaction('BEGIN', 'write', async (client) => {
      const counts: number[] = [];
      for (const s of statements) counts.push((await client.query(s.sql, s.params)).rowCount ?? 0);
      return counts;
    });
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }

  /** Runs `body` between `begin` and COMMIT on one connection; any failure rolls back. */
  async #transaction<R>(begin: string, operation: string, body: (client: pg.PoolClient) => Promise<R>): Promise<R> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw pgFailure(err, operation);
    }
    // the pool stops listening while a client is out: a connection lost between two statements would
    // otherwise be an unhandled 'error' event; the next statement rejects instead
    const ignore = () => {};
    client.on('error', ignore);
    try {
      await client.query(begin);
      const result = await body(client);
      await client.query('COMMIT');
      this.#release(client, ignore, true);
      return result;
    } catch (err) {
      // a connection that cannot even roll back is broken: destroy it rather than return it to the pool
      const rolledBack = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      this.#release(client, ignore, rolledBack);
      throw pgFailure(err, operation);
    }
  }

  #release(client: pg.PoolClient, listener: () => void, healthy: boolean): void {
    client.removeListener('error', listener);
    client.release(!healthy);
  }
}

/** Reasons a retry may cure. */
const TRANSIENT = new Set(['unavailable', 'busy', 'full']);

/**
 * The coded error of a `pg` failure: L8_ERR_STORAGE with `data.reason` (`unavailable`: refused, reset or
 * terminated connections and server shutdown; `busy`: serialization failures, deadlocks, too many
 * connections; `full`: disk full; `read-only`; `auth`; `failed`) and `data.driverCode` (the SQLSTATE or the
 * socket error code); a value the server refuses (SQLSTATE class 22: out of range, NUL in text) is
 * L8_ERR_INVALID_ARGUMENT; an L8Error passes through.
 */
function pgFailure(err: unknown, operation: string): L8Error {
  if (err instanceof L8Error) return err;
  const e = (err ?? {}) as { code?: unknown; message?: unknown; errors?: { message?: unknown }[] };
  const driverCode = typeof e.code === 'string' ? e.code : 'none';
  const message = String(e.message || e.errors?.[0]?.message || driverCode);
  if (driverCode.startsWith('22')) {
    return l8error('L8_ERR_INVALID_ARGUMENT', `postgres cannot store this value: ${message}`, { cause: err });
  }
  const reason = reasonOf(driverCode, message);
  return l8error('L8_ERR_STORAGE', `postgres ${operation} failed (${reason}): ${message}`, {
    cause: err,
    retryable: TRANSIENT.has(reason),
    data: { backend: 'postgres', reason, driverCode, operation },
  });
}

function reasonOf(code: string, message: string): string {
  const lost = /connection terminated|timeout exceeded when trying to connect|connection error|not queryable/i;
  if (/^E[A-Z]+$/.test(code) || code.startsWith('08') || code.startsWith('57') || lost.test(message)) {
    return 'unavailable';
  }
  if (code === '53100') return 'full';
  if (code.startsWith('53') || code.startsWith('40') || code === '55P03') return 'busy';
  if (code === '25006') return 'read-only';
  return code.startsWith('28') ? 'auth' : 'failed';
}
