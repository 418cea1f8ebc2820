/** Shared test data: a registry with the demo models and fast-check arbitraries of orders. */
import { create } from '@bufbuild/protobuf';
import {
  file_layer8_demo_v1_bench,
  file_layer8_demo_v1_demo,
  type Order,
  type OrderLine,
  OrderLineSchema,
  OrderSchema,
} from '@layer8/fixtures';
import fc from 'fast-check';
import { TypeRegistry } from '../src/index.ts';

/** A registry holding every demo type. */
export function demoRegistry(): TypeRegistry {
  return new TypeRegistry().register(file_layer8_demo_v1_demo, file_layer8_demo_v1_bench);
}

const word = fc.constantFrom('', 'a', 'B', 'x y', 'kéy', '0', 'a>b', 'c<d', 'e\\f', 'g.h');
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

/** Arbitrary order lines, zeros and empties included. */
export const lineArb: fc.Arbitrary<OrderLine> = fc
  .record(
    {
      no: fc.oneof(fc.constant(0), int32),
      sku: word,
      qty: fc.integer({ min: -3, max: 3 }),
      price: fc.double(),
      comment: word,
    },
    { requiredKeys: ['no', 'sku', 'qty', 'price'] },
  )
  .map((init) => create(OrderLineSchema, init));

/** Arbitrary orders covering every field kind: presence, oneof, maps of scalars and messages, lists, bytes. */
export const orderArb: fc.Arbitrary<Order> = fc
  .record(
    {
      id: fc.oneof(fc.constant(0n), int64),
      number: word,
      customerId: word,
      status: fc.integer({ min: 0, max: 3 }),
      lines: fc.array(lineArb, { maxLength: 4 }),
      tags: fc.dictionary(word, word, { maxKeys: 3, noNullPrototype: true }),
      shipTo: fc.record({ street: word, city: word, zip: word, country: word }),
      discount: fc.oneof(fc.constant(0), fc.double()),
      gift: fc.boolean(),
      linesByNo: fc.array(fc.tuple(int32, lineArb), { maxLength: 3 }).map((es) => Object.fromEntries(es)),
      notes: fc.array(word, { maxLength: 4 }),
      signature: fc.uint8Array({ maxLength: 4 }),
      payment: fc.oneof(
        fc.record({ case: fc.constant('card' as const), value: word }),
        fc.record({ case: fc.constant('iban' as const), value: word }),
      ),
      createdMs: fc.oneof(fc.constant(0n), uint64),
      weight: fc.float(),
      priority: fc.oneof(fc.constant(0), int32),
      city: word,
      flags: fc.dictionary(fc.constantFrom('true', 'false'), int64, { maxKeys: 2, noNullPrototype: true }),
      ratings: fc.array(int32, { maxLength: 4 }),
    },
    { requiredKeys: [] },
  )
  .map((init) => create(OrderSchema, init as never));

/** A small order used by examples: id 42, two lines, a tag, a ship-to address. */
export function sampleOrder(): Order {
  return create(OrderSchema, {
    id: 42n,
    number: 'A-42',
    customerId: 'c1',
    status: 1,
    lines: [
      { no: 1, sku: 'apple', qty: 3, price: 0.5 },
      { no: 2, sku: 'pear', qty: 1, price: 0.75 },
    ],
    tags: { color: 'red' },
    shipTo: { city: 'Paris', zip: '75001' },
    gift: true,
    payment: { case: 'card', value: '4111' },
  });
}
