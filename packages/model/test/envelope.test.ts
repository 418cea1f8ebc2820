import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clone, create, toBinary } from '@bufbuild/protobuf';
import { OrderSchema } from '@layer8/fixtures';
import { ContentType } from '@layer8/protocol';
import { EnvelopeWireSchema } from '../src/gen/layer8/model/v1/envelope_pb.ts';
import {
  applyNotification,
  decodeEnvelope,
  decodeNotificationSet,
  deepEqual,
  encodeEnvelope,
  encodeNotificationSet,
  makeChangeSet,
  makeEnvelope,
  type NotificationSet,
  SequenceTracker,
  TypeRegistry,
  typeId,
} from '../src/index.ts';
import { demoRegistry, sampleOrder } from './fixtures.ts';

const registry = demoRegistry();

describe('envelope', () => {
  test('items, keys, per-item errors, metadata, query and paging round trip', () => {
    const env = makeEnvelope(
      [
        { key: '42', type: 'layer8.demo.v1.Order', value: sampleOrder(), version: 3 },
        { key: '43', type: 'order', value: sampleOrder(), contentType: ContentType.JSON },
        { key: 'x', type: '', value: { free: ['form', 1] } },
        { key: '44', type: 'layer8.demo.v1.Order', error: { code: 'L8_ERR_FORBIDDEN', message: 'no' } },
      ],
      { query: 'select * from Order limit 4', paging: { page: 1, limit: 4, more: true }, total: 9 },
    );
    assert.deepEqual(env.metadata, { total: 9, count: 4, errors: 1 });
    const back = decodeEnvelope(registry, encodeEnvelope(registry, env));
    assert.deepEqual(back.metadata, env.metadata);
    assert.equal(back.query, env.query);
    assert.deepEqual(back.paging, env.paging);
    assert.ok(deepEqual(OrderSchema, back.items[0]?.value as never, sampleOrder()));
    assert.equal(back.items[0]?.version, 3);
    assert.ok(deepEqual(OrderSchema, back.items[1]?.value as never, sampleOrder()));
    assert.equal(back.items[1]?.contentType, ContentType.JSON);
    assert.deepEqual(back.items[2]?.value, { free: ['form', 1] });
    assert.deepEqual(back.items[3]?.error, { code: 'L8_ERR_FORBIDDEN', message: 'no' });
    assert.equal(back.items[3]?.value, undefined);
    const bare = decodeEnvelope(registry, encodeEnvelope(registry, makeEnvelope([])));
    assert.deepEqual(bare, { items: [], metadata: { total: 0, count: 0, errors: 0 } });
  });

  test('bad payloads are coded errors naming the item', () => {
    assert.throws(() => decodeEnvelope(registry, new Uint8Array([0x0a, 0xff])), { code: 'L8_ERR_DECODE' });
    const env = makeEnvelope([{ key: '1', type: 'layer8.demo.v1.Order', value: sampleOrder() }]);
    const bytes = encodeEnvelope(registry, env);
    assert.throws(() => decodeEnvelope(new TypeRegistry(), bytes), { code: 'L8_ERR_UNKNOWN_TYPE' });
    const broken = toBinary(
      EnvelopeWireSchema,
      create(EnvelopeWireSchema, { items: [{ key: '1', contentType: 2, value: new TextEncoder().encode('{') }] }),
    );
    assert.throws(
      () => decodeEnvelope(registry, broken),
      (err: { code: string; data: { item: number } }) => {
        assert.equal(err.code, 'L8_ERR_DECODE');
        assert.equal(err.data.item, 0);
        return true;
      },
    );
  });
});

