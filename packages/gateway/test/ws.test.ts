import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type Order, OrderSchema, Status } from '@layer8/fixtures';
import type { AccessFile } from '@layer8/security';
import type { ServiceClient } from '@layer8/services';
import { FaultProxy, hostAddress, waitFor } from '@layer8/testkit';
import { VNic } from '@layer8/vnic';
import WebSocket from 'ws';
import { Gateway, WS_BEARER_PREFIX, WS_PROTOCOL } from '../src/index.ts';
import { type Gw, http, type Node, published, type Rig, rig } from './kit.ts';
import { type Held, WsClient } from './ws-client.ts';

/** writers may do everything on Orders but see only their own orders; admin (root) sees everything. */
const ACL: AccessFile = {
  rules: [{ role: 'writer', service: 'Orders', actions: ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] }],
  scopes: [{ service: 'Orders', field: 'customerId' }],
};
const USERS = { alice: ['writer'], bob: ['writer'], root: ['admin'] };
const WEB = { actions: ['post', 'put', 'patch', 'delete', 'get'] as const, maxLimit: 500 };
const PARIS = "select * from Order where city = 'Paris'";

const order = (id: number, customerId: string, city = 'Paris', notes: string[] = []): Order =>
  create(OrderSchema, { id: BigInt(id), number: `W-${id}`, customerId, status: Status.OPEN, city, notes });

/** The changes of subscription `id` after index `from`, as `kind@version key`. */
const trail = (c: WsClient, id: string, from: number) =>
  c.of(id, from).map((m) => (m.op === 'change' ? `${m.kind}@${m.version} ${m.key}` : m.op));

