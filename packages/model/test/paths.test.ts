import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AddressSchema, OrderLineSchema, OrderSchema, SeatSchema } from '@layer8/fixtures';
import fc from 'fast-check';
import {
  allNodes,
  deletePath,
  escapeKey,
  formatPath,
  getPath,
  introspect,
  keysOf,
  keyText,
  nodeAt,
  parsePath,
  primaryKeyOf,
  resolvePath,
  setPath,
  splitKey,
} from '../src/index.ts';
import { sampleOrder } from './fixtures.ts';

describe('path syntax', () => {
  test('parses names, keys and escapes', () => {
    assert.deepEqual(parsePath('order<42>.lines<3>.qty'), [
      { name: 'order', key: '42' },
      { name: 'lines', key: '3' },
      { name: 'qty' },
    ]);
    assert.deepEqual(parsePath('tags<a\\>b>'), [{ name: 'tags', key: 'a>b' }]);
    assert.deepEqual(parsePath('tags<>'), [{ name: 'tags', key: '' }]);
  });

  test('format and parse are inverse for any key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_]{0,5}$/), fc.option(fc.string())), {
          minLength: 1,
          maxLength: 4,
        }),
        (raw) => {
          const steps = raw.map(([name, key]) => (key === null ? { name } : { name, key }));
          assert.deepEqual(parsePath(formatPath(steps)), steps);
        },
      ),
    );
    assert.equal(escapeKey('a<b>\\'), 'a\\<b\\>\\\\');
  });

  test('malformed paths are L8_ERR_PATH with the column', () => {
    const cases: [string, number][] = [
      ['', 1],
      ['lines<3', 8],
      ['lines<3>x', 9],
      ['a..b', 3],
      ['1abc', 1],
      ['tags<a<b>', 7],
      ['tags<a\\', 8],
    ];
    for (const [path, column] of cases) {
      assert.throws(() => parsePath(path), { code: 'L8_ERR_PATH', data: { path, column } }, path);
    }
  });
});

describe('resolving paths against a model', () => {
  test('root step, typed keys and field name forms', () => {
    const r = resolvePath(OrderSchema, 'order<42>.lines_by_no<-5>.sku');
    assert.equal(r.rootKey, '42');
    assert.equal(r.steps[0]?.key, -5);
    assert.equal(resolvePath(OrderSchema, 'flags<true>').steps[0]?.key, true);
    assert.equal(resolvePath(OrderSchema, 'Order.customerId').steps[0]?.field.name, 'customer_id');
    assert.equal(resolvePath(OrderSchema, 'SHIP_TO.City').steps.length, 2);
    assert.equal(resolvePath(OrderSchema, [{ name: 'lines', key: '0' }]).text, 'lines<0>');
  });

  test('model errors are L8_ERR_PATH with the step', () => {
    const bad: [string, number][] = [
      ['nope', 0],
      ['order<1>.nope', 1],
      ['id<3>', 0],
      ['lines<x>', 0],
      ['lines_by_no<2147483648>', 0],
      ['flags<yes>', 0],
      ['id.x', 1],
      ['lines.qty', 1],
      ['order<1>', 1],
    ];
    for (const [path, step] of bad) {
      assert.throws(() => resolvePath(OrderSchema, path), { code: 'L8_ERR_PATH', data: { path, step } }, path);
    }
    assert.equal(resolvePath(OrderSchema, 'lines.qty', { anyElement: true }).steps.length, 2);
  });
});

