import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type Order, OrderSchema, Status } from '@layer8/fixtures';
import { Action, type L8Error } from '@layer8/protocol';
import { type AccessFile, addUser, TlsProvider } from '@layer8/security';
import { hostAddress, type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { type CallOptions, type ServiceLevelAgreement, ServiceManager } from '../src/index.ts';
import { contentOf, registry } from './kit.ts';

const PASSWORD = 'correct-horse-1';
/** clerk: GET only; writer: every write, GET and map-reduce; member (no identity): only Audit. */
const ACL: AccessFile = {
  rules: [
    { role: 'clerk', service: 'Orders', actions: ['GET'] },
    { role: 'writer', service: 'Orders', actions: ['POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'MAP_REDUCE'] },
    { role: 'member', service: 'Audit', actions: ['GET', 'POST'] },
  ],
  scopes: [
    { service: 'Orders', field: 'customerId' },
    { service: 'Audit', field: 'customerId' },
  ],
};
const USERS = { alice: ['writer'], bob: ['writer'], carol: ['clerk'], root: ['admin'] } as const;
type User = keyof typeof USERS;
/** Who owns the seeded orders (id → customerId). */
const OWNERS: Record<number, User> = { 1: 'alice', 2: 'alice', 3: 'alice', 4: 'bob', 5: 'bob', 6: 'carol' };
const ALL = 'select * from Order sort-by id';
const ORDERS: ServiceLevelAgreement<typeof OrderSchema> = { name: 'Orders', type: OrderSchema };

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: L8Error) => e.code,
  );
const order = (id: number, customerId: string): Order =>
  create(OrderSchema, { id: BigInt(id), number: `A-${id}`, customerId, status: Status.OPEN, city: 'Paris' });
const ids = (items: readonly Order[]) => items.map((o) => Number(o.id));
const owned = (user: User) =>
  Object.keys(OWNERS)
    .map(Number)
    .filter((id) => OWNERS[id] === user);

/** A user's token, signed like a real login; `ttl` below zero makes an expired one. */
function login(ca: TempOverlay, user: User, ttl?: number): Promise<string> {
  const provider = new TlsProvider({ dir: ca.dir, node: 'b', ...(ttl === undefined ? {} : { tokenTtlSeconds: ttl }) });
  return provider.authenticateUser(user, PASSWORD);
}

/** `token` with its roles claim rewritten to `admin`, the signature left as it was. */
function forged(token: string): string {
  const [head, body, sig] = token.split('.') as [string, string, string];
  const claims = { ...JSON.parse(Buffer.from(body, 'base64url').toString()), roles: ['admin'] };
  return [head, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
}

/** The security directory with its ACL and users, written before any provider reads it. */
async function securityDir(): Promise<TempOverlay> {
  const ca = await tempOverlay(['a', 'b'], { vnets: ['v0'] });
  writeFileSync(join(ca.dir, 'acl.json'), JSON.stringify(ACL));
  for (const [name, roles] of Object.entries(USERS)) await addUser(ca.dir, name, PASSWORD, roles);
  return ca;
}

describe('a stateful service authorizes every request and scopes GET results per identity', () => {
  let ca: TempOverlay;
  const dir = tempDir('l8-authz-');
  let vnet: VNet;
  let a: { vnic: VNic; services: ServiceManager };
  let b: { vnic: VNic; services: ServiceManager };
  const tokens = {} as Record<User, string>;
  const as = (user: User, more: CallOptions = {}): CallOptions => ({ ...more, identity: tokens[user] });

  async function node(name: string, provider: TlsProvider, authorizing: boolean) {
    const vnic = new VNic({ provider, alias: name, vnet: { path: vnet.addresses.unix as string } });
    await vnic.connect();
    return { vnic, services: new ServiceManager(vnic, { registry: registry(), ...(authorizing ? { provider } : {}) }) };
  }

  before(async () => {
    ca = await securityDir();
    const socketPath = `${dir.path}/v0.sock`;
    vnet = new VNet({ provider: ca.provider('v0'), host: hostAddress(0), port: 0, socketPath, alias: 'v0' });
    await vnet.start();
    a = await node('a', ca.provider('a'), true);
    b = await node('b', ca.provider('b'), false);
    await a.services.activate(ORDERS);
    await a.services.activate({ ...ORDERS, name: 'Audit' });
    for (const user of Object.keys(USERS) as User[]) tokens[user] = await login(ca, user);
    await waitFor(() => b.vnic.health.instances('Audit', 0).length === 1, { what: 'Audit in b’s health' });
    const orders = b.services.client('Orders', 0, OrderSchema);
    for (const [id, owner] of Object.entries(OWNERS)) await orders.post(order(Number(id), owner), as('root'));
  });
  after(async () => {
    await a.services.close();
    await Promise.all([a.vnic.close(), b.vnic.close()]);
    await vnet.close();
    dir.remove();
    ca.remove();
  });

  test('a clerk may GET but every write is refused with L8_ERR_FORBIDDEN, even bypassing the client', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    const was = contentOf(a.services.instance('Orders'));
    assert.equal(await codeOf(orders.post(order(100, 'carol'), as('carol'))), 'L8_ERR_FORBIDDEN');
    assert.equal(await codeOf(orders.put(order(6, 'carol'), as('carol'))), 'L8_ERR_FORBIDDEN');
    assert.equal(
      await codeOf(orders.patch(create(OrderSchema, { id: 6n, city: 'Lyon' }), as('carol'))),
      'L8_ERR_FORBIDDEN',
    );
    assert.equal(await codeOf(orders.delete(6, as('carol'))), 'L8_ERR_FORBIDDEN');
    const raw = b.vnic.request({ service: 'Orders' }, { key: '6' }, { action: Action.DELETE, identity: tokens.carol });
    assert.equal(await codeOf(raw), 'L8_ERR_FORBIDDEN', 'a frame sent straight to the service');
    assert.equal(contentOf(a.services.instance('Orders')), was, 'the refused writes changed nothing');
    assert.deepEqual(ids((await orders.get(ALL, as('carol'))).items), [6]);
  });

  test('a writer’s writes work; a garbage or forged token is L8_ERR_AUTH, an expired one L8_ERR_TOKEN_EXPIRED', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    assert.equal((await orders.post(order(10, 'alice'), as('alice'))).customerId, 'alice');
    assert.equal((await orders.patch(create(OrderSchema, { id: 10n, city: 'Lyon' }), as('alice'))).city, 'Lyon');
    assert.equal((await orders.put(order(10, 'alice'), as('alice'))).city, 'Paris');
    await orders.delete(10, as('alice'));
    const was = contentOf(a.services.instance('Orders'));
    const expired = await login(ca, 'alice', -60);
    const refused: [string, string][] = [
      ['not-a-token', 'L8_ERR_AUTH'],
      [forged(tokens.carol), 'L8_ERR_AUTH'],
      [expired, 'L8_ERR_TOKEN_EXPIRED'],
    ];
    for (const [identity, code] of refused) {
      assert.equal(await codeOf(orders.post(order(11, 'alice'), { identity })), code, `POST: ${code}`);
      assert.equal(await codeOf(orders.get(ALL, { identity })), code, `GET: ${code}`);
    }
    assert.equal(contentOf(a.services.instance('Orders')), was, 'the refused writes changed nothing');
  });

  test('an L8QL GET returns only the caller’s own orders; an admin sees all', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    for (const user of ['alice', 'bob', 'carol'] as const) {
      assert.deepEqual(ids((await orders.get(ALL, as(user))).items), owned(user), user);
    }
    assert.deepEqual(ids((await orders.get(ALL, as('root'))).items), [1, 2, 3, 4, 5, 6]);
  });

  test('the total of a scoped query counts only what the caller may see', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    assert.equal((await orders.get(ALL, as('bob'))).total, 2, 'bob learns nothing of how many orders others hold');
    assert.equal((await orders.get(ALL, as('root'))).total, 6);
  });

  test('limit and page apply to the scoped result, not to everyone’s', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    assert.deepEqual(ids((await orders.get(`${ALL} limit 1`, as('bob'))).items), [4], 'bob’s first page');
    assert.deepEqual(ids((await orders.get(`${ALL} limit 1 page 1`, as('bob'))).items), [5], 'bob’s second page');
  });

  test('another user’s order by primary or unique key is L8_ERR_NOT_FOUND, like an absent one', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    for (const req of [{ key: '4' }, { unique: { fields: ['number'], value: 'A-4' } }]) {
      const page = await orders.get(req, as('alice')).catch(() => undefined);
      assert.deepEqual(page?.items ?? [], [], 'the entity does not leak');
      assert.equal(await codeOf(orders.get(req, as('alice'))), 'L8_ERR_NOT_FOUND', 'no hint that it exists');
    }
    assert.equal(await codeOf(orders.getByKey(4, as('alice'))), 'L8_ERR_NOT_FOUND');
    assert.equal(await codeOf(orders.getByKey(99, as('alice'))), 'L8_ERR_NOT_FOUND');
    assert.equal((await orders.getByKey(4, as('bob'))).customerId, 'bob');
  });

  test('a client in the instance’s own process (local mode) is refused and scoped the same way', async () => {
    const here = a.services.client('Orders', 0, OrderSchema);
    const there = b.services.client('Orders', 0, OrderSchema);
    const local = (user: User) => as(user, { mode: 'local' });
    assert.equal(await codeOf(here.post(order(100, 'carol'), local('carol'))), 'L8_ERR_FORBIDDEN');
    assert.equal(await codeOf(here.get(ALL, { mode: 'local', identity: 'not-a-token' })), 'L8_ERR_AUTH');
    const expired = await login(ca, 'bob', -60);
    assert.equal(await codeOf(here.get(ALL, { mode: 'local', identity: expired })), 'L8_ERR_TOKEN_EXPIRED');
    for (const user of Object.keys(USERS) as User[]) {
      const [mine, remote] = [await here.get(ALL, local(user)), await there.get(ALL, as(user))];
      assert.deepEqual([ids(mine.items), mine.versions], [ids(remote.items), remote.versions], user);
      assert.equal(mine.total, remote.total, `${user}: the same total`);
    }
    assert.deepEqual(ids((await here.get(ALL, local('bob'))).items), [4, 5]);
    assert.equal(await codeOf(here.get({ key: '4' }, local('alice'))), 'L8_ERR_NOT_FOUND');
  });

  test('a member acting for itself has the role member: refused where no rule grants it', async () => {
    const here = a.services.client('Orders', 0, OrderSchema);
    const orders = b.services.client('Orders', 0, OrderSchema);
    assert.equal(await codeOf(orders.get(ALL)), 'L8_ERR_FORBIDDEN');
    assert.equal(await codeOf(orders.post(order(100, ''))), 'L8_ERR_FORBIDDEN');
    assert.equal(await codeOf(here.get(ALL, { mode: 'local' })), 'L8_ERR_FORBIDDEN');
    assert.equal(await codeOf(here.post(order(100, ''), { mode: 'local' })), 'L8_ERR_FORBIDDEN');
    const audit = b.services.client('Audit', 0, OrderSchema);
    await audit.post(order(1, 'alice'));
    assert.equal(await codeOf(audit.get(ALL, as('alice'))), 'L8_ERR_FORBIDDEN', 'no rule gives alice Audit');
  });

  test('a member allowed by a rule reads the whole service: it is no user to scope by', async () => {
    const audit = b.services.client('Audit', 0, OrderSchema);
    await audit.post(order(2, 'bob'));
    assert.deepEqual(ids((await audit.get(ALL)).items), [1, 2]);
  });

  test('map-reduce counts only what the identity may see; a refused caller gets the refusal, not a partial result', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    const count = (o: CallOptions, q?: string) => orders.mapReduce({ count: true }, q === undefined ? o : { ...o, q });
    for (const [user, n] of [
      ['alice', 3],
      ['bob', 2],
      ['root', 6],
    ] as const) {
      const r = await count(as(user));
      assert.deepEqual([r.result, r.partial], [n, false], user);
    }
    assert.equal((await count(as('alice'), 'select * from Order where id > 1')).result, 2);
    assert.equal(await codeOf(count(as('carol'))), 'L8_ERR_FORBIDDEN');
    assert.equal(await codeOf(count({ identity: 'not-a-token' })), 'L8_ERR_AUTH');
  });

  test('a user writes only what it may see: another’s entity is missing, a write that would hand it over is refused', async () => {
    const orders = b.services.client('Orders', 0, OrderSchema);
    const was = contentOf(a.services.instance('Orders'));
    const patchCity = create(OrderSchema, { id: 4n, city: 'Lyon' });
    assert.equal(await codeOf(orders.patch(patchCity, as('alice'))), 'L8_ERR_NOT_FOUND', 'bob’s order');
    assert.equal(await codeOf(orders.delete(4, as('alice'))), 'L8_ERR_NOT_FOUND');
    assert.equal(await codeOf(orders.put(order(4, 'alice'), as('alice'))), 'L8_ERR_FORBIDDEN', 'taking it over');
    assert.equal(await codeOf(orders.post(order(300, 'bob'), as('alice'))), 'L8_ERR_FORBIDDEN', 'made for bob');
    const handOver = create(OrderSchema, { id: 1n, customerId: 'bob' });
    assert.equal(await codeOf(orders.patch(handOver, as('alice'))), 'L8_ERR_FORBIDDEN', 'given away');
    assert.equal(contentOf(a.services.instance('Orders')), was, 'the refused writes changed nothing');
    assert.equal((await orders.patch(create(OrderSchema, { id: 4n, city: 'Lyon' }), as('root'))).city, 'Lyon');
  });
});
