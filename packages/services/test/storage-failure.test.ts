/**
 * Storage failures through a running service, as a caller on another VNic sees them over the overlay: each
 * refused write gets L8_ERR_STORAGE with `data.reason` (docs/errors.md, docs/storage.md) within its
 * deadline, GETs go on, the refused writes are neither in the cache nor visible, the service process lives,
 * every acknowledged write is still in the store, and writes work again once the storage is back.
 *
 * The conditions are real ones (we run as root, as CI does, so chmod stops nothing):
 * - SQLite read-only: the database file and its WAL made immutable (`chattr +i`), which stops root too.
 *   Held open, SQLite reports the refused WAL write as SQLITE_IOERR_WRITE (the store reads it as
 *   `read-only`); opened while immutable, SQLite opens it read-only and a write gives SQLITE_READONLY.
 *   The `-shm` file is left alone: SQLite maps it, and a write to a mapping of an immutable file is SIGBUS.
 * - SQLite full: the data directory on an 8 MiB tmpfs that another file fills (ENOSPC, SQLITE_FULL).
 * - PostgreSQL stopped: a private server (private-pg.ts; the shared cluster stays up) stopped with
 *   `pg_ctl stop -m immediate`, then started again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { type Order, OrderSchema, Status } from '@layer8/fixtures';
import type { L8Error } from '@layer8/protocol';
import { tempDir, waitFor } from '@layer8/testkit';
import type { ServiceClient, ServiceLevelAgreement } from '../src/index.ts';
import { type Node, type Overlay, overlay } from './kit.ts';
import { type PrivatePg, privatePg } from './private-pg.ts';

/** The deadline of every refused call: a storage failure must be answered before it, not hang. */
const DEADLINE = 5000;

const order = (id: number, init: MessageInitShape<typeof OrderSchema> = {}): Order =>
  create(OrderSchema, { id: BigInt(id), number: `A-${id}`, status: Status.OPEN, city: 'Paris', ...init });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: L8Error) => e.code,
  );
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: L8Error) => ({
      code: e.code,
      reason: (e.data as { reason?: string } | undefined)?.reason,
      retryable: e.retryable,
    }),
  );

let o: Overlay;
/** The node the services run on. */
let a: Node;
/** The caller: another VNic of the overlay. */
let b: Node;
const dir = tempDir('l8-storage-failure-');
before(async () => {
  o = await overlay(1, 2);
  [a, b] = o.nodes as [Node, Node];
});
after(async () => {
  await o.close();
  dir.remove();
});

/** The instance's cache: key, version and entity bytes (not the writer, which a reload forgets), key order. */
function stateOf(name: string): string {
  const entries = a.services.instance(name)?.cache.entries() ?? [];
  const hex = (e: unknown) => Buffer.from(toBinary(OrderSchema, e as Order)).toString('hex');
  return entries.map(([k, h]) => `${k}@${h.version}:${hex(h.entity)}`).join('\n');
}

/** What GET shows of the orders `base` to `base + 99`: id, version and city. */
async function listing(orders: ServiceClient<Order>, base: number): Promise<string[]> {
  const page = await orders.get('select * from Order sort-by id');
  const shown = page.items.map((x, i) => ({ id: Number(x.id), line: `${x.id}@${page.versions[i]}:${x.city}` }));
  return shown.filter((x) => x.id >= base && x.id < base + 100).map((x) => x.line);
}

/** Activates `sla` on `a` and waits until the caller sees the instance in its health table. */
async function activate(sla: ServiceLevelAgreement): Promise<void> {
  await a.services.activate(sla);
  await waitFor(() => b.vnic.health.instances(sla.name, 0).length === 1, { what: `${sla.name} in b's health` });
}

/** Deactivates `sla` (its store closes), runs `between`, and activates it again (it reloads its store). */
async function reactivate(sla: ServiceLevelAgreement, between: () => void = () => undefined): Promise<void> {
  await a.services.deactivate(sla.name, 0);
  await waitFor(() => b.vnic.health.instances(sla.name, 0).length === 0, { what: `${sla.name} gone` });
  between();
  await activate(sla);
}

/** A storage failure: how to cause it and remove it, and the error the caller must get meanwhile. */
interface Case {
  readonly sla: ServiceLevelAgreement;
  /** The orders of this run are `base + 1…`. */
  readonly base: number;
  readonly reason: string;
  readonly retryable: boolean;
  fail(): Promise<void> | void;
  restore(): Promise<void> | void;
}

/**
 * Acknowledged writes, the failure, refused writes and the checks above, the storage back (also when a
 * check failed), the same writes again, and a reload from the store.
 */
async function storageFailure(c: Case): Promise<void> {
  const orders = b.services.client(c.sla.name, 0, OrderSchema);
  for (let n = 1; n <= 3; n++) await orders.post(order(c.base + n));
  await orders.patch(create(OrderSchema, { id: BigInt(c.base + 1), city: 'Lyon' }));
  const acked = { listing: await listing(orders, c.base), state: stateOf(c.sla.name) };
  await c.fail();
  try {
    await checkRefused(c, orders, acked);
  } finally {
    await c.restore();
  }
  await checkRecovered(c, orders);
}

