import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AddressSchema, CustomerSchema, OrderSchema, Wide50Schema } from '@layer8/fixtures';
import { ContentType, L8Error } from '@layer8/protocol';
import fc from 'fast-check';
import { decodeJson, deepEqual, encodeJson, TypeRegistry } from '../src/index.ts';
import { demoRegistry, orderArb, sampleOrder } from './fixtures.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof L8Error, `not an L8Error: ${err}`);
    return err.code;
  }
  return 'no error';
}

describe('type registry', () => {
  test('resolves full and short names, case-insensitively for short ones', () => {
    const r = demoRegistry();
    assert.equal(r.get('layer8.demo.v1.Order').desc, OrderSchema);
    assert.equal(r.get('order').desc, OrderSchema);
    assert.equal(r.get('ORDER').name, 'layer8.demo.v1.Order');
    assert.ok(r.has('Wide50'));
    assert.ok(r.names().includes('layer8.demo.v1.Customer'));
    assert.deepEqual(r.get('order').keys.primary, ['id']);
  });

  test('an unknown type is L8_ERR_UNKNOWN_TYPE with the name', () => {
    const r = demoRegistry();
    assert.throws(() => r.get('Nope'), { code: 'L8_ERR_UNKNOWN_TYPE', data: { type: 'Nope', candidates: [] } });
  });

  test('an ambiguous short name lists the candidates', () => {
    const other = { ...AddressSchema, typeName: 'other.v1.Address' } as unknown as typeof AddressSchema;
    const r = new TypeRegistry().register(AddressSchema, other);
    assert.throws(() => r.get('address'), /ambiguous/);
    assert.equal(r.get('other.v1.Address').desc, other);
  });

  test('registering twice is a no-op; another descriptor of the same name is refused', () => {
    const r = new TypeRegistry().register(OrderSchema).register(OrderSchema);
    assert.deepEqual(r.names(), ['layer8.demo.v1.Order']);
    const clash = { ...OrderSchema } as typeof OrderSchema;
    assert.equal(
      code(() => r.register(clash)),
      'L8_ERR_INVALID_ARGUMENT',
    );
  });

  test('create and the protobuf registry', () => {
    const r = demoRegistry();
    const o = r.get('order').create({ id: 7n });
    assert.equal((o as ReturnType<typeof sampleOrder>).id, 7n);
    assert.ok(r.protobuf.getMessage('layer8.demo.v1.Wide50'));
    assert.equal(r.protobuf, r.protobuf);
  });
});

describe('codecs', () => {
  const codec = demoRegistry().get('order').codec;

  test('protobuf and JSON round trips on arbitrary orders', () => {
    fc.assert(
      fc.property(orderArb, (o) => {
        const bin = codec.decode(codec.encode(o));
        assert.ok(deepEqual(OrderSchema, bin, o));
        // Protobuf JSON turns an implicit -0 into an absent 0, so JSON is exact from its first decode on.
        const json = (m: typeof o) => codec.decode(codec.encode(m, ContentType.JSON), ContentType.JSON);
        const once = json(o);
        assert.ok(deepEqual(OrderSchema, json(once as typeof o), once));
      }),
      { numRuns: 200 },
    );
  });

  test('JSON round trip of a sample is exact', () => {
    const o = sampleOrder();
    assert.ok(deepEqual(OrderSchema, codec.decode(codec.encode(o, ContentType.JSON), ContentType.JSON), o));
  });

  test('bad bytes are L8_ERR_DECODE with the type', () => {
    assert.throws(
      () => codec.decode(new Uint8Array([0x0a, 0x05, 1])),
      (err: L8Error) => {
        assert.equal(err.code, 'L8_ERR_DECODE');
        assert.equal((err.data as { type: string }).type, 'layer8.demo.v1.Order');
        return true;
      },
    );
    assert.throws(() => codec.decode(new TextEncoder().encode('{"id": "x"}'), ContentType.JSON), /id/);
    assert.throws(() => codec.decode(new Uint8Array([0xff]), ContentType.JSON), { code: 'L8_ERR_DECODE' });
  });

  test('wrong message type or content type is L8_ERR_INVALID_ARGUMENT', () => {
    assert.equal(
      code(() => codec.encode(create(CustomerSchema))),
      'L8_ERR_INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => codec.encode(sampleOrder(), ContentType.BINARY)),
      'L8_ERR_INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => codec.decode(new Uint8Array(), 9)),
      'L8_ERR_INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => demoRegistry().get('wide50').codec.encode(sampleOrder())),
      'L8_ERR_INVALID_ARGUMENT',
    );
    assert.ok(Wide50Schema);
  });

  test('schemaless JSON payloads', () => {
    assert.deepEqual(decodeJson(encodeJson({ a: [1, 'x', null] })), { a: [1, 'x', null] });
    assert.equal(decodeJson(encodeJson(undefined)), null);
    assert.throws(() => encodeJson({ n: 1n }), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.throws(
      () => decodeJson(new TextEncoder().encode('{"a": }')),
      (err: L8Error) => {
        assert.equal(err.code, 'L8_ERR_DECODE');
        assert.match((err.data as { reason: string }).reason, /JSON/);
        return true;
      },
    );
  });
});
