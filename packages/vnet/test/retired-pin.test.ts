import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { codeOf, helloOf, rogueLink } from './hostile-kit.ts';

/**
 * `l8 chaos run` found it: while a node's VNet is down, the node's record has left every table, and its
 * id was free, so any member with another certificate could join under it (and take its traffic when it
 * came back). A removed node id now stays pinned to its certificate subject for a while.
 */
test('a node whose VNet died keeps its id: another certificate claiming it is refused (L8_ERR_IDENTITY)', async () => {
  const overlay = await tempOverlay(['svc', 'rogue'], { vnets: ['host-a', 'host-b'] });
  const dir = tempDir();
  const a = new VNet({
    provider: overlay.provider('host-a'),
    host: '127.0.0.2',
    port: 0,
    socketPath: `${dir.path}/a.sock`,
  });
  await a.start();
  const b = new VNet({
    provider: overlay.provider('host-b'),
    host: '127.0.0.3',
    port: 0,
    socketPath: false,
    peers: [a.addresses.tcp],
  });
  await b.start();
  const svc = new VNic({ provider: overlay.provider('svc'), vnet: b.addresses.tcp, reconnect: { firstMs: 5000 } });
  try {
    await svc.connect();
    await waitFor(() => a.health.get(svc.id)?.status === 'up', { what: 'svc seen on A' });
    await b.close();
    await waitFor(() => a.health.get(svc.id) === undefined, { what: "B's slice dropped on A" });
    const claim = await codeOf(rogueLink(overlay.provider('rogue'), { path: `${dir.path}/a.sock` }, helloOf(svc.id)));
    assert.equal(claim, 'L8_ERR_IDENTITY');
    assert.equal(a.health.get(svc.id), undefined, 'nobody holds the id on A');
  } finally {
    await svc.close();
    await Promise.all([a.close(), b.close()]);
    dir.remove();
    overlay.remove();
  }
});
