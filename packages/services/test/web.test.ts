import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { OrderSchema, Status } from '@layer8/fixtures';
import { Action } from '@layer8/protocol';
import { waitFor } from '@layer8/testkit';
import { modelOf, WEB_SERVICE, type WebAnswer, type WebDescriptor } from '../src/index.ts';
import { type Node, type Overlay, overlay } from './kit.ts';

describe('web descriptors: what a gateway learns from the services it may publish', () => {
  let o: Overlay;
  let a: Node;
  let b: Node;
  const hosts = () => b.vnic.health.instances(WEB_SERVICE, 0).map((r) => r.id);
  const ask = async (): Promise<WebDescriptor[]> => {
    const m = await b.vnic.request({ service: WEB_SERVICE, area: 0, node: a.vnic.id }, {}, { action: Action.GET });
    return [...m.json<WebAnswer>().services];
  };
  before(async () => {
    o = await overlay(1, 2);
    [a, b] = o.nodes as [Node, Node];
  });
  after(() => o.close());

  test('a node answers for its web-exposed services only while it runs one', async () => {
    await a.services.activate({ name: 'Hidden', type: OrderSchema });
    await waitFor(() => b.vnic.health.instances('Hidden', 0).length === 1, { what: 'Hidden in health' });
    assert.deepEqual(hosts(), [], 'no web-exposed service yet');
    await a.services.activate({ name: 'Orders', area: 2, type: OrderSchema, web: { actions: ['get', 'post'] } });
    await waitFor(() => hosts().length === 1, { what: `${WEB_SERVICE} in b’s health` });
    const [d, ...rest] = await ask();
    assert.equal(rest.length, 0);
    const { files, ...plain } = d as WebDescriptor;
    assert.deepEqual(plain, {
      name: 'Orders',
      area: 2,
      type: 'layer8.demo.v1.Order',
      actions: ['get', 'post'],
      maxLimit: 1000,
      stateful: true,
      primaryKey: ['id'],
    });
    await a.services.deactivate('Orders', 2);
    await waitFor(() => hosts().length === 0, { what: `${WEB_SERVICE} gone from b’s health` });
  });

  test('the model travels with the descriptor: a gateway without generated code encodes what the service decodes', async () => {
    await a.services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['get'], maxLimit: 50 } });
    await waitFor(() => hosts().length === 1, { what: `${WEB_SERVICE} in b’s health` });
    const d = (await ask())[0] as WebDescriptor;
    assert.equal(d.maxLimit, 50);
    const { desc } = modelOf(d);
    assert.deepEqual(
      desc.fields.map((f) => f.name),
      OrderSchema.fields.map((f) => f.name),
    );
    const order = create(OrderSchema, { id: 7n, number: 'A-7', status: Status.PAID, city: 'Lyon' });
    const there = fromBinary(desc, toBinary(OrderSchema, order));
    assert.deepEqual(fromBinary(OrderSchema, toBinary(desc, there)), order);
  });

  test('a descriptor without a valid file set, or without its type, is refused with a code', () => {
    const d = { name: 'X', area: 0, type: 'no.Such', actions: [], maxLimit: 1, stateful: false, primaryKey: [] };
    assert.throws(() => modelOf({ ...d, files: Buffer.from('not a file set').toString('base64') }), {
      code: 'L8_ERR_DECODE',
    });
    assert.throws(() => modelOf({ ...d, files: '' }), { code: 'L8_ERR_UNKNOWN_TYPE' });
  });
});
