import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OrderSchema, SeatSchema } from '@layer8/fixtures';
import { WEB_SERVICE, webDescriptor } from '@layer8/services';
import { waitFor } from '@layer8/testkit';
import type { Directory } from '../src/index.ts';
import { type Gw, http, type Node, published, type Rig, rig } from './kit.ts';

const paths = async (gw: Gw) =>
  Object.keys(((await http(gw.url, 'GET', '/openapi.json')).json as { paths: object }).paths);

describe('the directory follows what the overlay publishes, without a restart', () => {
  let r: Rig;
  let a: Node;
  let b: Node;
  let g1: Gw;
  let g2: Gw;

  before(async () => {
    r = await rig();
    a = await r.node('a');
    b = await r.node('b');
    await a.services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['get', 'post'] } });
    g1 = await r.gateway('g');
    g2 = await r.gateway('g2');
    await published(g1, 'Orders');
    await published(g2, 'Orders');
  });
  after(() => r.close());

  test('a service activated later appears; a deactivated one answers 404 and leaves /openapi.json', async () => {
    assert.deepEqual(await paths(g1), ['/l8/0/Orders', '/l8/0/Orders/{key}']);
    const revision = g1.gateway.directory.revision;
    await a.services.activate({ name: 'Seats', area: 7, type: SeatSchema, web: { actions: ['get', 'put'] } });
    await published(g1, 'Seats', 7);
    assert.ok(g1.gateway.directory.revision > revision);
    assert.deepEqual(await paths(g1), ['/l8/0/Orders', '/l8/0/Orders/{key}', '/l8/7/Seats', '/l8/7/Seats/{key}']);
    const seat = { tenant: 't', row: 'A', no: 3, taken: true };
    const put = await http(g1.url, 'PUT', '/l8/7/Seats', seat);
    assert.equal(put.status, 200, put.text);
    assert.equal((await http(g1.url, 'GET', '/l8/7/Seats/t,A,3')).status, 200, 'a composite key in the path');

    await a.services.deactivate('Seats', 7);
    await published(g1, 'Seats', 7, false);
    const gone = await http(g1.url, 'GET', '/l8/7/Seats/t,A,3');
    assert.deepEqual([gone.status, (gone.json as { code: string }).code], [404, 'L8_ERR_NO_SERVICE']);
    assert.deepEqual(await paths(g1), ['/l8/0/Orders', '/l8/0/Orders/{key}']);
  });

  test('two gateways in one process share nothing: closing one leaves the other serving', async () => {
    await b.services.activate({ name: 'Solo', type: OrderSchema, web: { actions: ['get'] } });
    await published(g1, 'Solo');
    await published(g2, 'Solo');
    assert.notEqual(g1.url, g2.url);
    const spare = await r.gateway('g3');
    await published(spare, 'Solo');
    await spare.gateway.close();
    await spare.gateway.close();
    assert.equal(spare.gateway.directory.routes().length, 0, 'a closed gateway forgets its routes');
    assert.equal((await http(g2.url, 'GET', '/l8/0/Solo')).status, 200);
    await assert.rejects(spare.gateway.start(), { code: 'L8_ERR_CLOSED' });
    await b.services.deactivate('Solo');
    await published(g2, 'Solo', 0, false);
  });

  test('two descriptors of one service: both gateways pick the same one, count it and route only to it', async () => {
    await b.services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['get', 'post', 'delete'] } });
    const offered = (d: Directory) => d.route(0, 'Orders')?.conflicting.length === 1;
    await waitFor(() => offered(g1.gateway.directory) && offered(g2.gateway.directory), { what: 'the conflict' });
    const [r1, r2] = [g1.gateway.directory.route(0, 'Orders'), g2.gateway.directory.route(0, 'Orders')];
    assert.deepEqual(r1?.nodes, r2?.nodes);
    assert.deepEqual(r1?.descriptor.actions, r2?.descriptor.actions);
    const winner = [a.vnic.id, b.vnic.id].sort()[0];
    assert.deepEqual(r1?.nodes, [winner], 'a tie goes to the smallest node id');
    assert.ok(g1.gateway.directory.counters.conflicts >= 1);
    const sees = await http(g1.url, 'GET', '/l8/0/Orders');
    assert.equal(sees.status, 200);
    const picked = Array.from({ length: 4 }, () => g1.gateway.directory.pick(r1 as never));
    assert.deepEqual(new Set(picked), new Set([winner]));

    await (winner === a.vnic.id ? a : b).services.deactivate('Orders');
    await waitFor(() => g1.gateway.directory.route(0, 'Orders')?.conflicting.length === 0, { what: 'one left' });
    const loser = winner === a.vnic.id ? b.vnic.id : a.vnic.id;
    assert.deepEqual(g1.gateway.directory.route(0, 'Orders')?.nodes, [loser]);
    assert.equal((await http(g1.url, 'GET', '/l8/0/Orders')).status, 200);
  });

  test('a node that leaves takes its routes with it', async () => {
    const c = await r.node('c');
    await c.services.activate({ name: 'Brief', type: OrderSchema, web: { actions: ['get'] } });
    await published(g1, 'Brief');
    await c.services.close();
    await c.vnic.close();
    await published(g1, 'Brief', 0, false);
  });

  test('malformed descriptors are refused and counted; a failed or non-JSON answer is retried', async () => {
    const d = await r.node('d');
    const good = webDescriptor({ name: 'Odd', type: OrderSchema, web: { actions: ['get'] } }, true);
    const calls = new Map<string, number>(); // per gateway: both ask
    const sub = d.vnic.subscribe({ service: WEB_SERVICE, area: 0 }, (m) => {
      const n = (calls.get(m.source) ?? 0) + 1;
      calls.set(m.source, n);
      if (n === 1) throw new Error('not yet');
      if (n === 2) return Uint8Array.of(0x7b, 0x7b); // `{{`: not JSON
      const bad = [
        { name: 5 },
        { ...good, name: 'Broken', files: 'AAAA' },
        { ...good, name: 'Fly', actions: ['fly'] },
        null,
        { ...good, name: 'Neg', area: -1 },
      ];
      return { services: [good, ...bad, good] };
    });
    const dir = g1.gateway.directory;
    const refused = dir.counters.refused;
    await published(g1, 'Odd');
    assert.ok(dir.counters.fetchFailures >= 2, 'the failed fetches are counted');
    assert.equal(dir.counters.refused - refused, 6, 'four malformed, a model that does not build and a duplicate');
    assert.equal((await http(g1.url, 'GET', '/l8/0/Odd')).status, 503, 'health lists no instance of Odd');
    sub.close();
    await published(g1, 'Odd', 0, false);
  });
});
