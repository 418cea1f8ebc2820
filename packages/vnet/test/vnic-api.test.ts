import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type Order, OrderSchema, Status } from '@layer8/fixtures';
import { modelCodec } from '@layer8/model';
import { Action, ContentType, type L8Error, l8error } from '@layer8/protocol';
import { hostAddress, type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { type HandlerContext, type Incoming, typed, VNic } from '@layer8/vnic';
import { VNet } from '../src/index.ts';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const traceId = (tp: string | undefined) => tp?.split('-')[1];
const spanId = (tp: string | undefined) => tp?.split('-')[2];
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: L8Error) => e.code,
  );

/** Two VNets on 127.0.0.2 and .3 (TLS), VNic `a` on the first and `b`, `c` on the second. */
describe('VNic API over two VNets (TLS)', () => {
  let ca: TempOverlay;
  let dir: ReturnType<typeof tempDir>;
  const vnets: VNet[] = [];
  let a: VNic;
  let b: VNic;
  let c: VNic;

  before(async () => {
    ca = await tempOverlay(['a', 'b', 'c'], { vnets: ['vnet-1', 'vnet-2'] });
    dir = tempDir('l8-api-');
    for (const [i, name] of ['vnet-1', 'vnet-2'].entries()) {
      const peers = vnets.map((v) => v.addresses.tcp);
      const socketPath = `${dir.path}/${name}.sock`;
      const v = new VNet({
        provider: ca.provider(name),
        host: hostAddress(i),
        port: 0,
        socketPath,
        peers,
        alias: name,
      });
      await v.start();
      vnets.push(v);
    }
    const vnic = (name: string, v: VNet) =>
      new VNic({ provider: ca.provider(name), alias: name, vnet: { path: v.addresses.unix as string } });
    [a, b, c] = [vnic('a', vnets[0]!), vnic('b', vnets[1]!), vnic('c', vnets[1]!)];
    await Promise.all([a.connect(), b.connect(), c.connect()]);
  });

  after(async () => {
    await Promise.all([a, b, c].map((n) => n.close()));
    await Promise.all(vnets.map((v) => v.close()));
    dir.remove();
    ca.remove();
  });

  const seen = (n: VNic, service: string) =>
    waitFor(() => n.health.instances(service, 0).length > 0, { what: `${service} in ${n.alias}'s health` });

  test('one Target for subscribe, send, multicast and request; one-way sends carry options', async () => {
    const got: { from: string; ctx: Partial<HandlerContext> }[] = [];
    const record = (from: string) => (m: Incoming, ctx: HandlerContext) => {
      got.push({
        from,
        ctx: {
          kind: ctx.kind,
          action: ctx.action,
          identity: ctx.identity,
          traceparent: ctx.traceparent,
          service: ctx.service,
          area: ctx.area,
          source: ctx.source,
        },
      });
      return m.json<string>();
    };
    const subs = [b.subscribe({ service: 'shape' }, record('b')), c.subscribe({ service: 'shape' }, record('c'))];
    await waitFor(() => a.health.instances('shape', 0).length === 2, { what: 'both instances of shape' });
    const opts = { identity: 'alice', traceparent: TRACE, action: Action.POST, priority: 2 } as const;
    a.send({ node: c.id, service: 'shape' }, 'to-c', opts);
    a.multicast({ service: 'shape' }, 'to-all', opts);
    assert.equal((await a.request({ service: 'shape', node: b.id }, 'req', opts)).json(), 'req');
    await waitFor(() => got.length === 4, { what: 'four deliveries' });
    assert.deepEqual(got.filter((g) => g.from === 'c').length, 2);
    for (const g of got)
      assert.deepEqual(g.ctx, { ...g.ctx, action: Action.POST, identity: 'alice', traceparent: TRACE });
    for (const g of got) assert.deepEqual([g.ctx.service, g.ctx.area, g.ctx.source], ['shape', 0, a.id]);
    assert.deepEqual(got.map((g) => g.ctx.kind).sort(), ['notify', 'notify', 'notify', 'request']);
    for (const s of subs) s.close();
  });

  test('the handler context: fields from the header and a signal that aborts at the deadline', async () => {
    let aborted: unknown;
    let left = 0;
    b.subscribe({ service: 'slow-ctx', area: 7 }, async (_m, ctx) => {
      left = ctx.remainingMs();
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      aborted = ctx.signal.reason;
      ctx.signal.throwIfAborted(); // the caller sees L8_ERR_TIMEOUT, from this or from its own deadline
      return 'never';
    });
    await waitFor(() => a.health.instances('slow-ctx', 7).length === 1, { what: 'slow-ctx' });
    assert.equal(
      await codeOf(a.request({ service: 'slow-ctx', area: 7 }, undefined, { timeoutMs: 300 })),
      'L8_ERR_TIMEOUT',
    );
    await waitFor(() => aborted !== undefined, { what: 'the handler signal aborted' });
    assert.equal((aborted as L8Error).code, 'L8_ERR_TIMEOUT');
    assert.ok(left > 0 && left <= 300, `remaining ${left} ms is within the caller's 300 ms`);
  });

  test('a nested request inherits the remaining deadline and a child of the trace context', async () => {
    let inner: { left: number; tp: string | undefined } | undefined;
    c.subscribe({ service: 'inner' }, (_m, ctx) => {
      inner = { left: ctx.remainingMs(), tp: ctx.traceparent };
      return 'inner-done';
    });
    b.subscribe({ service: 'outer' }, async (_m, ctx) => (await ctx.request({ service: 'inner' })).json());
    await Promise.all([seen(a, 'outer'), seen(b, 'inner')]);
    const reply = await a.request({ service: 'outer' }, undefined, { timeoutMs: 2000, traceparent: TRACE });
    assert.equal(reply.json(), 'inner-done');
    assert.ok(inner !== undefined);
    assert.ok(inner.left <= 2000, `inner deadline ${inner.left} ms is at most the caller's 2000 ms`);
    assert.equal(traceId(inner.tp), traceId(TRACE));
    assert.notEqual(spanId(inner.tp), spanId(TRACE));
  });

  test('a nested request after the deadline passed fails at once with L8_ERR_TIMEOUT', async () => {
    let nested: string | undefined;
    b.subscribe({ service: 'late' }, async (_m, ctx) => {
      await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
      nested = await codeOf(ctx.request({ service: 'inner' }));
      throw ctx.signal.reason;
    });
    await seen(a, 'late');
    assert.equal(await codeOf(a.request({ service: 'late' }, undefined, { timeoutMs: 100 })), 'L8_ERR_TIMEOUT');
    await waitFor(() => nested !== undefined, { what: 'the nested call settled' });
    assert.equal(nested, 'L8_ERR_TIMEOUT');
  });

  test('protobuf models go over the overlay with their content type and decode lazily', async () => {
    const orders = modelCodec(OrderSchema);
    b.subscribe({ service: 'orders' }, (m) => {
      assert.equal(m.contentType, ContentType.PROTOBUF);
      const order = m.decode(orders);
      return typed(orders, { ...order, status: Status.SHIPPED });
    });
    await seen(a, 'orders');
    const order: Order = create(OrderSchema, { id: 42n, number: 'A-42', status: Status.OPEN, notes: ['fragile'] });
    const reply = await a.request({ service: 'orders' }, order, { codec: orders });
    assert.equal(reply.contentType, ContentType.PROTOBUF);
    const back = reply.decode(orders);
    assert.equal(back.id, 42n);
    assert.equal(back.status, Status.SHIPPED);
    assert.deepEqual(back.notes, ['fragile']);
    assert.equal(
      await codeOf(Promise.resolve().then(() => a.request({ service: 'orders' }, 'not an order', { codec: orders }))),
      'L8_ERR_INVALID_ARGUMENT',
    );
  });

  test('a thrower’s retryable override and the error class survive the overlay', async () => {
    b.subscribe({ service: 'flaky' }, () => {
      throw l8error('L8_ERR_HANDLER', 'try again', { retryable: true, data: { why: 'warming up' } });
    });
    await seen(a, 'flaky');
    const e = await a.request({ service: 'flaky' }).then(
      () => assert.fail('resolved'),
      (err: L8Error) => err,
    );
    assert.deepEqual([e.code, e.retryable, e.data], ['L8_ERR_HANDLER', true, { why: 'warming up' }]);
  });

  test('the health table a VNic hands out is read-only', () => {
    const h = a.health as unknown as Record<string, unknown>;
    assert.equal(h.upsert, undefined);
    assert.equal(h.applyDelta, undefined);
    assert.ok(Object.isFrozen(a.health));
    assert.ok(a.health.get(b.id) !== undefined);
  });
});