describe('get, set and delete', () => {
  test('set creates missing parents, get reads them back', () => {
    const o = create(OrderSchema);
    setPath(OrderSchema, o, 'order<42>.lines<2>.qty', 7);
    setPath(OrderSchema, o, 'lines_by_no<5>.sku', 'x');
    setPath(OrderSchema, o, 'ship_to.city', 'Paris');
    setPath(OrderSchema, o, 'tags<a\\>b>', '');
    setPath(OrderSchema, o, 'discount', 0);
    setPath(OrderSchema, o, 'iban', '');
    setPath(OrderSchema, o, 'notes<1>', 'second');
    assert.equal(o.lines.length, 3);
    assert.equal(getPath(OrderSchema, o, 'lines<2>.qty'), 7);
    assert.equal(getPath(OrderSchema, o, 'lines<0>.qty'), 0);
    assert.equal(getPath(OrderSchema, o, 'lines_by_no<5>.sku'), 'x');
    assert.equal(getPath(OrderSchema, o, 'tags<a\\>b>'), '');
    assert.equal(getPath(OrderSchema, o, 'discount'), 0);
    assert.equal(getPath(OrderSchema, o, 'iban'), '');
    assert.equal(getPath(OrderSchema, o, 'card'), undefined);
    assert.deepEqual(getPath(OrderSchema, o, 'notes'), ['', 'second']);
    assert.equal(getPath(OrderSchema, o, 'ship_to.city'), 'Paris');
    assert.equal((getPath(OrderSchema, o, 'ship_to') as { city: string }).city, 'Paris');
  });

  test('absent things read as undefined and are not created', () => {
    const o = create(OrderSchema);
    for (const p of ['ship_to.city', 'ship_to', 'lines<4>.qty', 'lines<0>', 'tags<x>', 'lines_by_no<1>.sku', 'gift']) {
      assert.equal(getPath(OrderSchema, o, p), undefined, p);
    }
    assert.equal(getPath(OrderSchema, o, 'city'), '');
    assert.equal(o.shipTo, undefined);
    assert.equal(o.lines.length, 0);
  });

  test('whole lists, maps and messages', () => {
    const o = create(OrderSchema);
    setPath(OrderSchema, o, 'ratings', [3, 4]);
    setPath(OrderSchema, o, 'tags', new Map([['k', 'v']]));
    setPath(OrderSchema, o, 'flags', { true: 1n });
    setPath(OrderSchema, o, 'lines<0>', create(OrderLineSchema, { qty: 2 }));
    setPath(OrderSchema, o, 'ship_to', create(AddressSchema, { zip: '1' }));
    assert.deepEqual(o.ratings, [3, 4]);
    assert.deepEqual(o.tags, { k: 'v' });
    assert.equal(o.flags.true, 1n);
    assert.equal(o.lines[0]?.qty, 2);
    assert.equal(o.shipTo?.zip, '1');
  });

  test('bad values are L8_ERR_INVALID_ARGUMENT with the path', () => {
    const o = create(OrderSchema);
    const bad: [string, unknown][] = [
      ['qty', 1],
      ['lines<0>.qty', 'x'],
      ['ship_to', create(OrderLineSchema)],
      ['ratings', 5],
      ['tags', 'x'],
      ['lines<0>', { qty: 1 }],
    ];
    for (const [path, value] of bad.slice(1)) {
      assert.throws(() => setPath(OrderSchema, o, path, value), { code: 'L8_ERR_INVALID_ARGUMENT', data: { path } });
    }
    assert.throws(() => setPath(OrderSchema, o, 'qty', 1), { code: 'L8_ERR_PATH' });
  });

  test('delete clears fields, removes map entries and list elements', () => {
    const o = sampleOrder();
    deletePath(OrderSchema, o, 'lines<0>');
    deletePath(OrderSchema, o, 'tags<color>');
    deletePath(OrderSchema, o, 'gift');
    deletePath(OrderSchema, o, 'ship_to.city');
    deletePath(OrderSchema, o, 'iban');
    deletePath(OrderSchema, o, 'lines_by_no<3>.sku');
    deletePath(OrderSchema, o, 'number');
    assert.equal(o.lines.length, 1);
    assert.equal(o.lines[0]?.sku, 'pear');
    assert.deepEqual(o.tags, {});
    assert.equal(o.gift, undefined);
    assert.equal(o.shipTo?.city, '');
    assert.equal(o.payment.case, 'card');
    assert.equal(o.number, '');
    deletePath(OrderSchema, o, 'card');
    assert.equal(o.payment.case, undefined);
  });
});

describe('keys and introspection', () => {
  test('declared keys, key text and composite keys', () => {
    assert.deepEqual(keysOf(OrderSchema), {
      primary: ['id'],
      unique: [['number']],
      nonUnique: [['customer_id', 'status'], ['city']],
    });
    assert.equal(primaryKeyOf(OrderSchema, sampleOrder()), '42');
    assert.equal(keyText(OrderSchema, sampleOrder(), ['customer_id', 'status']), 'c1,1');
    const seat = create(SeatSchema, { tenant: 'a,b', row: 'c\\d', no: 3 });
    const key = primaryKeyOf(SeatSchema, seat);
    assert.equal(key, 'a\\,b,c\\\\d,3');
    assert.deepEqual(splitKey(key), ['a,b', 'c\\d', '3']);
    assert.throws(() => primaryKeyOf(AddressSchema, create(AddressSchema)), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.equal(keyText(OrderSchema, sampleOrder(), ['nope']), '');
  });

  test('bad key options are refused', () => {
    const broken = { ...OrderSchema, typeName: 'x.Broken', proto: OrderSchema.proto } as unknown as typeof OrderSchema;
    assert.ok(keysOf(broken));
    const fakeLines = {
      ...OrderSchema,
      fields: OrderSchema.fields.filter((f) => f.name !== 'id'),
    } as typeof OrderSchema;
    assert.throws(() => keysOf(fakeLines), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  test('the node tree', () => {
    const root = introspect(OrderSchema);
    assert.equal(root.name, 'order');
    assert.deepEqual(root.keys?.primary, ['id']);
    const qty = nodeAt(root, 'lines.qty');
    assert.equal(qty?.kind, 'scalar');
    assert.equal(qty?.type, 'int32');
    const lines = nodeAt(root, 'lines_by_no');
    assert.equal(lines?.kind, 'map');
    assert.equal(lines?.mapKey, 'int32');
    assert.equal(lines?.element, 'message');
    assert.equal(nodeAt(root, 'notes')?.element, 'scalar');
    assert.equal(nodeAt(root, 'card')?.oneof, 'payment');
    assert.equal(nodeAt(root, 'discount')?.explicit, true);
    assert.equal(nodeAt(root, 'city')?.explicit, false);
    assert.equal(nodeAt(root, 'status')?.type, 'layer8.demo.v1.Status');
    assert.equal(nodeAt(root, 'ship_to')?.kind, 'message');
    assert.equal(nodeAt(root, 'nope'), undefined);
    assert.ok(allNodes(root).length > 30);
  });
});
