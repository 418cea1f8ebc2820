import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { OrderSchema } from '@layer8/fixtures';
import { waitFor } from '@layer8/testkit';
import WebSocket from 'ws';
import { DASHBOARD_PATH, type DashboardView, WS_PROTOCOL } from '../src/index.ts';
import { cookieHeader, login } from './auth-kit.ts';
import { type Gw, http, type Node, PASSWORD, published, type Rig, rig } from './kit.ts';
import { type Msg, WsClient } from './ws-client.ts';

const USERS = { root: ['admin'], alice: ['writer'], olga: ['ops'] };
const INTERVAL_MS = 200;

/** A `{op:'system'}` message with its view. */
type SystemMsg = Msg & { readonly view: DashboardView };

describe('the dashboard: its page and the system topic of /ws', () => {
  let r: Rig;
  let svc: Node;
  let gw: Gw;
  /** A gateway without auth: any client may watch. */
  let open: Gw;
  const tokens: Record<string, string> = {};
  const clients: WsClient[] = [];
  const client = async (url: string, token?: string) => {
    const c = await WsClient.open(url, token === undefined ? {} : { token });
    clients.push(c);
    return c;
  };
  const watch = async (c: WsClient, id = 'sys') => {
    const from = c.messages.length;
    c.send({ op: 'watch', id, topic: 'system' });
    return c.next((m) => m.id === id && (m.op === 'system' || m.op === 'error'), `first answer of ${id}`, from);
  };

  before(async () => {
    r = await rig({ users: USERS });
    svc = await r.node('a');
    await svc.services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['get', 'post'] } });
    const ws = { system: { intervalMs: INTERVAL_MS, roles: ['admin', 'ops'] } };
    gw = await r.gateway('g', { auth: { authority: r.ca.provider('g') }, ws });
    open = await r.gateway('g2', { ws: { system: { intervalMs: INTERVAL_MS } } });
    await published(gw, 'Orders');
    for (const u of Object.keys(USERS)) tokens[u] = await r.login(u);
  });
  after(async () => {
    for (const c of clients) c.close();
    await r.close();
  });

  test('GET /dashboard and its files: same-origin CSP, nothing else served', async () => {
    const page = await http(gw.url, 'GET', DASHBOARD_PATH);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
      assert.ok(csp.includes(d), `${d} in ${csp}`);
    }
    assert.match(page.text, /<script type="module" src="\/dashboard\/app\.js"><\/script>/);
    const app = await http(gw.url, 'GET', `${DASHBOARD_PATH}/app.js`);
    assert.deepEqual([app.status, app.headers.get('content-type')], [200, 'text/javascript; charset=utf-8']);
    for (const bad of ['nope.js', '..%2Fpackage.json', '%2E%2E%2Fsrc%2Fgateway.ts']) {
      const a = await http(gw.url, 'GET', `${DASHBOARD_PATH}/${bad}`);
      assert.equal(a.status, 404, bad);
    }
  });

  test('an admin watches: a view at once (nodes, services, gateway counters), then every interval', async () => {
    const c = await client(gw.url, tokens.root);
    const first = (await watch(c)) as SystemMsg;
    assert.equal(first.op, 'system', JSON.stringify(first));
    const aliases = first.view.nodes.map((n) => n.alias);
    for (const a of ['v0', 'a', 'g']) assert.ok(aliases.includes(a), `${a} in ${aliases}`);
    assert.ok(first.view.services.some((s) => s.service === 'Orders' && s.instances.length === 1));
    assert.ok(first.view.gateway.requests >= 0 && first.view.gateway.routes >= 1);
    assert.equal(first.view.gateway.push.open, 1);
    const from = c.messages.length;
    await c.next((m) => m.op === 'system' && m.id === 'sys', 'the next view', from, 5 * INTERVAL_MS);
    c.send({ op: 'unwatch', id: 'sys' });
    await c.next((m) => m.op === 'unwatched' && m.id === 'sys', 'unwatched');
    const stopped = c.messages.length;
    await new Promise((ok) => setTimeout(ok, 3 * INTERVAL_MS));
    assert.deepEqual(
      c.of('sys', stopped).map((m) => m.op),
      [],
      'nothing after unwatched',
    );
  });

  test('a node that goes away shows in the next views: unreachable or removed, with an event', async () => {
    const c = await client(gw.url, tokens.olga);
    assert.equal((await watch(c)).op, 'system', 'the role ops is allowed too');
    const extra = await r.node('b');
    await waitFor(() => c.messages.some((m) => hasNode(m, 'b', 'up')), { what: 'b up in a view', timeoutMs: 10_000 });
    await extra.vnic.close();
    const gone = (m: Msg) =>
      m.op === 'system' && (m as SystemMsg).view.events.some((e) => e.alias === 'b' && e.type !== 'added');
    await waitFor(() => c.messages.some(gone), { what: 'b gone in a view', timeoutMs: 10_000 });
  });

  test('with auth: no token, a role not allowed, a bad message → refused; the access cookie works', async () => {
    await assert.rejects(client(gw.url), { status: 401 }, 'no token: the upgrade itself is refused');
    const writer = await watch(await client(gw.url, tokens.alice));
    assert.deepEqual([writer.op, writer.code], ['error', 'L8_ERR_FORBIDDEN']);
    const c = await client(gw.url, tokens.root);
    c.send({ op: 'watch', id: 'x', topic: 'nope' });
    const bad = await c.next((m) => m.id === 'x', 'bad topic');
    assert.deepEqual([bad.op, bad.code], ['error', 'L8_ERR_INVALID_ARGUMENT']);
    const session = await login(gw.url, { user: 'root', password: PASSWORD, cookie: true });
    const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/ws`, [WS_PROTOCOL], {
      headers: { cookie: cookieHeader(session), origin: gw.url },
    });
    try {
      await once(ws, 'open');
      ws.send(JSON.stringify({ op: 'watch', id: 'c', topic: 'system' }));
      const [data] = await once(ws, 'message');
      assert.equal((JSON.parse(String(data)) as Msg).op, 'system', 'a browser logged in by cookie may watch');
    } finally {
      ws.terminate();
    }
  });

  test('without auth any client the origin check lets in may watch', async () => {
    const m = await watch(await client(open.url));
    assert.equal(m.op, 'system');
  });
});

function hasNode(m: Msg, alias: string, status: string): boolean {
  return m.op === 'system' && (m as SystemMsg).view.nodes.some((n) => n.alias === alias && n.status === status);
}
