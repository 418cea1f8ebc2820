import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { devProvider, freePort, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic, type VNicOptions } from '@layer8/vnic';

test('a VNet that cannot bind its unix socket fails to start and releases its TCP port', async () => {
  const dir = tempDir();
  const first = new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: `${dir.path}/v.sock` });
  await first.start();
  const port = await freePort('127.0.0.3');
  const second = new VNet({ provider: devProvider(), host: '127.0.0.3', port, socketPath: `${dir.path}/v.sock` });
  await assert.rejects(second.start(), (e: L8Error) => e.code === 'L8_ERR_CONNECT');
  assert.throws(
    () => second.addresses,
    (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
  );
  const third = new VNet({ provider: devProvider(), host: '127.0.0.3', port, socketPath: false });
  const a = await third.start();
  assert.equal(a.tcp.port, port, 'the failed VNet released its TCP port');
  await Promise.all([first.close(), third.close()]);
  dir.remove();
});

/** A dev-provider VNet on 127.0.0.2 with a unix socket, and VNics made on it; `done` closes them all. */
async function devOverlay() {
  const dir = tempDir();
  const vnet = new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: `${dir.path}/v.sock` });
  await vnet.start();
  const vnics: VNic[] = [];
  const vnic = (o: Partial<VNicOptions> = {}): VNic => {
    const v = new VNic({ provider: devProvider(), vnet: { path: `${dir.path}/v.sock` }, ...o });
    vnics.push(v);
    return v;
  };
  const done = async (): Promise<void> => {
    await Promise.all(vnics.map((v) => v.close()));
    await vnet.close();
    dir.remove();
  };
  return { vnet, vnic, done };
}

test('a payload larger than the send queue but under the frame maximum crosses the overlay', async () => {
  const { vnet, vnic, done } = await devOverlay();
  const [a, b] = [vnic(), vnic({ vnet: vnet.addresses.tcp })];
  await Promise.all([a.connect(), b.connect()]);
  b.subscribe({ service: 'big', area: 0 }, (m) => m.payload.length);
  await waitFor(() => a.health.instances('big', 0).length === 1);
  const r = await a.request({ node: b.id, service: 'big' }, new Uint8Array(9 * 1024 * 1024), { timeoutMs: 20_000 });
  assert.equal(r.json(), 9 * 1024 * 1024);
  await done();
});

test('a VNic that closes cleanly leaves the health table at once, without passing through unreachable', async () => {
  const { vnic, done } = await devOverlay();
  const [a, b] = [vnic(), vnic()];
  await Promise.all([a.connect(), b.connect()]);
  await waitFor(() => a.health.get(b.id) !== undefined);
  const events: string[] = [];
  a.health.onChange((e) => {
    if (e.record.id === b.id) events.push(e.type);
  });
  await b.close();
  await waitFor(() => a.health.get(b.id) === undefined, { what: 'b removed' });
  assert.deepEqual(events, ['removed']);
  await done();
});

test('connect() twice shares one connection attempt and resolves both callers', async () => {
  const { vnet, vnic, done } = await devOverlay();
  const v = vnic();
  const first = v.connect();
  assert.equal(v.connect(), first);
  await first;
  assert.equal(v.connect(), first, 'after connecting too');
  assert.equal(vnet.locals.size, 1);
  await done();
});

test('a TLS VNic against a dev-provider VNet fails at once with L8_ERR_AUTH and says why', async () => {
  const overlay = await tempOverlay(['svc']);
  const { vnet, vnic, done } = await devOverlay();
  const v = vnic({ provider: overlay.provider('svc'), vnet: vnet.addresses.tcp });
  await assert.rejects(
    v.connect(),
    (e: L8Error) => e.code === 'L8_ERR_AUTH' && /does not speak TLS.*--dev/.test(e.message),
  );
  assert.equal(v.closedWith?.code, 'L8_ERR_AUTH', 'it stops instead of retrying forever');
  await done();
  overlay.remove();
});

test('a one-way handler that throws or rejects is counted and reported, not lost', async () => {
  const { vnic, done } = await devOverlay();
  const reported: string[] = [];
  const rx = vnic({ onHandlerError: (e, service) => reported.push(`${service}:${e.message}`) });
  const tx = vnic();
  await Promise.all([rx.connect(), tx.connect()]);
  rx.subscribe({ service: 'sync-bug', area: 0 }, () => {
    throw new Error('boom');
  });
  rx.subscribe({ service: 'async-bug', area: 0 }, async () => Promise.reject(new Error('later')));
  await waitFor(() => tx.health.instances('async-bug', 0).length === 1);
  tx.multicast({ service: 'sync-bug', area: 0 }, {});
  tx.multicast({ service: 'async-bug', area: 0 }, {});
  await waitFor(() => rx.drops.oneWayFailures === 2, { what: 'both failures counted' });
  assert.deepEqual(reported.sort(), ['async-bug:later', 'sync-bug:boom']);
  await done();
});
