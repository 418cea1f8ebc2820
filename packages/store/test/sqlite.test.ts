/** The SQLite backend: the conformance suite on a real file, WAL, new columns, and storage failures. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { storeConformance } from '@layer8/store/conformance';
import Database from 'better-sqlite3';
import { conformanceOptions } from '../src/conformance-data.ts';
import { type Store, sqliteStore } from '../src/index.ts';
import { checkNewColumns, thing, thingOptions } from './models.ts';

const dir = mkdtempSync(join(tmpdir(), 'l8-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The file of the conformance run, in a directory the store has to create. */
const FILE = join(dir, 'data', 'service', 'conformance.db');
storeConformance('sqlite', (o) => sqliteStore(FILE, o));

/** Rejects with L8_ERR_STORAGE of `reason`, retryable as given. */
function storageError(reason: string, retryable: boolean) {
  return (err: unknown) => {
    const e = err as { code?: string; retryable?: boolean; data?: { reason?: string } };
    assert.deepEqual([e.code, e.data?.reason, e.retryable], ['L8_ERR_STORAGE', reason, retryable], String(err));
    return true;
  };
}

/**
 * Sets or clears the immutable attribute of the files that exist: a file no process can write, root
 * included (chmod does not stop root). Needs CAP_LINUX_IMMUTABLE, as CI has.
 */
function immutable(files: readonly string[], on: boolean): void {
  const present = files.filter((f) => existsSync(f));
  execFileSync('chattr', [on ? '+i' : '-i', ...present], { stdio: 'pipe' });
}

/**
 * The database file and its WAL: the data. Not the `-shm` shared memory: SQLite maps it, and a write to a
 * mapping of an immutable file kills the process (SIGBUS) at its next read.
 */
const filesOf = (file: string) => [file, `${file}-wal`];

async function filled(file: string, table: string, n: number): Promise<Store> {
  const o = thingOptions(5, table);
  const store = await sqliteStore(file, o);
  await store.batch(
    Array.from({ length: n }, (_, i) => ({
      op: 'put',
      item: { key: `t${i}`, version: 1, item: thing(o, { id: `t${i}` }) },
    })),
  );
  return store;
}