/** The writes that would change orders 2, 3 and 10; the post carries an idempotency key. */
function writes(c: Case, orders: ServiceClient<Order>, o: { timeoutMs?: number } = {}) {
  const key = { idempotencyKey: `${c.sla.name}-${c.base + 10}` };
  return {
    post: () => orders.post(order(c.base + 10), { ...key, ...o }),
    patch: () => orders.patch(create(OrderSchema, { id: BigInt(c.base + 2), city: 'Nice' }), o),
    delete: () => orders.delete(c.base + 3, o),
  };
}

/** Each write gets L8_ERR_STORAGE of the case's reason within its deadline; GETs show the acked state. */
async function checkRefused(c: Case, orders: ServiceClient<Order>, acked: { listing: string[]; state: string }) {
  const expected = { code: 'L8_ERR_STORAGE', reason: c.reason, retryable: c.retryable };
  for (const [what, call] of Object.entries(writes(c, orders, { timeoutMs: DEADLINE }))) {
    const started = performance.now();
    assert.deepEqual(await failureOf(call()), expected, `the refused ${what}`);
    assert.ok(performance.now() - started < DEADLINE, `the refused ${what} was answered within its deadline`);
  }
  assert.deepEqual(await listing(orders, c.base), acked.listing, 'GET answers, and shows no refused write');
  assert.equal(await codeOf(orders.getByKey(c.base + 10)), 'L8_ERR_NOT_FOUND');
  assert.equal(stateOf(c.sla.name), acked.state, 'the cache holds none of the refused writes');
  assert.equal(a.services.services().find((s) => s.name === c.sla.name)?.state, 'serving');
}

/** The same writes succeed (the keyed post, retried, runs), and a reload from the store finds them all. */
async function checkRecovered(c: Case, orders: ServiceClient<Order>): Promise<void> {
  const again = writes(c, orders);
  assert.equal((await again.post()).id, BigInt(c.base + 10), 'the refused keyed write, retried, runs');
  await again.patch();
  await again.delete();
  const lines = [`${c.base + 1}@2:Lyon`, `${c.base + 2}@2:Nice`, `${c.base + 10}@1:Paris`];
  assert.deepEqual(await listing(orders, c.base), lines);
  const written = stateOf(c.sla.name);
  await reactivate(c.sla);
  assert.equal(stateOf(c.sla.name), written, 'reloaded from the store: every acknowledged write, nothing else');
}

/**
 * Sets or clears the immutable attribute of the files that exist: no process can write them, root
 * included. Needs CAP_LINUX_IMMUTABLE (root, as CI runs) and a file system with the attribute.
 */
function immutable(files: readonly string[], on: boolean): void {
  const present = files.filter((f) => existsSync(f));
  if (present.length > 0) execFileSync('chattr', [on ? '+i' : '-i', ...present], { stdio: 'pipe' });
}

describe('SQLite made read-only', () => {
  const data = join(dir.path, 'read-only');
  const sla: ServiceLevelAgreement = { name: 'ReadOnly', type: OrderSchema, storage: { sqlite: data } };
  const file = join(data, 'ReadOnly-0.sqlite');
  const files = [file, `${file}-wal`];
  before(() => activate(sla));
  after(() => immutable(files, false));

  test('while the service holds it open: L8_ERR_STORAGE read-only; writes again once writable', () =>
    storageFailure({
      sla,
      base: 0,
      reason: 'read-only',
      retryable: false,
      fail: () => immutable(files, true),
      restore: () => immutable(files, false),
    }));

  test('when the service starts on it: it serves reads, refuses writes, and writes once writable', () =>
    storageFailure({
      sla,
      base: 100,
      reason: 'read-only',
      retryable: false,
      fail: () => reactivate(sla, () => immutable(files, true)),
      restore: () => immutable(files, false),
    }));
});

/** Writes `file` until its file system is full (ENOSPC). */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 4096]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('SQLite on a full file system', () => {
  const mount = join(dir.path, 'tmpfs');
  const data = join(mount, 'data');
  const filler = join(mount, 'filler');
  const sla: ServiceLevelAgreement = { name: 'Full', type: OrderSchema, storage: { sqlite: data } };
  before(async () => {
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'l8-full', mount], { stdio: 'pipe' });
    await activate(sla);
  });
  after(async () => {
    await a.services.deactivate(sla.name, 0);
    execFileSync('umount', [mount], { stdio: 'pipe' });
  });

  test('L8_ERR_STORAGE full while it is; writes again once space is freed', () =>
    storageFailure({
      sla,
      base: 0,
      reason: 'full',
      retryable: true,
      fail: () => fill(filler),
      restore: () => rmSync(filler, { force: true }),
    }));
});

describe('PostgreSQL stopped', () => {
  let pg: PrivatePg;
  let sla: ServiceLevelAgreement;
  before(async () => {
    pg = await privatePg();
    sla = { name: 'Stopped', type: OrderSchema, storage: { postgres: pg.url } };
    await activate(sla);
  });
  after(async () => {
    await a.services.deactivate('Stopped', 0);
    await pg?.destroy();
  });

  test('L8_ERR_STORAGE unavailable, not a hang; writes again once it is back, and nothing acknowledged lost', () =>
    storageFailure({
      sla,
      base: 0,
      reason: 'unavailable',
      retryable: true,
      fail: () => pg.stopImmediate(),
      restore: () => pg.start(),
    }));
});
