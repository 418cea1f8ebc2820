import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { OrderSchema } from '@layer8/fixtures';
import type { AccessFile } from '@layer8/security';
import type { HandlerContext } from '@layer8/vnic';
import { type Gw, http, type Node, published, type Rig, rig } from './kit.ts';

/** clerk: GET only; writer: every action; a member acting for itself (no token): nothing on Orders. */
const ACL: AccessFile = {
  rules: [
    { role: 'clerk', service: 'Orders', actions: ['GET'] },
    { role: 'writer', service: 'Orders', actions: ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] },
    { role: 'member', service: 'Echo', actions: ['GET', 'POST'] },
    { role: 'clerk', service: 'Echo', actions: ['GET'] },
    { role: 'member', service: 'Slow', actions: ['GET'] },
    { role: 'member', service: 'Broken', actions: ['GET'] },
  ],
};
const TRACE = '0af7651916cd43dd8448eb211c80319c';

describe('what a request carries to the overlay: deadline, trace, correlation id and identity', () => {
  let r: Rig;
  let svc: Node;
  let gw: Gw;
  const seen: { traceparent: string | undefined; identity: string; deadlineMs: number }[] = [];
  const logged: { level: string; m: string | undefined; o: object }[] = [];
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(gw.url, method, path, body, headers);

  before(async () => {
    r = await rig({ acl: ACL, users: { carol: ['clerk'], alice: ['writer'] } });
    svc = await r.node('a', true);
    const echo = (_item: unknown, ctx: HandlerContext) => {
      seen.push({ traceparent: ctx.traceparent, identity: ctx.identity, deadlineMs: ctx.remainingMs() });
      return { traceparent: ctx.traceparent ?? null };
    };
    await svc.services.activate({
      name: 'Echo',
      type: OrderSchema,
      stateful: false,
      web: { actions: ['get', 'post'] },
      handlers: { get: echo, post: (item) => create(OrderSchema, { ...(item as object), city: 'echoed' }) },
    });
    await svc.services.activate({
      name: 'Slow',
      type: OrderSchema,
      stateful: false,
      handlerTimeoutMs: 2000,
      web: { actions: ['get'] },
      handlers: { get: () => new Promise(() => undefined) },
    });
    await svc.services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['get', 'post'] } });
    await svc.services.activate({
      name: 'Broken',
      type: OrderSchema,
      stateful: false,
      web: { actions: ['get'] },
      handlers: {
        get: () => {
          throw new Error('password=hunter2 at /srv/db');
        },
      },
    });
    const log = (level: string) => (o: object, m?: string) => logged.push({ level, m, o });
    gw = await r.gateway('g', {
      maxTimeoutMs: 1500,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
    });
    for (const name of ['Echo', 'Slow', 'Orders', 'Broken']) await published(gw, name);
  });
  after(() => r.close());

  test('a handler that hangs answers 504 L8_ERR_TIMEOUT within the deadline the header asked for', async () => {
    const start = performance.now();
    const a = await call('GET', '/l8/0/Slow', undefined, { 'x-l8-timeout-ms': '300' });
    const took = performance.now() - start;
    assert.deepEqual([a.status, (a.json as { code: string }).code], [504, 'L8_ERR_TIMEOUT']);
    assert.equal(a.headers.get('retry-after'), null);
    assert.ok(took >= 280 && took < 1200, `answered after ${took.toFixed(0)} ms`);
    const capped = performance.now();
    const b = await call('GET', '/l8/0/Slow', undefined, { 'x-l8-timeout-ms': '999999' });
    const tookCapped = performance.now() - capped;
    assert.equal(b.status, 504);
    assert.ok(tookCapped >= 1400 && tookCapped < 2500, `the maximum (1500 ms) applies: ${tookCapped.toFixed(0)} ms`);
    for (const bad of ['0', '-5', 'soon', '1.5']) {
      const c = await call('GET', '/l8/0/Slow', undefined, { 'x-l8-timeout-ms': bad });
      assert.deepEqual([c.status, (c.json as { code: string }).code], [400, 'L8_ERR_INVALID_ARGUMENT'], bad);
    }
  });

  test('the deadline reaches the handler', async () => {
    seen.length = 0;
    await call('GET', '/l8/0/Echo', undefined, { 'x-l8-timeout-ms': '800' });
    const left = seen[0]?.deadlineMs ?? 0;
    assert.ok(left > 500 && left <= 800, `the handler had ${left.toFixed(0)} ms left`);
  });

  test('traceparent: the handler sees the gateway’s span in the caller’s trace; the answer names both', async () => {
    seen.length = 0;
    const incoming = `00-${TRACE}-b7ad6b7169203331-01`;
    const a = await call('GET', '/l8/0/Echo', undefined, { traceparent: incoming });
    assert.equal(a.status, 200, a.text);
    const span = a.headers.get('traceparent') as string;
    assert.match(span, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    assert.notEqual(span, incoming, 'the gateway’s own span');
    assert.equal(seen[0]?.traceparent, span, 'the handler’s ctx.traceparent is the gateway’s span');
    assert.deepEqual(a.json, { traceparent: span });
    assert.equal(a.headers.get('x-correlation-id'), TRACE);
  });

  test('the correlation id: a 32-hex x-correlation-id starts the trace, anything else gets a new one', async () => {
    const id = 'aaaabbbbccccddddeeeeffff00001111';
    const a = await call('GET', '/l8/0/Echo', undefined, { 'x-correlation-id': id });
    assert.equal(a.headers.get('x-correlation-id'), id);
    assert.match(a.headers.get('traceparent') as string, new RegExp(`^00-${id}-`));
    const b = await call('GET', '/l8/0/Echo', undefined, { 'x-correlation-id': 'order-42', traceparent: 'junk' });
    const made = b.headers.get('x-correlation-id') as string;
    assert.match(made, /^[0-9a-f]{32}$/);
    assert.equal((b.headers.get('traceparent') as string).split('-')[1], made);
    const err = await call('GET', '/l8/0/Nope', undefined, { traceparent: `00-${TRACE}-b7ad6b7169203331-00` });
    assert.equal(err.status, 404);
    assert.equal(err.headers.get('x-correlation-id'), TRACE, 'errors carry it too');
    assert.match(err.headers.get('traceparent') as string, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
  });

  test('a stateless service’s model answer comes back as its canonical JSON', async () => {
    const a = await call('POST', '/l8/0/Echo', { id: '5', number: 'E-5' });
    assert.equal(a.status, 200, a.text);
    const item = a.json as { id: string; city: string; number: string };
    assert.deepEqual([item.id, item.number, item.city], ['5', 'E-5', 'echoed']);
  });

  test('a Bearer token reaches the service as identity: the service authorizes it', async () => {
    const [carol, alice] = [await r.login('carol'), await r.login('alice')];
    seen.length = 0;
    await call('GET', '/l8/0/Echo', undefined, { authorization: `Bearer ${carol}` });
    assert.equal(seen[0]?.identity, carol);
    const order = { id: '1', number: 'A-1' };
    const refused = await call('POST', '/l8/0/Orders', order, { authorization: `Bearer ${carol}` });
    assert.deepEqual([refused.status, (refused.json as { code: string }).code], [403, 'L8_ERR_FORBIDDEN']);
    const member = await call('POST', '/l8/0/Orders', order);
    assert.equal(member.status, 403, 'no token: a member acting for itself, which the ACL refuses here');
    const allowed = await call('POST', '/l8/0/Orders', order, { authorization: `bearer ${alice}` });
    assert.equal(allowed.status, 201, allowed.text);
    assert.equal((await call('GET', '/l8/0/Orders/1', undefined, { authorization: `Bearer ${carol}` })).status, 200);
    const forged = await call('GET', '/l8/0/Orders/1', undefined, {
      authorization: `Bearer ${alice.slice(0, -4)}AAAA`,
    });
    assert.deepEqual([forged.status, (forged.json as { code: string }).code], [401, 'L8_ERR_AUTH']);
    assert.equal(forged.headers.get('www-authenticate'), 'Bearer');
    const expired = await call('GET', '/l8/0/Orders/1', undefined, {
      authorization: `Bearer ${await r.login('alice', -10)}`,
    });
    assert.deepEqual([expired.status, (expired.json as { code: string }).code], [401, 'L8_ERR_TOKEN_EXPIRED']);
    const basic = await call('GET', '/l8/0/Orders/1', undefined, { authorization: 'Basic YWxpY2U6eA==' });
    assert.deepEqual([basic.status, (basic.json as { code: string }).code], [401, 'L8_ERR_AUTH']);
  });

  test('a failing handler is a 500 L8_ERR_HANDLER whose message stays in the gateway’s log', async () => {
    const a = await call('GET', '/l8/0/Broken');
    assert.deepEqual([a.status, (a.json as { code: string }).code], [500, 'L8_ERR_HANDLER']);
    assert.doesNotMatch(a.text, /hunter2/);
    const entry = logged.find(
      (l) => l.m === 'gateway: request failed' && 'code' in l.o && l.o.code === 'L8_ERR_HANDLER',
    );
    const fields = (entry?.o ?? {}) as { err?: Error; reqId?: string };
    assert.match(String(fields.err?.message), /hunter2/);
    assert.equal(fields.reqId, a.headers.get('x-correlation-id'));
    assert.ok(logged.some((l) => l.level === 'info' && l.m === 'gateway: routes changed'));
  });
});
