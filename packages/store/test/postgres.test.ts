/**
 * The PostgreSQL backend against a live server (`L8_TEST_PG`; `.ci/run` starts one): the conformance suite
 * and the failures a server can give. No server is a failure, not a skip. Each run works in a schema of its
 * own, dropped at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { storeConformance } from '../src/conformance.ts';
import { postgresStore, type Store } from '../src/index.ts';
import { checkNewColumns, thing, thingOptions } from './models.ts';

const URL_ = process.env.L8_TEST_PG ?? 'postgres://layer8:layer8@127.0.0.1:5432/layer8_test';
const SCHEMA = `l8_test_${randomBytes(4).toString('hex')}`;

/** `URL_` with `params` added (libpq `options` and `application_name`). */
function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

const IN_SCHEMA = withParams(URL_, { options: `-c search_path=${SCHEMA}` });
const admin = new pg.Pool({ connectionString: URL_, max: 2, connectionTimeoutMillis: 5000 });
admin.on('error', () => {});
try {
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`);
} catch (err) {
  await admin.end();
  throw new Error(
    `PostgreSQL is not reachable at ${URL_} (${(err as Error).message}). Start it as .ci/run does ` +
      '(pg_ctlcluster <version> main start, then role layer8 / password layer8 owning database layer8_test), ' +
      'or set L8_TEST_PG to a connection string.',
  );
}
after(async () => {
  await admin.query(`DROP SCHEMA "${SCHEMA}" CASCADE`);
  await admin.end();
});

storeConformance('postgres', (o) => postgresStore({ connectionString: IN_SCHEMA }, o));

function storageError(reason: string, retryable: boolean) {
  return (err: unknown) => {
    const e = err as { code?: string; retryable?: boolean; data?: { reason?: string } };
    assert.deepEqual([e.code, e.data?.reason, e.retryable], ['L8_ERR_STORAGE', reason, retryable], String(err));
    return true;
  };
}

/** A TCP proxy to the server that can be cut (every connection reset) and started again on its port. */
async function proxy(target: URL): Promise<{ url: string; cut(): Promise<void>; resume(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const listen = (port: number) =>
    new Promise<Server>((resolve) => {
      const server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => (s === client ? upstream : client).destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  let server = await listen(0);
  const port = (server.address() as { port: number }).port;
  const url = new URL(IN_SCHEMA);
  url.host = `127.0.0.1:${port}`;
  const cut = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise((resolve) => server.close(resolve));
  };
  const resume = async () => {
    server = await listen(port);
  };
  return { url: url.toString(), cut, resume };
}

describe('postgres backend', () => {
  const o = (table: string) => thingOptions(5, table);
  const item = (opts: ReturnType<typeof o>, id: string, more = {}) => ({
    key: id,
    version: 1,
    item: thing(opts, { id, ...more }),
  });

  test('a new model version adds and fills its columns', () =>
    checkNewColumns((opts) => postgresStore({ connectionString: IN_SCHEMA }, opts), 'thing'));

  test('no server: opening gives L8_ERR_STORAGE (unavailable, retryable)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    const url = `postgres://layer8:layer8@127.0.0.1:${port}/layer8_test`;
    await assert.rejects(postgresStore({ connectionString: url }, o('t_none')), storageError('unavailable', true));
  });

  test('the server going away: L8_ERR_STORAGE (unavailable, retryable); the store recovers when it is back', async () => {
    const p = await proxy(new URL(URL_));
    const opts = o('t_cut');
    const store = await postgresStore({ connectionString: p.url, connectTimeoutMs: 2000 }, opts);
    try {
      await store.put(item(opts, 'a'));
      await p.cut();
      await assert.rejects(store.put(item(opts, 'b')), storageError('unavailable', true));
      await assert.rejects(
        store.batch([
          { op: 'put', item: item(opts, 'c') },
          { op: 'delete', key: 'a' },
        ]),
        storageError('unavailable', true),
      );
      await p.resume();
      await store.put(item(opts, 'd'));
      assert.deepEqual(
        (await store.query('select * from Thing')).items.map((m) => (m as unknown as { id: string }).id),
        ['a', 'd'],
      );
    } finally {
      await store.close();
      await p.cut();
    }
  });

  test('connections terminated by the server: a call may fail retryable, the next one reconnects', async () => {
    const name = `l8_store_${randomBytes(4).toString('hex')}`;
    const opts = o('t_terminated');
    const store = await postgresStore({ connectionString: withParams(IN_SCHEMA, { application_name: name }) }, opts);
    try {
      await store.put(item(opts, 'a'));
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [name],
      );
      assert.ok(killed.rowCount !== null && killed.rowCount > 0);
      await store.count().catch(storageError('unavailable', true));
      assert.equal(await store.count(), 1);
    } finally {
      await store.close();
    }
  });

  test('text PostgreSQL cannot hold (NUL) is L8_ERR_INVALID_ARGUMENT', async () => {
    const opts = o('t_nul');
    const store = await postgresStore({ connectionString: IN_SCHEMA }, opts);
    try {
      await assert.rejects(store.put(item(opts, 'a', { note: 'a\0b' })), { code: 'L8_ERR_INVALID_ARGUMENT' });
      assert.equal(await store.count(), 0);
    } finally {
      await store.close();
    }
  });

  test("a caller's pool is used and stays open after close()", async () => {
    const pool = new pg.Pool({ connectionString: IN_SCHEMA, max: 2 });
    pool.on('error', () => {});
    const opts = o('t_pool');
    let store: Store | undefined;
    try {
      store = await postgresStore({ pool }, opts);
      await store.put(item(opts, 'a'));
      await store.close();
      assert.equal((await pool.query('SELECT count(*)::int AS n FROM t_pool')).rows[0].n, 1);
    } finally {
      await store?.close();
      await pool.end();
    }
  });
});