describe('notification sets', () => {
  const base = {
    source: 'node-a',
    service: 'orders',
    area: 1,
    modelType: 'layer8.demo.v1.Order',
    modelKey: '42',
  };

  test('post, put, patch and delete round trip and apply with version checks', () => {
    const v1 = sampleOrder();
    const v2 = clone(OrderSchema, v1);
    v2.gift = false;
    const cs = makeChangeSet(OrderSchema, { entity: v1, version: 1 }, v2);
    const sets: NotificationSet[] = [
      { ...base, kind: 'post', sequence: 1, version: 1, entity: v1 },
      { ...base, kind: 'patch', sequence: 2, version: 2, changeSet: cs },
      { ...base, kind: 'put', sequence: 3, version: 3, entity: v1 },
      { ...base, kind: 'delete', sequence: 4, version: 3 },
    ];
    let held: ReturnType<typeof applyNotification>;
    const states: (boolean | undefined)[] = [];
    for (const n of sets) {
      const back = decodeNotificationSet(registry, encodeNotificationSet(registry, n));
      assert.equal(back.kind, n.kind);
      assert.equal(back.sequence, n.sequence);
      held = applyNotification(registry, held, back);
      states.push((held?.entity as typeof v1 | undefined)?.gift);
    }
    assert.deepEqual(states, [true, false, true, undefined]);
    const stale = applyNotification(registry, { entity: v2, version: 5 }, sets[0] as NotificationSet);
    assert.equal(stale?.version, 5);
    assert.throws(() => applyNotification(registry, undefined, sets[1] as NotificationSet), {
      code: 'L8_ERR_VERSION_GAP',
    });
    assert.throws(() => applyNotification(registry, { entity: v1, version: 4 }, sets[1] as NotificationSet), {
      code: 'L8_ERR_VERSION_GAP',
    });
  });

  test('a patch carries type and key once, in the notification', () => {
    const v1 = sampleOrder();
    const v2 = clone(OrderSchema, v1);
    v2.city = 'Lyon';
    const cs = makeChangeSet(OrderSchema, { entity: v1, version: 1 }, v2);
    const n: NotificationSet = { ...base, kind: 'patch', sequence: 1, version: 2, changeSet: cs };
    const back = decodeNotificationSet(registry, encodeNotificationSet(registry, n));
    assert.deepEqual(back.changeSet, cs);
  });

  test('missing parts and bad bytes are coded errors', () => {
    assert.throws(() => encodeNotificationSet(registry, { ...base, kind: 'post', sequence: 1, version: 1 }), {
      code: 'L8_ERR_INVALID_ARGUMENT',
    });
    assert.throws(() => encodeNotificationSet(registry, { ...base, kind: 'patch', sequence: 1, version: 1 }), {
      code: 'L8_ERR_INVALID_ARGUMENT',
    });
    assert.throws(() => decodeNotificationSet(registry, new Uint8Array([0x12, 0x09])), { code: 'L8_ERR_DECODE' });
    assert.throws(() => decodeNotificationSet(registry, new Uint8Array([0x08, 0x09])), { code: 'L8_ERR_DECODE' });
    const patchWithout = new Uint8Array([0x08, 0x03, 0x32, 0x05, ...new TextEncoder().encode('Order')]);
    assert.throws(() => decodeNotificationSet(registry, patchWithout), { code: 'L8_ERR_DECODE' });
  });

  test('sequence tracking per source', () => {
    const t = new SequenceTracker();
    assert.deepEqual(
      [t.accept('a', 1), t.accept('a', 2), t.accept('a', 2), t.accept('a', 4), t.accept('a', 5), t.accept('b', 1)],
      ['next', 'next', 'duplicate', 'gap', 'next', 'next'],
    );
    t.forget('a');
    assert.equal(t.accept('a', 1), 'next');
  });

  test('type ids are FNV-1a 32 of the full name', () => {
    assert.equal(typeId(''), 0x811c9dc5);
    assert.equal(typeId('a'), 0xe40c292c);
    assert.equal(registry.byId(typeId('layer8.demo.v1.Order')).desc, OrderSchema);
    assert.throws(() => registry.byId(1), { code: 'L8_ERR_UNKNOWN_TYPE' });
    assert.ok(create(OrderSchema));
  });
});
