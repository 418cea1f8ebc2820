import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { OrderSchema } from '@layer8/fixtures';
import { ACL, bearer, login, type Session, USERS } from './auth-kit.ts';
import { type Gw, http, PASSWORD, published, type Rig, rig } from './kit.ts';
import { WsClient } from './ws-client.ts';

/** The close code a client gets, and the reason. */
async function closed(c: WsClient): Promise<[number, string]> {
  const [code, reason] = (await once(c.ws, 'close')) as [number, Buffer];
  return [code, reason.toString()];
}

describe('WebSocket push with AAA on: the gateway checks the token at the upgrade and while connected', () => {
  let r: Rig;
  let gw: Gw;
  let open: Gw;
  const clients: WsClient[] = [];
  const client = async (url: string, token?: string) => {
    const c = await WsClient.open(url, token === undefined ? {} : { token });
    clients.push(c);
    return c;
  };
  const session = async (user: string): Promise<Session> => {
    const a = await login(gw.url, { user, password: PASSWORD });
    assert.equal(a.status, 200, a.text);
    return a.json as Session;
  };

  before(async () => {
    r = await rig({ acl: ACL, users: USERS });
    const svc = await r.node('a', true);
    await svc.services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['post', 'get'] } });
    const ws = { pingIntervalMs: 150 };
    gw = await r.gateway('g', { auth: { authority: r.ca.provider('g') }, ws });
    open = await r.gateway('g2', { auth: { authority: r.ca.provider('g2'), anonymous: true }, ws });
    await published(gw, 'Orders');
    await published(open, 'Orders');
  });
  after(async () => {
    for (const c of clients) c.close();
    await r.close();
  });

  test('no token, a forged one or an expired one: the upgrade is refused 401; a valid one connects', async () => {
    const refused = gw.gateway.push.counters.refused;
    await assert.rejects(client(gw.url), { status: 401 });
    await assert.rejects(client(gw.url, 'not-a-token'), { status: 401 });
    const expired = await r.login('alice', 1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await assert.rejects(client(gw.url, expired), { status: 401 });
    assert.equal(gw.gateway.push.counters.refused, refused + 3);
    const alice = await client(gw.url, (await session('alice')).accessToken);
    assert.equal((await alice.subscribe('o', 'Orders')).op, 'snapshot');
  });

  test('a token revoked by logout while connected: the connection is closed 4001 at the next heartbeat', async () => {
    const s = await session('alice');
    const c = await client(gw.url, s.accessToken);
    assert.equal((await c.subscribe('o', 'Orders')).op, 'snapshot');
    const end = closed(c);
    assert.equal((await http(gw.url, 'POST', '/auth/logout', undefined, bearer(s.accessToken))).status, 204);
    assert.deepEqual(await end, [4001, 'L8_ERR_AUTH']);
    assert.ok(gw.gateway.push.counters.expired >= 1);
  });

  test('a token that expires while connected: the connection is closed 4001', async () => {
    const c = await client(gw.url, await r.login('alice', 1));
    assert.deepEqual(await closed(c), [4001, 'L8_ERR_AUTH']);
  });

  test('with anonymous on, an upgrade without a token connects (the services then decide)', async () => {
    const c = await client(open.url);
    assert.equal((await c.subscribe('o', 'Orders')).code, 'L8_ERR_FORBIDDEN');
    await assert.rejects(client(open.url, 'not-a-token'), { status: 401 });
  });

  test('GET /auth/session says whether AAA is on and whose the token is, never refusing', async () => {
    const s = await session('alice');
    const none = await http(gw.url, 'GET', '/auth/session');
    assert.deepEqual([none.status, none.json], [200, { auth: true }]);
    const forged = await http(gw.url, 'GET', '/auth/session', undefined, bearer('not-a-token'));
    assert.deepEqual(forged.json, { auth: true });
    const mine = await http(gw.url, 'GET', '/auth/session', undefined, bearer(s.accessToken));
    const me = mine.json as { auth: boolean; user: string; roles: string[]; expiresAt: number };
    assert.deepEqual([me.auth, me.user, me.roles], [true, 'alice', ['writer']]);
    assert.ok(me.expiresAt > Date.now() / 1000);
    const bare = await r.gateway('g3');
    assert.deepEqual((await http(bare.url, 'GET', '/auth/session')).json, { auth: false });
  });
});
