/**
 * The entity every case of the services benchmark writes and reads: a realistic demo Order (two lines,
 * an address, tags, a note) of @layer8/fixtures, and its protobuf bytes, which NATS KV stores as the value
 * so that both systems move the same number of bytes.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { file_layer8_demo_v1_demo, type Order, OrderSchema, Status } from '@layer8/fixtures';
import { TypeRegistry } from '@layer8/model';

/** The demo models, as a service manager and its clients need them. */
export function orderRegistry(): TypeRegistry {
  return new TypeRegistry().register(file_layer8_demo_v1_demo);
}

/** Order `id` (≥ 1): the same content for the same id, a unique `number` per id. */
export function demoOrder(id: number): Order {
  return create(OrderSchema, {
    id: BigInt(id),
    number: `A-${id}`,
    customerId: `cust-${id % 997}`,
    status: Status.OPEN,
    lines: [
      { no: 1, sku: 'SKU-1042', qty: 2, price: 19.9 },
      { no: 2, sku: 'SKU-2210', qty: 1, price: 149 },
    ],
    tags: { channel: 'web', region: 'eu-west' },
    shipTo: { street: '12 rue de la Paix', city: 'Paris', zip: '75002', country: 'FR' },
    createdMs: 1_730_000_000_000n + BigInt(id),
    weight: 2.5,
    city: 'Paris',
    notes: ['leave at the door'],
  });
}

/** The one-field change of `patch-replicated-3`: order `id`'s priority set to `value`. */
export function priorityPatch(id: number, value: number): Order {
  return create(OrderSchema, { id: BigInt(id), priority: value });
}

/** The protobuf bytes of order `id` (the NATS KV value). */
export function orderBytes(id: number): Uint8Array {
  return toBinary(OrderSchema, demoOrder(id));
}

/** Key `i` of `keys` (1-based, cycling), so that writes of one key are `keys` operations apart. */
export function keyOf(i: number, keys: number): number {
  return (i % keys) + 1;
}