describe('WebSocket push: snapshot, then the changes of the entities a client may see', () => {
  let r: Rig;
  let a: Node;
  let b: Node;
  let gw: Gw;
  let onA: ServiceClient<Order>;
  let onB: ServiceClient<Order>;
  const tokens: Record<string, string> = {};
  const open: WsClient[] = [];
  const client = async (token?: string, more = {}) => {
    const c = await WsClient.open(gw.url, { ...(token === undefined ? {} : { token }), ...more });
    open.push(c);
    return c;
  };
  const root = () => ({ identity: tokens.root as string, mode: 'local' as const });

  /** What a GET as `user` answers for `q`: key → version and item, to compare with what a client holds. */
  async function rest(user: string, q: string): Promise<Held> {
    const a = await http(gw.url, 'GET', `/l8/0/Orders?q=${encodeURIComponent(q)}`, undefined, {
      authorization: `Bearer ${tokens[user]}`,
    });
    const body = a.json as { items: Record<string, unknown>[]; versions: number[] };
    return new Map(body.items.map((item, i) => [String(item.id), { version: body.versions[i] as number, item }]));
  }

  before(async () => {
    r = await rig({ acl: ACL, users: USERS });
    a = await r.node('a', true);
    b = await r.node('b', true);
    for (const n of [a, b]) {
      await n.services.activate({ name: 'Orders', type: OrderSchema, web: { ...WEB, actions: [...WEB.actions] } });
      await n.services.activate({ name: 'Bulk', type: OrderSchema, web: { actions: ['get', 'post'], maxLimit: 1000 } });
    }
    gw = await r.gateway('g', { ws: { highWaterMark: 64 * 1024, maxSubscriptions: 8, maxMessageBytes: 4096 } });
    await published(gw, 'Orders');
    await published(gw, 'Bulk');
    for (const u of Object.keys(USERS)) tokens[u] = await r.login(u);
    onA = a.services.client('Orders', 0, OrderSchema);
    onB = b.services.client('Orders', 0, OrderSchema);
  });
  after(async () => {
    for (const c of open) c.close();
    await r.close();
  });

  test('a snapshot first, then POST, PATCH and DELETE on both instances as changes in order', async () => {
    await onA.post(order(1, 'alice'), root());
    const c = await client(tokens.root);
    const snap = await c.subscribe('paris', 'Orders', PARIS);
    assert.deepEqual(
      snap.items?.map((i) => [i.key, i.version, i.item.customerId]),
      [['1', 1, 'alice']],
    );
    const from = c.messages.length;
    await onB.post(order(2, 'alice'), root());
    await c.until('paris', (h) => h.has('2'), 'order 2 pushed');
    await onA.patch(create(OrderSchema, { id: 2n, status: Status.PAID }), root());
    const change = await c.next((m) => m.key === '2' && m.version === 2, 'the change set of order 2', from);
    assert.deepEqual([change.fromVersion, change.changes], [1, [{ path: 'status', op: 'set', value: 'STATUS_PAID' }]]);
    await onB.patch(create(OrderSchema, { id: 2n, city: 'Lyon' }), root()); // leaves the result
    await c.until('paris', (h) => !h.has('2'), 'order 2 left the result');
    await onA.patch(create(OrderSchema, { id: 2n, city: 'Paris' }), root()); // enters it again
    await c.until('paris', (h) => h.get('2')?.version === 4, 'order 2 back in the result');
    await onB.delete(2, root());
    await c.until('paris', (h) => !h.has('2'), 'order 2 deleted');
    assert.deepEqual(trail(c, 'paris', from), ['upsert@1 2', 'upsert@2 2', 'delete@3 2', 'upsert@4 2', 'delete@5 2']);
    const entered = c.of('paris', from).find((m) => m.version === 4 && m.kind === 'upsert');
    assert.equal(entered?.item?.city, 'Paris', 'an entity entering the result comes whole');
    assert.deepEqual(c.held.get('paris'), await rest('root', PARIS));
    assert.deepEqual(c.errors, []);
  });

  test('scoping: each user receives only the changes of the orders they may see', async () => {
    const alice = await client(tokens.alice);
    const bob = await client(tokens.bob);
    await alice.subscribe('mine', 'Orders');
    await bob.subscribe('mine', 'Orders');
    const [fromA, fromB] = [alice.messages.length, bob.messages.length];
    await onA.post(order(10, 'alice'), root());
    await onB.post(order(11, 'bob'), root());
    await bob.until('mine', (h) => h.has('11'), 'bob sees his new order');
    await onA.patch(create(OrderSchema, { id: 11n, city: 'Nice' }), root());
    await bob.until('mine', (h) => h.get('11')?.version === 2, 'bob sees his order change');
    await alice.until('mine', (h) => h.has('10'), 'alice sees her order');
    await onB.patch(create(OrderSchema, { id: 10n, customerId: 'bob' }), root()); // alice's order becomes bob's
    await alice.until('mine', (h) => !h.has('10'), 'the order left alice’s scope');
    await bob.until('mine', (h) => h.get('10')?.version === 2, 'the order entered bob’s scope, whole');
    assert.ok(
      alice.of('mine', fromA).every((m) => m.key === '10'),
      'alice never hears of order 11',
    );
    assert.ok(bob.of('mine', fromB).every((m) => m.key === '11' || (m.key === '10' && m.version === 2)));
    assert.equal(bob.of('mine', fromB).find((m) => m.key === '10')?.item?.customerId, 'bob');
    assert.deepEqual(alice.held.get('mine'), await rest('alice', 'select * from Order'));
    assert.deepEqual(bob.held.get('mine'), await rest('bob', 'select * from Order'));
  });

  test('without a token, or with a bad one, the service refuses and the subscription ends with its error', async () => {
    const anonymous = await client();
    assert.equal((await anonymous.subscribe('x', 'Orders')).code, 'L8_ERR_FORBIDDEN');
    const forged = await client('not-a-token');
    assert.equal((await forged.subscribe('x', 'Orders')).code, 'L8_ERR_AUTH');
  });

  test('origin, URL and subprotocol: foreign origins get 403, a token in the URL 400; a bearer subprotocol works', async () => {
    const refused = gw.gateway.push.counters.refused;
    await assert.rejects(client(tokens.root, { origin: 'https://evil.example' }), { status: 403 });
    await assert.rejects(client(undefined, { path: `/ws?access_token=${tokens.root}` }), { status: 400 });
    await assert.rejects(client(undefined, { path: '/elsewhere' }), { status: 404 });
    assert.equal(gw.gateway.push.counters.refused, refused + 3);
    const same = await client(tokens.root, { origin: new URL(gw.url).origin });
    assert.equal((await same.subscribe('o', 'Orders')).op, 'snapshot');
    const browser = await client(undefined, { protocols: [WS_PROTOCOL, `${WS_BEARER_PREFIX}${tokens.bob}`] });
    assert.equal(browser.ws.protocol, WS_PROTOCOL, 'the server selects l8.v1, never echoes the token');
    const snap = await browser.subscribe('b', 'Orders');
    assert.ok(
      (snap.items ?? []).every((i) => i.item.customerId === 'bob'),
      'scoped to bob',
    );
  });

  test('limits: bad messages, queries that cannot be followed, unknown services, too many subscriptions, size', async () => {
    const c = await client(tokens.root);
    c.send({ op: 'subscribe', id: 'bad id!', service: 'Orders' });
    c.ws.send('{not json');
    const errors = () => c.messages.filter((m) => m.op === 'error' && m.code === 'L8_ERR_INVALID_ARGUMENT');
    await waitFor(() => errors().length === 2, { what: 'two refusals' });
    assert.equal((await c.subscribe('lim', 'Orders', 'select * from Order limit 5')).code, 'L8_ERR_QUERY');
    assert.equal((await c.subscribe('nope', 'Nope')).code, 'L8_ERR_NO_SERVICE');
    for (let i = 0; i < 8; i++) assert.equal((await c.subscribe(`s${i}`, 'Orders')).op, 'snapshot');
    assert.equal((await c.subscribe('s8', 'Orders')).code, 'L8_ERR_LIMIT');
    assert.equal((await c.subscribe('s0', 'Orders')).code, 'L8_ERR_CONFLICT');
    const closed = once(c.ws, 'close');
    c.send({
      op: 'subscribe',
      id: 'big',
      service: 'Orders',
      q: `select * from Order where city = '${'x'.repeat(5000)}'`,
    });
    assert.equal((await closed)[0], 1009);
  });

  test('unsubscribe stops the messages of that subscription only', async () => {
    const c = await client(tokens.root);
    await c.subscribe('gone', 'Orders', PARIS);
    await c.subscribe('kept', 'Orders', PARIS);
    c.send({ op: 'unsubscribe', id: 'gone' });
    await c.next((m) => m.op === 'unsubscribed' && m.id === 'gone', 'unsubscribed');
    const from = c.messages.length;
    await onA.post(order(20, 'alice'), root());
    await c.until('kept', (h) => h.has('20'), 'the kept subscription follows');
    assert.deepEqual(c.of('gone', from), []);
  });

  test('a slow client is cut past the high-water mark while a fast one keeps receiving', async () => {
    const bulk = a.services.client('Bulk', 0, OrderSchema);
    const fast = await client(tokens.root);
    const slow = await client(tokens.root);
    assert.equal((await fast.subscribe('all', 'Bulk')).op, 'snapshot');
    assert.equal((await slow.subscribe('all', 'Bulk')).op, 'snapshot');
    const closed = once(slow.ws, 'close');
    slow.ws.pause();
    const notes = Array.from({ length: 4 }, (_, i) => `${i}`.repeat(8 * 1024));
    let n = 0;
    while (gw.gateway.push.counters.slow === 0 && n < 2000) {
      n++;
      await bulk.post(order(1000 + n, 'x', 'Paris', notes), root());
    }
    assert.equal(gw.gateway.push.counters.slow, 1, `cut after ${n} items of 32 KiB`);
    await fast.until('all', (h) => h.size === n, `the fast client holds all ${n} items`);
    slow.ws.resume();
    assert.ok([1013, 1006].includes((await closed)[0] as number));
    assert.deepEqual(fast.errors, []);
  });
});

