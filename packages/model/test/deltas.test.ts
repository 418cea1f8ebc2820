import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clone, create, toBinary } from '@bufbuild/protobuf';
import { demoCustomer, demoWide50, OrderLineSchema, OrderSchema, Wide50Schema } from '@layer8/fixtures';
import fc from 'fast-check';
import {
  applyChangeSet,
  applyChanges,
  type ChangeSet,
  decodeChangeSet,
  deepClone,
  deepEqual,
  diff,
  encodeChangeSet,
  makeChangeSet,
  merge,
} from '../src/index.ts';
import { demoRegistry, orderArb, sampleOrder } from './fixtures.ts';

const registry = demoRegistry();

function applied(a: ReturnType<typeof sampleOrder>, changes: ReturnType<typeof diff>) {
  const copy = clone(OrderSchema, a);
  applyChanges(OrderSchema, copy, changes);
  return copy;
}

describe('diff and apply', () => {
  test('apply(a, diff(a, b)) equals b for arbitrary orders', () => {
    fc.assert(
      fc.property(orderArb, orderArb, (a, b) => {
        const changes = diff(OrderSchema, a, b);
        assert.ok(deepEqual(OrderSchema, applied(a, changes), b));
        assert.ok(deepEqual(OrderSchema, applied(b, diff(OrderSchema, b, b)), b));
      }),
      { numRuns: 300 },
    );
  });

  test('the wire form of a change set round trips and applies the same', () => {
    fc.assert(
      fc.property(orderArb, orderArb, (a, b) => {
        const cs = makeChangeSet(OrderSchema, { entity: a, version: 3 }, b, { key: 'k' });
        const back = decodeChangeSet(registry, encodeChangeSet(registry, cs));
        assert.equal(back.fromVersion, 3);
        assert.equal(back.toVersion, 4);
        const held = applyChangeSet(OrderSchema, { entity: a, version: 3 }, back);
        assert.ok(deepEqual(OrderSchema, held.entity, b));
      }),
      { numRuns: 300 },
    );
  });

  test('explicit presence: zero, false, empty, clear, map delete, truncation', () => {
    const a = sampleOrder();
    a.discount = 0.25;
    a.notes = ['x', 'y', 'z'];
    const b = clone(OrderSchema, a);
    b.discount = 0;
    b.gift = false;
    b.payment = { case: 'card', value: '' };
    b.tags = {};
    b.notes = ['x'];
    b.shipTo = undefined;
    b.lines[1]!.qty = 0;
    const changes = diff(OrderSchema, a, b);
    assert.deepEqual(
      changes.map((c) => [c.path, c.op, c.value]),
      [
        ['lines<1>.qty', 'delete', undefined],
        ['tags', 'delete', undefined],
        ['ship_to', 'delete', undefined],
        ['discount', 'set', 0],
        ['gift', 'set', false],
        ['notes<2>', 'delete', undefined],
        ['notes<1>', 'delete', undefined],
        ['card', 'set', ''],
      ],
    );
    assert.ok(deepEqual(OrderSchema, applied(a, changes), b));
  });

  test('PATCH merges: only what is set changes, zeros of optional fields included', () => {
    const target = sampleOrder();
    const partial = create(OrderSchema, { gift: false, tags: { size: 'L' }, shipTo: { zip: '1000' }, ratings: [5] });
    const changes = merge(OrderSchema, target, partial);
    assert.equal(target.gift, false);
    assert.deepEqual(target.tags, { color: 'red', size: 'L' });
    assert.equal(target.shipTo?.city, 'Paris');
    assert.equal(target.shipTo?.zip, '1000');
    assert.deepEqual(target.ratings, [5]);
    assert.equal(target.lines.length, 2);
    assert.equal(changes.length, 4);
    assert.deepEqual(merge(OrderSchema, target, partial), []);
  });

  test('deep equality and clone', () => {
    const a = sampleOrder();
    const b = deepClone(OrderSchema, a);
    assert.ok(deepEqual(OrderSchema, a, b));
    b.lines[0]!.qty = 9;
    assert.equal(a.lines[0]?.qty, 3);
    assert.ok(!deepEqual(OrderSchema, a, b));
    const c = deepClone(OrderSchema, a);
    c.discount = 0;
    assert.ok(!deepEqual(OrderSchema, a, c), 'unset optional differs from zero');
    a.signature = new Uint8Array([1]);
    c.signature = new Uint8Array([2]);
    assert.ok(!deepEqual(OrderSchema, a, c));
  });

  test('changes stay reusable: message values are cloned on apply', () => {
    const a = create(OrderSchema);
    const b = sampleOrder();
    const changes = diff(OrderSchema, a, b);
    const x = applied(a, changes);
    const y = applied(a, changes);
    x.lines[0]!.qty = 100;
    assert.equal(y.lines[0]?.qty, 3);
    applyChanges(OrderSchema, a, [{ path: 'signature', op: 'set', value: new Uint8Array([7]) }]);
    assert.deepEqual(a.signature, new Uint8Array([7]));
    applyChanges(OrderSchema, a, [{ path: 'lines', op: 'set', value: [create(OrderLineSchema, { qty: 1 })] }]);
    assert.equal(a.lines.length, 1);
  });
});

