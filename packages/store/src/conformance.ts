/**
 * The conformance suite every store runs (`@layer8/store/conformance`, docs/storage.md). It registers
 * `node:test` tests on tables of its own model (`layer8.store.v1.ConformanceItem`), one new table per test,
 * and compares query results with the in-memory store, whose queries run through the model's interpreter.
 * Run it against a scratch database or schema: the tables it creates are left there. Needs `fast-check`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { equals, type Message } from '@bufbuild/protobuf';
import fc from 'fast-check';
import {
  conformanceItem,
  conformanceOptions,
  conformanceTypes,
  itemsArb,
  queryArb,
  stored,
} from './conformance-data.ts';
import { memoryStore } from './memory-store.ts';
import type { Store, StoredItem, StoreOp, StoreOptions } from './store.ts';

/** Options of {@link storeConformance}. */
export interface ConformanceOptions {
  /** Whether a store opened again on the same table keeps what was written; default true (false: memory). */
  readonly durable?: boolean;
  /** Runs of the query property (each loads new data and runs up to 4 queries); default 50. */
  readonly queryRuns?: number;
}

/**
 * Registers the conformance tests of a store backend.
 * @param name shown in the test names.
 * @param open opens the backend's store with the given options; opened again with the same options (same
 *   table) it must reach the same data unless `durable` is false.
 */
export function storeConformance(
  name: string,
  open: (o: StoreOptions) => Promise<Store>,
  options: ConformanceOptions = {},
): void {
  const run = randomBytes(4).toString('hex');
  let tables = 0;
  const fresh = () => conformanceOptions(`l8_conformance_${run}_${++tables}`);
  const withStore = (body: (s: Store, o: StoreOptions) => Promise<void>) => async () => {
    const o = fresh();
    const s = await open(o);
    try {
      await body(s, o);
    } finally {
      await s.close();
    }
  };
  describe(`store conformance: ${name}`, () => {
    test('put, get, overwrite, delete, count; versions kept; items come back as copies', withStore(basics));
    test('keys are any string without NUL or lone surrogate, in code point order', withStore(keyOrder));
    test('scan pages through 600 items in key order and resumes after a key', withStore(scanning));
    test('a batch applies its operations in order, all or nothing', withStore(batches));
    test('invalid keys, versions and items are refused with L8_ERR_INVALID_ARGUMENT', withStore(invalid));
    test(
      'query results equal the in-memory interpreter’s on the same data (property)',
      withStore((s, o) => sameAsInterpreter(s, o, options.queryRuns ?? 50)),
    );
    test('queries the store cannot answer are refused with L8_ERR_QUERY', withStore(refusals));
    // a store that keeps nothing across opens (memory) has no such test: it is not registered, not skipped
    if (options.durable !== false) {
      test('a store opened again on the same table finds what was written', () => reopening(open, fresh()));
    }
    test('a closed store refuses every call with L8_ERR_CLOSED; close() is idempotent', withStore(closing));
  });
}

/** An item with every field kind set, extremes included. */
function full(id: string, more: Record<string, unknown> = {}): Record<string, unknown> & { id: string } {
  return {
    id,
    name: 'Ada',
    category: 'c',
    stage: 2,
    amount: -(2n ** 63n),
    score: -0.5,
    flag: false,
    place: { city: 'Zürich' },
    tags: ['x', 'y'],
    blob: Uint8Array.of(0, 1, 255),
    rank: -(2 ** 31),
    size: 4_294_967_295,
    ...more,
  };
}

async function basics(s: Store): Promise<void> {
  assert.equal(await s.get('a'), undefined);
  const first = stored(full('a'), 3);
  await s.put(first);
  assertStored(await s.get('a'), first);
  const second = stored(full('a', { name: 'again', score: undefined, place: undefined, tags: [] }), 4);
  await s.put(second);
  const got = await s.get('a');
  assertStored(got, second);
  (got?.item as unknown as { name: string }).name = 'changed';
  assertStored(await s.get('a'), second);
  await s.put(stored({ id: 'b' }, 0));
  assert.equal(await s.count(), 2);
  assert.equal(await s.delete('a'), true);
  assert.equal(await s.delete('a'), false);
  assert.equal(await s.get('a'), undefined);
  assert.equal(await s.count(), 1);
}

