import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeControl, newNodeId } from '@layer8/protocol';
import { initSecurity, revoke, TlsProvider } from '@layer8/security';
import { tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { codeOf, helloOf, type RogueLink, rogueLink } from './hostile-kit.ts';

/**
 * The hostile suite, part two (docs/security.md, "Threat model"): per-certificate bounds, handshake
 * caps, revocation of open links, announced frame sizes and hosting rules, against an in-process VNet
 * (TLS provider, the options the CLI passes) whose drop counters the tests read.
 */
describe('bounds a certificate holder cannot get past (TLS provider)', () => {
  const dir = tempDir('l8-limits-');
  const sec = `${dir.path}/sec`;
  let vnet: VNet;
  const tls = (node: string): TlsProvider => new TlsProvider({ dir: sec, node });
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    await initSecurity({
      dir: sec,
      nodes: ['honest', 'rogue', 'victim', 'victim-vnic', 'pay-1'],
      vnets: ['vnet-a', 'vnet-rogue'],
    });
    writeFileSync(`${sec}/acl.json`, JSON.stringify({ hosting: [{ service: 'payments', names: ['pay-*'] }] }));
    vnet = new VNet({
      provider: tls('vnet-a'),
      host: '127.0.0.2',
      port: 0,
      socketPath: `${dir.path}/v.sock`,
      maxQueuedBytes: 512 * 1024,
      recheckMs: 50,
      limits: { maxLinksPerSubject: 16, maxServicesPerNode: 512 },
      maxPendingHandshakes: 12,
      maxPendingPerAddress: 4,
    });
    await vnet.start();
  });

  after(async () => {
    for (const c of closers.reverse()) await c();
    await vnet.close();
    dir.remove();
  });

  async function honestJoins(): Promise<void> {
    const v = new VNic({ provider: tls('honest'), vnet: { path: `${dir.path}/v.sock` } });
    await v.connect();
    await v.close();
  }

  test('finding 6: links per certificate are bounded (L8_ERR_LIMIT); other certificates still join', async () => {
    const links: RogueLink[] = [];
    for (let i = 0; i < 16; i++) links.push(await rogueLink(tls('rogue'), vnet.addresses.tcp));
    const before = vnet.drops.limit;
    assert.equal(await codeOf(rogueLink(tls('rogue'), vnet.addresses.tcp)), 'L8_ERR_LIMIT');
    assert.equal(vnet.drops.limit, before + 1);
    await honestJoins();
    for (const l of links) l.link.close();
    await waitFor(() => [...vnet.locals.values()].every((c) => c.subject !== 'rogue'), { what: 'rogue links gone' });
  });

  test('finding 6: services per node are bounded; the announcing link is closed with L8_ERR_LIMIT', async () => {
    const rogue = await rogueLink(tls('rogue'), vnet.addresses.tcp);
    const services = Array.from({ length: 513 }, (_, i) => ({ service: `s${i}`, area: 0 }));
    rogue.link.send(encodeControl(rogue.id, { t: 'services', services }));
    await waitFor(() => rogue.link.closed, { what: 'rogue closed' });
    assert.equal(rogue.closeReason(), 'L8_ERR_LIMIT');
    assert.equal(vnet.health.get(rogue.id)?.services.length ?? 0, 0);
  });

  test('finding 6: a state dump larger than the send queue reaches a joining VNic whole, in chunks', async () => {
    const links: RogueLink[] = [];
    const name = (i: number, j: number): string => `${'x'.repeat(180)}-${i}-${j}`;
    for (let i = 0; i < 12; i++) {
      const l = await rogueLink(tls('rogue'), vnet.addresses.tcp);
      const services = Array.from({ length: 250 }, (_, j) => ({ service: name(i, j), area: 0 }));
      l.link.send(encodeControl(l.id, { t: 'services', services }));
      links.push(l);
    }
    await waitFor(() => links.every((l) => vnet.health.get(l.id)?.services.length === 250), { what: 'announced' });
    const v = new VNic({ provider: tls('honest'), vnet: { path: `${dir.path}/v.sock` } });
    closers.push(() => v.close());
    await v.connect();
    await waitFor(() => links.every((l) => v.health.get(l.id)?.services.length === 250), {
      timeoutMs: 20_000,
      what: 'every record in the joining VNic',
    });
    for (const l of links) l.link.close();
  });

  test('handshakes in progress are capped per address and in total; an honest VNic still joins', async () => {
    const idle: Socket[] = [];
    const before = vnet.drops.handshakes;
    for (let i = 0; i < 20; i++) idle.push(connect(vnet.addresses.tcp.port, vnet.addresses.tcp.host));
    await waitFor(() => vnet.drops.handshakes >= before + 16, { what: 'sockets over the cap closed' });
    await honestJoins();
    for (const s of idle) s.destroy();
    await waitFor(() => vnet.pendingHandshakes === 0, { what: 'idle sockets gone' });
  });

  test('revocation reaches open links: the link is closed and told L8_ERR_CERT_REVOKED', async () => {
    const victim = await rogueLink(tls('victim'), vnet.addresses.tcp);
    await waitFor(() => vnet.health.get(victim.id)?.status === 'up', { what: 'victim attached' });
    revoke(sec, 'victim');
    await waitFor(() => victim.link.closed, { what: 'revoked link closed' });
    assert.equal(victim.closeReason(), 'L8_ERR_CERT_REVOKED');
    assert.equal(await codeOf(rogueLink(tls('victim'), vnet.addresses.tcp)), 'L8_ERR_CERT_REVOKED');
    await honestJoins();
  });

  test('a revoked VNic is told L8_ERR_CERT_REVOKED, stops retrying and fails every call with it', async () => {
    let fatal: string | undefined;
    const v = new VNic({
      provider: tls('victim-vnic'),
      vnet: { path: `${dir.path}/v.sock` },
      onFatal: (e) => (fatal = e.code),
    });
    closers.push(() => v.close());
    await v.connect();
    revoke(sec, 'victim-vnic');
    await waitFor(() => v.closedWith !== undefined, { what: 'VNic refused for good' });
    assert.equal(v.closedWith?.code, 'L8_ERR_CERT_REVOKED');
    assert.equal(fatal, 'L8_ERR_CERT_REVOKED');
    assert.equal(await codeOf(v.request({ service: 'small' }, {})), 'L8_ERR_CERT_REVOKED');
    assert.equal(await codeOf(v.connect()), 'L8_ERR_CERT_REVOKED');
    assert.equal(vnet.locals.has(v.id), false);
  });

  test('review: an empty service name in a hello is refused before it can poison peers', async () => {
    const hello = helloOf(newNodeId(), 'vnic', { services: [{ service: '', area: 0 }] });
    assert.equal(await codeOf(rogueLink(tls('rogue'), vnet.addresses.tcp, hello)), 'L8_ERR_HANDSHAKE');
  });

  test('review: nothing read after a refusal is handled (a bad message and a delta in one write)', async () => {
    const id = newNodeId();
    const rogue = await rogueLink(tls('vnet-rogue'), vnet.addresses.tcp, helloOf(id, 'vnet'));
    const rec = (n: string) => ({
      id: n,
      vnet: id,
      alias: 'g',
      role: 'vnic',
      services: [],
      status: 'up',
      startedAt: 1,
      updatedAt: 1,
    });
    rogue.link.send(encodeControl(id, { t: 'bogus' }));
    rogue.link.send(
      encodeControl(id, {
        t: 'health',
        delta: { vnet: id, seq: 1, full: true, upsert: [rec(newNodeId())], remove: [] },
      }),
    );
    await waitFor(() => rogue.link.closed, { what: 'rogue peer refused' });
    assert.equal(rogue.closeReason(), 'L8_ERR_MALFORMED_FRAME');
    assert.equal(vnet.health.sliceSize(id), 0, 'no ghost records of the refused peer');
  });

  test('review: a burst of resyncs runs one dump at a time, not one per message', async () => {
    const rogue = await rogueLink(tls('rogue'), vnet.addresses.tcp);
    await waitFor(() => rogue.controls.some((c) => c.t === 'health'), { what: 'first dump' });
    const before = rogue.controls.filter((c) => c.t === 'health').length;
    for (let i = 0; i < 200; i++) rogue.link.send(encodeControl(rogue.id, { t: 'resync' }));
    rogue.link.send(encodeControl(rogue.id, { t: 'services', services: [{ service: 'after-resyncs', area: 0 }] }));
    await waitFor(() => vnet.health.instances('after-resyncs', 0).length === 1, { what: 'link still served' });
    await waitFor(() => rogue.controls.some((c) => JSON.stringify(c).includes('after-resyncs')), { what: 'echo' });
    const dumps = rogue.controls.filter((c) => c.t === 'health').length - before;
    assert.ok(dumps < 20, `${dumps} health frames for 200 resyncs`);
    rogue.link.close();
  });

  test('the maxFrame a VNic announces is respected: larger frames are refused to the sender, its link stays', async () => {
    const small = new VNic({ provider: tls('honest'), vnet: vnet.addresses.tcp, maxFrame: 256 * 1024 });
    const sender = new VNic({ provider: tls('honest'), vnet: { path: `${dir.path}/v.sock` } });
    closers.push(
      () => small.close(),
      () => sender.close(),
    );
    await Promise.all([small.connect(), sender.connect()]);
    small.subscribe({ service: 'small', area: 0 }, () => 'ok');
    await waitFor(() => sender.health.instances('small', 0).length === 1, { what: 'small seen' });
    const big = new Uint8Array(300 * 1024);
    for (let i = 0; i < 5; i++) {
      assert.equal(await codeOf(sender.request({ node: small.id, service: 'small' }, big)), 'L8_ERR_FRAME_TOO_LARGE');
    }
    const r = await sender.request({ node: small.id, service: 'small' }, new Uint8Array(10));
    assert.equal(r.json(), 'ok');
    assert.ok(vnet.drops.overMaxFrame >= 5);
  });

  test('hosting rules: a certificate not allowed to host a service is refused (L8_ERR_FORBIDDEN)', async () => {
    const rogue = await rogueLink(tls('rogue'), vnet.addresses.tcp);
    rogue.link.send(encodeControl(rogue.id, { t: 'services', services: [{ service: 'payments', area: 0 }] }));
    await waitFor(() => rogue.link.closed, { what: 'rogue closed' });
    assert.equal(rogue.closeReason(), 'L8_ERR_FORBIDDEN');
    const hello = helloOf(newNodeId(), 'vnic', { services: [{ service: 'payments', area: 0 }] });
    assert.equal(await codeOf(rogueLink(tls('rogue'), vnet.addresses.tcp, hello)), 'L8_ERR_FORBIDDEN');
    const pay = await rogueLink(tls('pay-1'), vnet.addresses.tcp, { ...hello, nodeId: newNodeId() });
    await waitFor(() => vnet.health.instances('payments', 0).length === 1, { what: 'pay-1 hosts payments' });
    pay.link.close();
  });
});
