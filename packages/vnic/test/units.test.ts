import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HealthTable } from '@layer8/health';
import { ContentType, encodeMessage, Kind, type L8Error, type NodeId, newNodeId } from '@layer8/protocol';
import { discoverVNet, Incoming, parseAddress } from '../src/index.ts';
import { encodePayload, InstancePicker, PendingTable } from '../src/internal.ts';

describe('discovery', () => {
  test('parses host:port, [v6]:port, bare hosts and socket paths', () => {
    assert.deepEqual(parseAddress('10.1.2.3:4000'), { host: '10.1.2.3', port: 4000 });
    assert.deepEqual(parseAddress('[::1]:5'), { host: '::1', port: 5 });
    assert.deepEqual(parseAddress('node-a'), { host: 'node-a', port: 26000 });
    assert.deepEqual(parseAddress('/run/l8.sock'), { path: '/run/l8.sock' });
    assert.deepEqual(parseAddress('unix:/run/l8.sock'), { path: '/run/l8.sock' });
    for (const bad of ['a:b', 'h:70000', ''])
      assert.throws(
        () => parseAddress(bad),
        (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
      );
  });

  test('looks in order: explicit, L8_VNET, the socket file, NODE_IP, localhost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l8-disc-'));
    const sock = join(dir, 'v.sock');
    const server = createServer();
    try {
      assert.deepEqual(discoverVNet('1.2.3.4:5', { L8_VNET: '9.9.9.9:1' }, sock), { host: '1.2.3.4', port: 5 });
      assert.deepEqual(discoverVNet(undefined, { L8_VNET: '9.9.9.9:1' }, sock), { host: '9.9.9.9', port: 1 });
      assert.deepEqual(discoverVNet(undefined, { NODE_IP: '10.0.0.7' }, sock), { host: '10.0.0.7', port: 26000 });
      assert.deepEqual(discoverVNet(undefined, {}, sock), { host: '127.0.0.1', port: 26000 });
      await new Promise<void>((resolve) => server.listen(sock, resolve));
      assert.deepEqual(discoverVNet(undefined, { NODE_IP: '10.0.0.7' }, sock), { path: sock });
      assert.deepEqual(discoverVNet({ path: '/x' }, {}, sock), { path: '/x' });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('payloads', () => {
  test('bytes stay bytes, undefined is empty, the rest is JSON', () => {
    assert.equal(encodePayload(new Uint8Array([1])).contentType, ContentType.BINARY);
    assert.equal(encodePayload(undefined).contentType, ContentType.NONE);
    assert.equal(encodePayload({ a: 1 }).contentType, ContentType.JSON);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(
      () => encodePayload(cyclic),
      (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
    );
  });

  test('Incoming reads a frame lazily and agrees with the full decode', () => {
    const source = newNodeId();
    const frame = encodeMessage({
      kind: Kind.REPLY,
      source,
      service: 'svc',
      aaa: 'tok',
      traceparent: 'tp',
      contentType: ContentType.JSON,
      payload: Buffer.from('{"a":1}'),
    }).subarray(4);
    const i = new Incoming(frame);
    assert.equal(i.source, source);
    assert.equal(i.contentType, ContentType.JSON);
    assert.deepEqual(i.json(), { a: 1 });
    assert.equal(i.message.service, 'svc');
    const bad = new Incoming(encodeMessage({ kind: Kind.REPLY, source, payload: Buffer.from('{') }).subarray(4));
    assert.throws(
      () => bad.json(),
      (e: L8Error) => e.code === 'L8_ERR_DECODE',
    );
    assert.equal(new Incoming(encodeMessage({ kind: Kind.REPLY, source }).subarray(4)).json(), undefined);
  });
});

describe('PendingTable', () => {
  test('resolves by sequence, fails by node, times out by sweep', async () => {
    const t = new PendingTable(10);
    const node = newNodeId();
    const a = t.add(node, 10_000, undefined, undefined);
    const b = t.add(node, 10_000, undefined, undefined);
    const c = t.add(newNodeId(), 30, undefined, undefined);
    assert.notEqual(a.seq, b.seq);
    t.resolve(a.seq, new Incoming(encodeMessage({ kind: Kind.REPLY, source: node }).subarray(4)));
    await a.promise;
    t.failNode(node, Object.assign(new Error('x'), { code: 'L8_ERR_UNREACHABLE' }) as never);
    await assert.rejects(b.promise);
    await assert.rejects(c.promise, (e: L8Error) => e.code === 'L8_ERR_TIMEOUT');
    assert.equal(t.size, 0);
    t.resolve(999, new Incoming(encodeMessage({ kind: Kind.REPLY, source: node }).subarray(4)));
  });

  test('refuses past its size with L8_ERR_BACKPRESSURE', () => {
    const t = new PendingTable(1);
    const held = t.add(newNodeId(), 10_000, undefined, undefined);
    assert.throws(
      () => t.add(newNodeId(), 1, undefined, undefined),
      (e: L8Error) => e.code === 'L8_ERR_BACKPRESSURE',
    );
    t.failAll(Object.assign(new Error('closed'), { code: 'L8_ERR_CLOSED' }) as never);
    return assert.rejects(held.promise);
  });
});

describe('InstancePicker', () => {
  test('rotates over instances and prefers the given VNet', () => {
    const h = new HealthTable();
    const [v1, v2] = [newNodeId(), newNodeId()];
    const ids = [newNodeId(), newNodeId(), newNodeId()];
    ids.forEach((id, i) => {
      h.upsert({
        id,
        vnet: i === 0 ? v1 : v2,
        alias: `n${i}`,
        role: 'vnic',
        services: [{ service: 's', area: 0 }],
        status: 'up',
        startedAt: 0,
        updatedAt: 0,
      });
    });
    const p = new InstancePicker(h);
    const rr = [p.pick('s', 0), p.pick('s', 0), p.pick('s', 0)];
    assert.deepEqual(new Set(rr).size, 3);
    assert.equal(p.pick('s', 0, v1), ids[0]);
    assert.equal(p.pick('s', 0, newNodeId()) !== undefined, true, 'falls back to any');
    assert.equal(p.pick('none', 0), undefined);
  });

  test('an instance that says it is recovering is picked only when none is serving', () => {
    const h = new HealthTable();
    const rec = (id: NodeId, state: 'recovering' | 'serving') => ({
      id,
      vnet: id,
      alias: 'x',
      role: 'vnic' as const,
      services: [{ service: 's', area: 0, state }],
      status: 'up' as const,
      startedAt: 0,
      updatedAt: 0,
    });
    const [a, b] = [newNodeId(), newNodeId()];
    h.upsert(rec(a, 'recovering'));
    const p = new InstancePicker(h);
    assert.equal(p.pick('s', 0), a, 'the only instance, recovering: better than none');
    h.upsert(rec(b, 'serving'));
    assert.deepEqual([p.pick('s', 0), p.pick('s', 0), p.pick('s', 0)], [b, b, b]);
  });

  test('keeps alternating when health changes between picks (a stats update must not restart the rotation)', () => {
    const h = new HealthTable();
    const rec = (id: NodeId, n: number) => ({
      id,
      vnet: id,
      alias: 'x',
      role: 'vnic' as const,
      services: [{ service: 's', area: 0 }],
      status: 'up' as const,
      startedAt: 0,
      updatedAt: n,
    });
    const [a, b] = [newNodeId(), newNodeId()].sort();
    h.upsert(rec(a as NodeId, 0));
    h.upsert(rec(b as NodeId, 0));
    const p = new InstancePicker(h);
    const seen: string[] = [];
    for (let i = 1; i <= 8; i++) {
      seen.push(p.pick('s', 0) as string);
      h.upsert(rec((i % 2 ? b : a) as NodeId, i)); // rewriting a record reorders the table's index
    }
    assert.deepEqual(seen, [a, b, a, b, a, b, a, b]);
  });
});