describe('sqlite backend', () => {
  test('the file is in WAL mode, and a new model version adds and fills its columns', async () => {
    await checkNewColumns((o) => sqliteStore(join(dir, 'things.db'), o), 'thing');
    const db = new Database(join(dir, 'things.db'), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  test('every unique and non-unique key has an index; a name PostgreSQL would cut is hashed', async () => {
    const file = join(dir, 'indexes.db');
    const table = 'a_table_name_long_enough_that_its_index_names_pass_sixty_three_bytes';
    for (const name of ['items', table]) await (await sqliteStore(file, conformanceOptions(name))).close();
    const db = new Database(file, { readonly: true });
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all();
    db.close();
    const names = rows.map((r) => (r as { name: string }).name).sort();
    assert.deepEqual(names.slice(0, 2), ['items$category$stage', 'items$name']);
    assert.equal(names.length, 4);
    assert.ok(
      names.slice(2).every((n) => /^l8\$[0-9a-f]+$/.test(n)),
      names.join(),
    );
  });

  test('a read-only file: reads work, writes give L8_ERR_STORAGE (read-only, not retryable)', async () => {
    const file = join(dir, 'read-only.db');
    await (await filled(file, 'thing', 3)).close();
    const o = thingOptions(5, 'thing');
    const store = await sqliteStore(file, { ...o, readonly: true });
    try {
      assert.equal(await store.count(), 3);
      const item = { key: 'x', version: 1, item: thing(o, { id: 'x' }) };
      await assert.rejects(store.put(item), storageError('read-only', false));
      await assert.rejects(store.batch([{ op: 'delete', key: 't1' }]), storageError('read-only', false));
      assert.equal(await store.count(), 3);
    } finally {
      await store.close();
    }
  });

  test('a file made read-only while open: writes give read-only, reads work, writes work once it is writable', async () => {
    const file = join(dir, 'made-read-only.db');
    const store = await filled(file, 'thing', 3);
    const o = thingOptions(5, 'thing');
    const item = (id: string) => ({ key: id, version: 1, item: thing(o, { id }) });
    try {
      immutable(filesOf(file), true);
      try {
        await assert.rejects(store.put(item('x')), storageError('read-only', false));
        assert.equal(await store.count(), 3);
      } finally {
        immutable(filesOf(file), false);
      }
      await store.put(item('x'));
      assert.equal(await store.count(), 4);
    } finally {
      await store.close();
    }
  });

  test('a store SQLite had to open read-only opens the file again at the first write once it is writable', async () => {
    const file = join(dir, 'opened-read-only.db');
    await (await filled(file, 'thing', 3)).close();
    const o = thingOptions(5, 'thing');
    const item = (id: string) => ({ key: id, version: 1, item: thing(o, { id }) });
    immutable([file], true);
    let store: Store | undefined;
    try {
      store = await sqliteStore(file, o);
      assert.equal(await store.count(), 3);
      await assert.rejects(store.put(item('x')), storageError('read-only', false));
      immutable([file], false);
      await store.put(item('x'));
      assert.deepEqual([await store.count(), (await store.get('x'))?.version], [4, 1]);
    } finally {
      immutable([file], false);
      await store?.close();
    }
    const again = await sqliteStore(file, o);
    assert.equal(await again.count(), 4, 'the write after the reopen is in the file');
    await again.close();
  });

  test('a full database: L8_ERR_STORAGE (full, retryable), nothing of the failed batch written', async () => {
    const o = thingOptions(5, 'thing');
    const store = await sqliteStore(join(dir, 'full.db'), { ...o, maxBytes: 64 * 1024 });
    try {
      const big = (i: number) => ({
        key: `b${i}`,
        version: 1,
        item: thing(o, { id: `b${i}`, note: 'x'.repeat(6000) }),
      });
      let written = 0;
      const fill = async () => {
        for (; written < 100; written++) await store.put(big(written));
      };
      await assert.rejects(fill(), storageError('full', true));
      assert.ok(written > 0 && written < 100, `${written} written`);
      const ops = [
        { op: 'delete', key: 'b0' } as const,
        ...[200, 201].map((i) => ({ op: 'put', item: big(i) }) as const),
      ];
      await assert.rejects(store.batch(ops), storageError('full', true));
      assert.equal(await store.count(), written);
      assert.ok(await store.get('b0'));
    } finally {
      await store.close();
    }
  });

  test('a file that is not a database, or a directory that cannot be made: L8_ERR_STORAGE', async () => {
    const o = thingOptions(2, 'thing');
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a SQLite database, just some text long enough to have a header');
    await assert.rejects(sqliteStore(junk, o), storageError('corrupt', false));
    await assert.rejects(sqliteStore(join(junk, 'below', 'x.db'), o), storageError('unavailable', false));
    await assert.rejects(
      sqliteStore(join(dir, 'missing.db'), { ...o, readonly: true }),
      storageError('unavailable', false),
    );
    await assert.rejects(sqliteStore(join(dir, 'x.db'), { ...o, maxBytes: -1 }), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  test('a 64-bit value SQLite cannot hold is L8_ERR_INVALID_ARGUMENT, and nothing is written', async () => {
    const o = thingOptions(5, 'thing');
    const store = await sqliteStore(join(dir, 'big.db'), o);
    try {
      const item = thing(o, { id: 'u', big: 2n ** 64n - 1n });
      await assert.rejects(store.put({ key: 'u', version: 1, item }), { code: 'L8_ERR_INVALID_ARGUMENT' });
      assert.equal(await store.count(), 0);
    } finally {
      await store.close();
    }
  });
});
