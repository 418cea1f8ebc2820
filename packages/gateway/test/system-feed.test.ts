import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hostAddress, type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { SystemFeed } from '../src/system-feed.ts';

const STATS_MS = 150;
let ca: TempOverlay;
const dir = tempDir('l8-feed-');
const vnets: VNet[] = [];
const vnics: VNic[] = [];

async function vnic(i: number, name: string): Promise<VNic> {
  const path = vnets[i]?.addresses.unix as string;
  // the feed's VNic asks for every node's load figures, as the gateway's does
  const healthStats = name === 'watcher';
  const v = new VNic({ provider: ca.provider(name), alias: name, vnet: { path }, statsMs: STATS_MS, healthStats });
  await v.connect();
  vnics.push(v);
  return v;
}

before(async () => {
  ca = await tempOverlay(['watcher', 'orders-1', 'orders-2', 'client'], { vnets: ['v0', 'v1'] });
  for (let i = 0; i < 2; i++) {
    const peers = vnets.map((n) => n.addresses.tcp);
    const socketPath = `${dir.path}/v${i}.sock`;
    const v = new VNet({
      provider: ca.provider(`v${i}`),
      host: hostAddress(i),
      port: 0,
      socketPath,
      peers,
      alias: `v${i}`,
      statsMs: STATS_MS,
    });
    await v.start();
    vnets.push(v);
  }
});
after(async () => {
  await Promise.all(vnics.map((v) => v.close()));
  await Promise.all(vnets.map((v) => v.close()));
  dir.remove();
  ca.remove();
});

test('the dashboard’s picture: VNets and their link, nodes with load, services with instances, status changes', async () => {
  const watcher = await vnic(0, 'watcher');
  const feed = new SystemFeed(watcher.health);
  const [o1, o2] = [await vnic(0, 'orders-1'), await vnic(1, 'orders-2')];
  for (const o of [o1, o2]) {
    o.subscribe({ service: 'Orders', area: 0 }, (m) => m.json());
    o.subscribe({ service: 'Orders.changes', area: 0 }, () => undefined);
  }
  const client = await vnic(1, 'client');
  await waitFor(() => watcher.health.instances('Orders', 0).length === 2, { what: 'both Orders instances seen' });
  const busy = (async () => {
    const end = Date.now() + 6 * STATS_MS;
    while (Date.now() < end)
      await Promise.all(Array.from({ length: 20 }, () => client.request({ service: 'Orders' }, 1)));
  })();
  await waitFor(() => (feed.view().vnets.find((v) => v.alias === 'v1')?.framesPerSec ?? 0) > 0, {
    what: 'v1 frame rate',
  });
  await busy;
  const view = feed.view();
  assert.deepEqual(
    view.vnets.map((v) => v.alias),
    ['v0', 'v1'],
  );
  assert.deepEqual(view.links, [{ a: view.vnets[0]?.id, b: view.vnets[1]?.id }]);
  assert.deepEqual(
    view.services.map((s) => [s.service, s.instances.map((i) => i.alias).sort()]),
    [['Orders', ['orders-1', 'orders-2']]],
  );
  const v1 = view.vnets.find((v) => v.alias === 'v1');
  assert.ok((v1?.bytesPerSec ?? 0) > 0 && (v1?.rssMB ?? 0) > 0, JSON.stringify(v1));
  assert.equal(view.totals.unreachable, 0);
  assert.equal(view.nodes.find((n) => n.alias === 'client')?.vnet, v1?.id);

  await client.close();
  await waitFor(() => feed.view().events.some((e) => e.alias === 'client' && e.type === 'removed'), {
    what: 'the client’s departure in the events',
  });
  assert.equal(
    feed.view().nodes.some((n) => n.alias === 'client'),
    false,
  );
  feed.close();
});