async function keyOrder(s: Store): Promise<void> {
  const keys = ['', 'a', 'B', 'a b', 'é', '\u{1F600}', '\uFFFD', '\uE000', 'z', 'quote\'"', '\u{1F4A1}x', 'a\tb', 'ア'];
  await s.batch(
    keys.map((key, version) => ({ op: 'put', item: { key, version, item: conformanceItem({ id: key }) } })),
  );
  const utf8Order = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(await keysOf(s.scan()), utf8Order);
  assert.equal((await s.get('\u{1F600}'))?.version, 5);
  for (const bad of ['\0', 'a\0b', '\uD800', 'x\uDC00']) {
    await assert.rejects(s.put(stored({ id: bad })), hasCode('L8_ERR_INVALID_ARGUMENT'));
    await assert.rejects(s.get(bad), hasCode('L8_ERR_INVALID_ARGUMENT'));
    await assert.rejects(s.delete(bad), hasCode('L8_ERR_INVALID_ARGUMENT'));
  }
}

async function scanning(s: Store): Promise<void> {
  // 919 and 1000 are coprime: 600 distinct keys, inserted out of order
  const keys = Array.from({ length: 600 }, (_, i) => `i${String((i * 919) % 1000).padStart(3, '0')}`);
  await s.batch(keys.map((id) => ({ op: 'put', item: stored({ id }) })));
  const sorted = [...keys].sort();
  assert.deepEqual(await keysOf(s.scan()), sorted);
  const pages = [await keysOf(s.scan({ limit: 250 }))];
  while (pages.at(-1)?.length === 250)
    pages.push(await keysOf(s.scan({ after: pages.at(-1)?.at(-1) ?? '', limit: 250 })));
  assert.deepEqual(
    pages.map((p) => p.length),
    [250, 250, 100],
  );
  assert.deepEqual(pages.flat(), sorted);
  assert.deepEqual(
    await keysOf(s.scan({ after: 'i5' })),
    sorted.filter((k) => k > 'i5'),
  );
  assert.deepEqual(await keysOf(s.scan({ limit: 0 })), []);
  await assert.rejects(keysOf(s.scan({ limit: -1 })), hasCode('L8_ERR_INVALID_ARGUMENT'));
  assert.equal(await s.count(), 600);
  await scanWhileWriting(s, sorted);
}

/** Writes during a scan neither stop it nor repeat or reorder keys. */
async function scanWhileWriting(s: Store, sorted: readonly string[]): Promise<void> {
  const seen: string[] = [];
  for await (const { key } of s.scan()) {
    seen.push(key);
    if (seen.length === 10) await s.put(stored({ id: 'i000a' }));
  }
  assert.deepEqual(
    seen.filter((k) => k !== 'i000a'),
    sorted,
  );
  assert.deepEqual(seen, [...new Set(seen)].sort());
}

async function batches(s: Store): Promise<void> {
  await s.batch([]);
  await s.put(stored({ id: 'c' }));
  await s.batch([
    put(stored({ id: 'a' }, 1)),
    put(stored({ id: 'b' })),
    del('c'),
    put(stored({ id: 'a', rank: 9 }, 2)),
  ]);
  assertStored(await s.get('a'), stored({ id: 'a', rank: 9 }, 2));
  assert.equal(await s.get('c'), undefined);
  const failing: StoreOp[][] = [
    [put(stored({ id: 'd' })), del('a'), { op: 'put', item: { key: 'e', version: 1, item: {} as Message } }],
    [put(stored({ id: 'd' })), del('b'), put(stored({ id: 'f' }, -1))],
    [put(stored({ id: 'd' })), del('a'), del('\0')],
    [put(stored({ id: 'd' })), { op: 'nope' } as unknown as StoreOp],
  ];
  for (const ops of failing) await assert.rejects(s.batch(ops), hasCode('L8_ERR_INVALID_ARGUMENT'));
  assert.deepEqual(await keysOf(s.scan()), ['a', 'b']);
  assert.equal((await s.get('a'))?.version, 2);
}

async function invalid(s: Store): Promise<void> {
  const item = conformanceItem({ id: 'x' });
  const bad: unknown[] = [
    { key: 'x', version: 1, item: { $typeName: 'layer8.store.v1.Place', city: 'a' } },
    { key: 'x', version: 1, item: {} },
    { key: 'x', version: 1.5, item },
    { key: 'x', version: -1, item },
    { key: 'x', version: Number.NaN, item },
    { key: 'x', version: 2 ** 53, item },
    { key: 5, version: 1, item },
    null,
  ];
  for (const b of bad) await assert.rejects(s.put(b as StoredItem), hasCode('L8_ERR_INVALID_ARGUMENT'));
  await assert.rejects(s.get(5 as unknown as string), hasCode('L8_ERR_INVALID_ARGUMENT'));
  await assert.rejects(s.batch('x' as unknown as StoreOp[]), hasCode('L8_ERR_INVALID_ARGUMENT'));
  assert.equal(await s.count(), 0);
}

