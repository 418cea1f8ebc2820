import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ContentType,
  encodeControl,
  encodeMessage,
  Kind,
  Mode,
  type NodeId,
  newNodeId,
  ZERO_NODE_ID,
} from '@layer8/protocol';
import { initSecurity, TlsProvider } from '@layer8/security';
import { tempDir, waitFor } from '@layer8/testkit';
import { VNic } from '@layer8/vnic';
import { type CliVNet, codeOf, helloOf, rogueLink, startCliVNet } from './hostile-kit.ts';

/**
 * The hostile suite (docs/security.md, "Threat model"): two VNets started by `l8 vnet start` on their own
 * addresses with the TLS provider, honest VNics on both, and an attacker holding valid member
 * certificates (a VNic one, and in one case a VNet one) attacking VNet A over real sockets.
 */
describe('hostile members against VNets started by the CLI (TLS provider)', () => {
  const dir = tempDir('l8-hostile-');
  const sec = `${dir.path}/sec`;
  let a: CliVNet;
  let b: CliVNet;
  let honest: VNic;
  let server: VNic;
  const tls = (node: string): TlsProvider => new TlsProvider({ dir: sec, node });
  const notified: string[] = [];

  before(async () => {
    await initSecurity({ dir: sec, nodes: ['honest', 'server', 'rogue'], vnets: ['vnet-a', 'vnet-b', 'vnet-rogue'] });
    a = await startCliVNet([
      '--security',
      sec,
      '--node',
      'vnet-a',
      '--host',
      '127.0.0.2',
      '--socket',
      `${dir.path}/a.sock`,
    ]);
    b = await startCliVNet([
      '--security',
      sec,
      '--node',
      'vnet-b',
      '--host',
      '127.0.0.3',
      '--no-socket',
      '--peer',
      `127.0.0.2:${a.tcp.port}`,
    ]);
    honest = new VNic({ provider: tls('honest'), vnet: { path: `${dir.path}/a.sock` } });
    server = new VNic({ provider: tls('server'), vnet: b.tcp });
    await Promise.all([honest.connect(), server.connect()]);
    server.subscribe({ service: 'orders', area: 0 }, () => ({ by: server.id }));
    honest.subscribe({ service: 'local-svc', area: 0 }, (m) => {
      notified.push(m.json<{ from: string }>().from);
      return { by: honest.id };
    });
    await waitFor(() => honest.health.instances('orders', 0).length === 1, {
      timeoutMs: 15_000,
      what: 'orders seen on A',
    });
    await waitFor(() => server.health.instances('local-svc', 0).length === 1, {
      timeoutMs: 15_000,
      what: 'local-svc seen on B',
    });
  });

  after(async () => {
    await Promise.all([honest?.close(), server?.close()]);
    await Promise.all([a?.stop(), b?.stop()]);
    dir.remove();
  });

  async function overlayServes(): Promise<void> {
    assert.ok(a.alive(), `VNet A exited: ${a.stderr.join('')}`);
    assert.ok(b.alive(), `VNet B exited: ${b.stderr.join('')}`);
    for (let i = 0; i < 6; i++) {
      const r = await honest.request({ service: 'orders' }, {}, { timeoutMs: 5000 });
      assert.equal(r.json<{ by: string }>().by, server.id, 'orders answered by the real server');
    }
    const back = await server.request(
      { node: honest.id, service: 'local-svc' },
      { from: 'server' },
      { timeoutMs: 5000 },
    );
    assert.equal(back.json<{ by: string }>().by, honest.id);
  }

  test('finding 1: a services message of [null] closes only that link with L8_ERR_MALFORMED_FRAME', async () => {
    const rogue = await rogueLink(tls('rogue'), a.tcp);
    rogue.link.send(encodeControl(rogue.id, { t: 'services', services: [null] }));
    await waitFor(() => rogue.link.closed, { what: 'rogue link closed' });
    assert.equal(rogue.closeReason(), 'L8_ERR_MALFORMED_FRAME');
    await overlayServes();
  });

  test('finding 1: a peer delta with services [null] closes only that peer link', async () => {
    const id = newNodeId();
    const rogue = await rogueLink(tls('vnet-rogue'), a.tcp, helloOf(id, 'vnet'));
    const rec = { id, vnet: id, alias: 'x', role: 'vnet', services: [null], status: 'up', startedAt: 1, updatedAt: 1 };
    rogue.link.send(
      encodeControl(id, { t: 'health', delta: { vnet: id, seq: 1, full: true, upsert: [rec], remove: [] } }),
    );
    await waitFor(() => rogue.link.closed, { what: 'rogue peer link closed' });
    assert.equal(rogue.closeReason(), 'L8_ERR_MALFORMED_FRAME');
    await overlayServes();
  });

  test('finding 2: a VNic certificate cannot join as a VNet (L8_ERR_IDENTITY, told to the dialler)', async () => {
    assert.equal(await codeOf(rogueLink(tls('rogue'), a.tcp, helloOf(newNodeId(), 'vnet'))), 'L8_ERR_IDENTITY');
    await overlayServes();
  });

  test('finding 2: a peer VNet writes only its own slice and cannot take, rewrite or erase other nodes', async () => {
    const id = newNodeId();
    const rogue = await rogueLink(tls('vnet-rogue'), a.tcp, helloOf(id, 'vnet'));
    const rec = (node: string, vnet: string, service: string) => ({
      id: node,
      vnet,
      alias: 'hijack',
      role: 'vnic',
      services: [{ service, area: 0 }],
      status: 'up',
      startedAt: 1,
      updatedAt: 1,
    });
    const own = {
      id,
      vnet: id,
      alias: 'rogue-vnet',
      role: 'vnet',
      services: [],
      status: 'up',
      startedAt: 1,
      updatedAt: 1,
    };
    const upsert = [own, rec(honest.id, id, 'orders'), rec(server.id, id, 'orders'), rec(newNodeId(), b.id, 'orders')];
    rogue.link.send(encodeControl(id, { t: 'health', delta: { vnet: id, seq: 1, full: true, upsert, remove: [] } }));
    rogue.link.send(
      encodeControl(id, {
        t: 'health',
        delta: { vnet: id, seq: 2, full: false, upsert: [], remove: [server.id, b.id, honest.id] },
      }),
    );
    // a NOTIFY with a local node's source is dropped; one with the rogue's own source is delivered after it
    const notify = (source: NodeId, from: string) =>
      encodeMessage({
        kind: Kind.NOTIFY,
        mode: Mode.MULTICAST,
        source,
        destination: ZERO_NODE_ID,
        service: 'local-svc',
        contentType: ContentType.JSON,
        payload: Buffer.from(JSON.stringify({ from })),
      });
    rogue.link.send(notify(honest.id, 'forged'));
    rogue.link.send(notify(id, 'rogue'));
    await waitFor(() => notified.includes('rogue'), { what: 'the rogue VNet own notify' });
    assert.ok(!notified.includes('forged'), 'a NOTIFY with a local node source was delivered');
    assert.equal(honest.health.get(server.id)?.vnet, b.id, 'the server record still belongs to B');
    assert.equal(honest.health.get(honest.id)?.vnet, a.id, 'the honest record still belongs to A');
    await overlayServes();
    rogue.link.close();
  });

  test('finding 3: a node id is bound to the certificate that proved it; another name is refused', async () => {
    assert.equal(await codeOf(rogueLink(tls('rogue'), a.tcp, helloOf(honest.id))), 'L8_ERR_IDENTITY');
    assert.equal(await codeOf(rogueLink(tls('rogue'), a.tcp, helloOf(server.id))), 'L8_ERR_IDENTITY');
    assert.equal(await codeOf(rogueLink(tls('rogue'), a.tcp, helloOf(b.id))), 'L8_ERR_IDENTITY');
    await overlayServes();
  });
});
