import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type Order, OrderSchema, Status } from '@layer8/fixtures';
import type { L8Error } from '@layer8/protocol';
import { type Store, type StoreOp, sqliteStore } from '@layer8/store';
import { tempDir, waitFor } from '@layer8/testkit';
import { EntityCache } from '../src/entity-cache.ts';
import { GroupCommit } from '../src/group-commit.ts';
import { type Node, type Overlay, overlay, registry } from './kit.ts';

const order = (id: number, city = 'Paris'): Order =>
  create(OrderSchema, { id: BigInt(id), number: `A-${id}`, status: Status.OPEN, city });
const put = (id: number): StoreOp<Order> => ({ op: 'put', item: { key: String(id), version: 1, item: order(id) } });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: L8Error) => e.code,
  );

/** A real SQLite store whose batches are counted. */
function counted(store: Store<Order>): { store: Store<Order>; batches: number[] } {
  const batches: number[] = [];
  const batch = store.batch.bind(store);
  const wrapped = Object.assign(Object.create(store) as Store<Order>, {
    batch: (ops: readonly StoreOp<Order>[]) => {
      batches.push(ops.length);
      return batch(ops);
    },
  });
  return { store: wrapped, batches };
}

describe('group commit: the writes of one turn share one transaction', () => {
  const dir = tempDir('l8-group-');
  let store: Store<Order>;
  before(async () => {
    store = (await sqliteStore(join(dir.path, 'orders.sqlite'), {
      type: OrderSchema,
      registry: registry(),
    })) as Store<Order>;
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  test('concurrent writes commit in one batch and are all durable when acknowledged', async () => {
    const c = counted(store);
    const group = new GroupCommit(c.store);
    await Promise.all(Array.from({ length: 200 }, (_, i) => group.submit(put(i + 1))));
    assert.deepEqual(c.batches, [200]);
    assert.equal(await store.count(), 200);
    await group.submit({ op: 'delete', key: '7' });
    assert.equal(await store.get('7'), undefined);
  });

  test('an operation the store refuses fails alone; the others of its group commit', async () => {
    const group = new GroupCommit(store);
    const bad: StoreOp<Order> = { op: 'put', item: { key: 'x\u0000y', version: 1, item: order(900) } };
    const results = await Promise.all([put(901), bad, put(902)].map((op) => codeOf(group.submit(op))));
    assert.deepEqual(results, ['resolved', 'L8_ERR_INVALID_ARGUMENT', 'resolved']);
    assert.equal((await store.get('902'))?.item.number, 'A-902');
  });

  test('a store that fails as a whole fails every write of the group with its code', async () => {
    const other = await sqliteStore(join(dir.path, 'closed.sqlite'), { type: OrderSchema, registry: registry() });
    await other.close();
    const group = new GroupCommit(other);
    const results = await Promise.all([put(1), put(2)].map((op) => codeOf(group.submit(op))));
    assert.deepEqual(results, ['L8_ERR_CLOSED', 'L8_ERR_CLOSED']);
  });
});

describe('snapshot pages of the entity cache', () => {
  test('pages walk held and deleted keys in order; a new key is seen by the next page', () => {
    const cache = new EntityCache(OrderSchema, registry());
    for (const id of [5, 1, 3, 2]) cache.set(String(id), { entity: order(id), version: 1, writer: 'n' });
    cache.remove('3', { version: 2, writer: 'n' });
    const first = cache.page(undefined, 2);
    assert.deepEqual([first.entries.map(([k]) => k), first.more], [['1', '2'], true]);
    cache.set('4', { entity: order(4), version: 1, writer: 'n' });
    const second = cache.page('2', 2);
    assert.deepEqual([second.entries.map(([k]) => k), second.more], [['3', '4'], true]);
    assert.deepEqual(second.entries[0]?.[1], { version: 2, writer: 'n' }, 'a tombstone travels in its place');
    assert.deepEqual(
      cache.page('4', 2).entries.map(([k]) => k),
      ['5'],
    );
    assert.equal(cache.page('4', 2).more, false);
    assert.deepEqual(cache.page('9', 2).entries, []);
  });
});

describe('a local GET reads the instance in its own process', () => {
  let o: Overlay;
  let a: Node;
  before(async () => {
    o = await overlay(1, 1);
    [a] = o.nodes as [Node];
    await a.services.activate({ name: 'Orders', type: OrderSchema });
    await waitFor(() => a.services.services()[0]?.state === 'serving', { what: 'Orders serving' });
  });
  after(() => o.close());

  test('by key, by unique key and by query, counted, with the same errors as over the overlay', async () => {
    const orders = a.services.client('Orders', 0, OrderSchema);
    for (let i = 1; i <= 3; i++) await orders.post(order(i, i === 2 ? 'Lyon' : 'Paris'));
    const before = a.services.services()[0]?.counters.requests ?? 0;
    const local = { mode: 'local' } as const;
    assert.equal((await orders.getByKey(2, local)).city, 'Lyon');
    const byUnique = await orders.get({ unique: { fields: ['number'], value: 'A-3' } }, local);
    assert.deepEqual([byUnique.items[0]?.id, byUnique.versions], [3n, [1]]);
    const page = await orders.get("select * from Order where city = 'Paris' sort-by id", local);
    assert.deepEqual([page.items.map((x) => x.id), page.total], [[1n, 3n], 2]);
    assert.equal(await codeOf(orders.getByKey(99, local)), 'L8_ERR_NOT_FOUND');
    assert.equal(await codeOf(orders.get('select * from', local)), 'L8_ERR_QUERY');
    const aborted = AbortSignal.abort();
    assert.equal(await codeOf(orders.getByKey(1, { ...local, signal: aborted })), 'L8_ERR_ABORTED');
    const counters = a.services.services()[0]?.counters;
    assert.deepEqual([(counters?.requests ?? 0) - before, counters?.errors], [5, 2]);
  });
});