async function sameAsInterpreter(s: Store, o: StoreOptions, runs: number): Promise<void> {
  let previous: string[] = [];
  const property = fc.asyncProperty(itemsArb, fc.array(queryArb, { minLength: 1, maxLength: 4 }), async (items, qs) => {
    await s.batch([...previous.map(del), ...items.map(put)]);
    previous = items.map((i) => i.key);
    const oracle = memoryStore(o);
    await oracle.batch(items.map(put));
    for (const q of qs) {
      const [got, want] = [await s.query(q), await oracle.query(q)];
      assert.equal(got.total, want.total, `total of ${q}`);
      assert.deepEqual(got.items.map(idOf), want.items.map(idOf), q);
      assert.ok(
        got.items.every((m, i) => equals(conformanceTypes.item, m, want.items[i] as Message)),
        q,
      );
    }
    await oracle.close();
  });
  await fc.assert(property, { numRuns: runs });
}

async function refusals(s: Store): Promise<void> {
  const refused = [
    "select * from ConformanceItem where tags = 'a'",
    'select * from ConformanceItem where place = nil',
    'select count(*) from ConformanceItem',
    'select category, count(*) from ConformanceItem group-by category',
    'select * from Place',
    'select * from ConformanceItem where',
  ];
  for (const q of refused) await assert.rejects(s.query(q), hasCode('L8_ERR_QUERY'), q);
  await assert.rejects(s.query('select * from Nope'), hasCode('L8_ERR_UNKNOWN_TYPE'));
}

async function reopening(open: (o: StoreOptions) => Promise<Store>, o: StoreOptions): Promise<void> {
  const first = await open(o);
  await first.batch([put(stored(full('a'), 7)), put(stored({ id: 'b', rank: 2 })), put(stored({ id: 'c', rank: 1 }))]);
  await first.delete('b');
  await first.close();
  const again = await open(o);
  try {
    assert.equal(await again.count(), 2);
    assertStored(await again.get('a'), stored(full('a'), 7));
    const { items, total } = await again.query('select * from ConformanceItem where rank > 0');
    assert.deepEqual([items.map(idOf), total], [['c'], 1]);
  } finally {
    await again.close();
  }
}

async function closing(s: Store): Promise<void> {
  await s.batch(Array.from({ length: 300 }, (_, i) => put(stored({ id: `c${String(i).padStart(3, '0')}` }))));
  const scan = s.scan()[Symbol.asyncIterator]();
  await scan.next();
  await Promise.all([s.close(), s.close()]);
  await s.close();
  const closed = hasCode('L8_ERR_CLOSED');
  await assert.rejects(s.put(stored({ id: 'x' })), closed);
  await assert.rejects(s.get('a'), closed);
  await assert.rejects(s.delete('a'), closed);
  await assert.rejects(s.count(), closed);
  await assert.rejects(s.query('select * from ConformanceItem'), closed);
  await assert.rejects(s.batch([]), closed);
  await assert.rejects(keysOf(s.scan()), closed);
  // a scan under way may finish the entities it already read, then stops with L8_ERR_CLOSED
  const rest = await drain(scan).catch((err: unknown) => (closed(err) ? [] : Promise.reject(err)));
  assert.ok(rest.length < 300);
}

function put(item: StoredItem): StoreOp {
  return { op: 'put', item };
}

function del(key: string): StoreOp {
  return { op: 'delete', key };
}

function idOf(item: Message): string {
  return (item as unknown as { id: string }).id;
}

async function keysOf(scan: AsyncIterable<StoredItem>): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of scan) keys.push(key);
  return keys;
}

async function drain(it: AsyncIterator<StoredItem>): Promise<StoredItem[]> {
  const out: StoredItem[] = [];
  for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value);
  return out;
}

function assertStored(got: StoredItem | undefined, want: StoredItem): void {
  assert.ok(got !== undefined, `${want.key} is missing`);
  assert.deepEqual([got.key, got.version], [want.key, want.version]);
  assert.ok(equals(conformanceTypes.item, got.item, want.item), `${want.key}: the item differs`);
}

/** A validator for assert.rejects that shows the actual error when the code differs. */
function hasCode(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.equal((err as { code?: unknown }).code, code, String(err));
    return true;
  };
}
