import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { type L8Error, newNodeId } from '@layer8/protocol';
import { VNic } from '../src/vnic.ts';
import { FakeVNet, testProvider, until } from './fake-vnet.ts';

const fast = { firstMs: 5, maxMs: 10 };

describe('a VNic refused for a security reason stops retrying', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  test('a close message with L8_ERR_CERT_REVOKED: no reconnect, pending and later calls fail with it, reported once', async () => {
    const vnet = new FakeVNet();
    const address = await vnet.start();
    closers.push(() => vnet.close());
    const fatal: L8Error[] = [];
    const victim = new VNic({
      provider: testProvider(),
      vnet: address,
      reconnect: fast,
      heartbeatMs: 60_000,
      onFatal: (e) => fatal.push(e),
    });
    const control = new VNic({ provider: testProvider(), vnet: address, reconnect: fast, heartbeatMs: 60_000 });
    closers.push(
      () => victim.close(),
      () => control.close(),
    );
    await Promise.all([victim.connect(), control.connect()]);
    const pending = victim.request({ node: newNodeId(), service: 'anything' });
    const failed = assert.rejects(pending, (e: L8Error) => e.code === 'L8_ERR_CERT_REVOKED');

    vnet.control(victim.id, { t: 'close', error: { code: 'L8_ERR_CERT_REVOKED', message: 'certificate revoked' } });
    vnet.linkOf(victim.id).link.close();
    await failed;
    // the control VNic loses its link without a reason twice and comes back twice; by then the victim
    // would have redialled too (same back-off)
    for (let n = 2; n <= 3; n++) {
      vnet.linkOf(control.id).link.close();
      await until(() => vnet.linksOf(control.id) === n && control.state === 'connected', 5000, 'control back');
    }
    assert.equal(vnet.linksOf(victim.id), 1, 'the victim never dialled again');
    assert.equal(victim.state, 'closed');
    assert.equal(victim.closedWith?.code, 'L8_ERR_CERT_REVOKED');
    assert.deepEqual(
      fatal.map((e) => e.code),
      ['L8_ERR_CERT_REVOKED'],
    );
    await assert.rejects(
      victim.request({ node: control.id, service: 'x' }),
      (e: L8Error) => e.code === 'L8_ERR_CERT_REVOKED',
    );
    assert.throws(
      () => victim.send({ node: control.id, service: 'x', area: 0 }),
      (e: L8Error) => e.code === 'L8_ERR_CERT_REVOKED',
    );
    await assert.rejects(victim.connect(), (e: L8Error) => e.code === 'L8_ERR_CERT_REVOKED');
    assert.equal(control.closedWith, undefined);
  });

  test('a close message with a retryable reason is not fatal', async () => {
    const vnet = new FakeVNet();
    const address = await vnet.start();
    closers.push(() => vnet.close());
    const vnic = new VNic({ provider: testProvider(), vnet: address, reconnect: fast, heartbeatMs: 60_000 });
    closers.push(() => vnic.close());
    await vnic.connect();
    vnet.control(vnic.id, { t: 'close', error: { code: 'L8_ERR_TIMEOUT', message: 'heartbeat missed' } });
    vnet.linkOf(vnic.id).link.close();
    await until(() => vnet.linksOf(vnic.id) === 2 && vnic.state === 'connected', 5000, 'reconnect');
    assert.equal(vnic.closedWith, undefined);
  });

  test('a handshake refused with L8_ERR_AUTH: connect rejects, no retry, reported once', async () => {
    const stranger = new FakeVNet(testProvider('another-overlay-passphrase'));
    const address = await stranger.start();
    closers.push(() => stranger.close());
    let sockets = 0;
    const counting = createServer((s) => {
      sockets++;
      s.destroy();
    });
    await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => counting.close(() => r())));
    const port = (counting.address() as { port: number }).port;

    const fatal: L8Error[] = [];
    const victim = new VNic({
      provider: testProvider(),
      vnet: address,
      reconnect: fast,
      heartbeatMs: 60_000,
      onFatal: (e) => fatal.push(e),
    });
    const control = new VNic({ provider: testProvider(), vnet: { host: '127.0.0.1', port }, reconnect: fast });
    closers.push(
      () => victim.close(),
      () => control.close(),
    );
    await assert.rejects(victim.connect(), (e: L8Error) => e.code === 'L8_ERR_AUTH');
    void control.connect().catch(() => undefined);
    await until(() => sockets >= 3, 5000, 'the control VNic to retry a retryable failure');
    assert.equal(stranger.sockets, 1, 'the victim dialled once');
    assert.equal(victim.state, 'closed');
    assert.equal(victim.closedWith?.code, 'L8_ERR_AUTH');
    assert.deepEqual(
      fatal.map((e) => e.code),
      ['L8_ERR_AUTH'],
    );
  });
});