describe('WebSocket push: missed notifications, route removal, heartbeat', () => {
  let r: Rig;
  let a: Node;
  let proxy: FaultProxy;
  let vnic: VNic;
  let gateway: Gateway;
  let url: string;
  const open: WsClient[] = [];
  const client = async () => {
    const c = await WsClient.open(url);
    open.push(c);
    return c;
  };
  const self = () => vnic.health.get(vnic.id);

  before(async () => {
    r = await rig();
    a = await r.node('a');
    await a.services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['get', 'post', 'patch'] } });
    proxy = new FaultProxy(r.vnet.addresses.tcp);
    vnic = new VNic({ provider: r.ca.provider('g2'), alias: 'g2', vnet: await proxy.listen(hostAddress(0)) });
    await vnic.connect();
    gateway = new Gateway({ vnic, port: 0, ws: { pingIntervalMs: 200 } });
    url = (await gateway.start()).url;
    await waitFor(() => gateway.directory.route(0, 'Orders'), { what: 'Orders published' });
  });
  after(async () => {
    for (const c of open) c.close();
    await gateway.close();
    await vnic.close();
    await proxy.close();
    await r.close();
  });

  test('a notification missed while the link was down is caught by the sequence gap: a new snapshot', async () => {
    const orders = a.services.client('Orders', 0, OrderSchema);
    await orders.post(order(1, 'x'));
    const c = await client();
    await c.subscribe('all', 'Orders');
    await orders.patch(create(OrderSchema, { id: 1n, city: 'Lyon' }));
    await c.until('all', (h) => h.get('1')?.version === 2, 'the first change');
    proxy.cut();
    await waitFor(() => a.vnic.health.get(vnic.id)?.status !== 'up', {
      what: 'the gateway unreachable',
      timeoutMs: 10_000,
    });
    await orders.patch(create(OrderSchema, { id: 1n, city: 'Nice' })); // never reaches the gateway
    await orders.post(order(2, 'x'));
    proxy.heal();
    const back = () => a.vnic.health.get(vnic.id);
    const what = 'the gateway back, subscribed';
    await waitFor(() => back()?.status === 'up' && back()?.services.some((s) => s.service === 'Orders.changes'), {
      what,
      timeoutMs: 15_000,
    });
    const resyncs = gateway.push.counters.resyncs;
    await orders.patch(create(OrderSchema, { id: 1n, status: Status.PAID }));
    await c.until('all', (h) => h.get('1')?.version === 4 && h.has('2'), 'caught up', 15_000);
    assert.equal(gateway.push.counters.resyncs, resyncs + 1);
    const page = await orders.get('select * from Order');
    assert.deepEqual([...(c.held.get('all')?.keys() ?? [])].sort(), page.items.map((o) => String(o.id)).sort());
    assert.equal(c.held.get('all')?.get('1')?.item.city, 'Nice');
    assert.deepEqual(c.errors, []);
  });

  test('the gateway follows a change stream only while a client subscribes; a route that goes ends it', async () => {
    await a.services.activate({ name: 'Temp', type: OrderSchema, web: { actions: ['get'] } });
    await waitFor(() => gateway.directory.route(0, 'Temp'), { what: 'Temp published' });
    const c = await client();
    await c.subscribe('t', 'Temp');
    await waitFor(() => self()?.services.some((s) => s.service === 'Temp.changes'), { what: 'subscribed' });
    c.send({ op: 'unsubscribe', id: 't' });
    await waitFor(() => !self()?.services.some((s) => s.service === 'Temp.changes'), { what: 'unsubscribed' });
    await c.subscribe('t2', 'Temp');
    await a.services.deactivate('Temp');
    const end = await c.next((m) => m.id === 't2' && m.op === 'error', 'the end of t2');
    assert.equal(end.code, 'L8_ERR_NO_SERVICE');
    await waitFor(() => !self()?.services.some((s) => s.service === 'Temp.changes'), { what: 'unsubscribed' });
  });

  test('a client that does not answer pings is cut with 4000', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, [WS_PROTOCOL], { autoPong: false });
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 4000);
    assert.ok(gateway.push.counters.dead >= 1);
  });
});