describe('versions', () => {
  const before = { entity: sampleOrder(), version: 7 };
  const after = clone(OrderSchema, before.entity);
  after.city = 'Lyon';

  test('a change set records its versions and key, and applies on top of its version only', () => {
    const cs = makeChangeSet(OrderSchema, before, after);
    assert.deepEqual(
      { ...cs, changes: cs.changes.length },
      {
        type: 'layer8.demo.v1.Order',
        key: '42',
        fromVersion: 7,
        toVersion: 8,
        changes: 1,
      },
    );
    const next = applyChangeSet(OrderSchema, before, cs);
    assert.equal(next.version, 8);
    assert.equal(next.entity.city, 'Lyon');
    assert.equal(before.entity.city, '', 'not in place by default');
    assert.throws(() => applyChangeSet(OrderSchema, next, cs), {
      code: 'L8_ERR_VERSION_GAP',
      data: { type: cs.type, key: '42', held: 8, fromVersion: 7, toVersion: 8, stale: true },
    });
    assert.throws(
      () => applyChangeSet(OrderSchema, { ...before, version: 5 }, cs),
      (err: { data: { stale: boolean } }) => !err.data.stale,
    );
    const inPlace = applyChangeSet(OrderSchema, { entity: clone(OrderSchema, before.entity), version: 7 }, cs, {
      inPlace: true,
    });
    assert.equal(inPlace.entity.city, 'Lyon');
  });

  test('PATCH change sets take the key of the held entity; types without a key record an empty one', () => {
    const cs = makeChangeSet(OrderSchema, before, create(OrderSchema, { city: 'Nice' }), { mode: 'patch' });
    assert.equal(cs.key, '42');
    assert.deepEqual(cs.changes, [{ path: 'city', op: 'set', value: 'Nice' }]);
    const line = makeChangeSet(
      OrderLineSchema,
      { entity: create(OrderLineSchema), version: 0 },
      create(OrderLineSchema, { qty: 1 }),
    );
    assert.equal(line.key, '');
  });

  test('invalid versions and types are L8_ERR_INVALID_ARGUMENT', () => {
    const cs = makeChangeSet(OrderSchema, before, after);
    const bad: ChangeSet[] = [
      { ...cs, type: 'layer8.demo.v1.Seat' },
      { ...cs, toVersion: 7 },
      { ...cs, fromVersion: -1 },
      { ...cs, toVersion: 1.5 },
    ];
    for (const b of bad)
      assert.throws(() => applyChangeSet(OrderSchema, before, b), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.throws(() => makeChangeSet(OrderSchema, { ...before, version: Number.NaN }, after), {
      code: 'L8_ERR_INVALID_ARGUMENT',
    });
  });
});

describe('change set wire form', () => {
  test('a one-field change on a 50-field model is at most 5% of the entity', () => {
    const wide = demoWide50(42);
    const changed = clone(Wide50Schema, wide);
    changed.score = 99;
    const cs = makeChangeSet(Wide50Schema, { entity: wide, version: 41 }, changed);
    const bytes = encodeChangeSet(registry, cs).length;
    const full = toBinary(Wide50Schema, wide).length;
    assert.ok(bytes / full <= 0.05, `${bytes} / ${full}`);
    assert.equal(demoCustomer(1).phones.length, 2);
  });

  test('bad input decodes to L8_ERR_DECODE with the change index', () => {
    assert.throws(() => decodeChangeSet(registry, new Uint8Array([0x0a, 0x10])), { code: 'L8_ERR_DECODE' });
    const cs = makeChangeSet(OrderSchema, { entity: create(OrderSchema), version: 1 }, sampleOrder());
    const good = encodeChangeSet(registry, cs);
    const decoded = decodeChangeSet(registry, good);
    assert.equal(decoded.changes.length, cs.changes.length);
    const wrongType = { ...cs, changes: [{ path: 'city', op: 'set' as const, value: 5 }] };
    assert.throws(() => encodeChangeSet(registry, wrongType), {
      code: 'L8_ERR_INVALID_ARGUMENT',
      data: { path: 'city' },
    });
    const wholeList = { ...cs, changes: [{ path: 'ratings', op: 'set' as const, value: [1] }] };
    assert.throws(() => encodeChangeSet(registry, wholeList), { code: 'L8_ERR_INVALID_ARGUMENT' });
    const badEnum = { ...cs, changes: [{ path: 'status', op: 'set' as const, value: 'x' }] };
    assert.throws(() => encodeChangeSet(registry, badEnum), { code: 'L8_ERR_INVALID_ARGUMENT' });
    const badMsg = { ...cs, changes: [{ path: 'ship_to', op: 'set' as const, value: 1 }] };
    assert.throws(() => encodeChangeSet(registry, badMsg), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.throws(() => encodeChangeSet(registry, { ...cs, type: 'Nope' }), { code: 'L8_ERR_UNKNOWN_TYPE' });
  });
});
