import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { OrderSchema, Status } from '@layer8/fixtures';
import { FaultProxy, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { ServiceManager } from '../src/index.ts';
import { contentOf, registry } from './kit.ts';

const HB = 300;
const order = (id: number, city: string) =>
  create(OrderSchema, { id: BigInt(id), number: `P-${id}`, status: Status.OPEN, city });

test('instances on both sides of a cut link catch up after the heal (TLS, fault proxy)', async () => {
  const ca = await tempOverlay(['na', 'nb'], { vnets: ['va', 'vb'] });
  const a = new VNet({ provider: ca.provider('va'), host: '127.0.0.2', port: 0, socketPath: false, heartbeatMs: HB });
  await a.start();
  const proxy = new FaultProxy(a.addresses.tcp);
  const via = await proxy.listen('127.0.0.3');
  const b = new VNet({
    provider: ca.provider('vb'),
    host: '127.0.0.3',
    port: 0,
    socketPath: false,
    peers: [via],
    heartbeatMs: HB,
  });
  await b.start();
  const na = new VNic({ provider: ca.provider('na'), vnet: a.addresses.tcp, heartbeatMs: HB, alias: 'na' });
  const nb = new VNic({ provider: ca.provider('nb'), vnet: b.addresses.tcp, heartbeatMs: HB, alias: 'nb' });
  await Promise.all([na.connect(), nb.connect()]);
  const [sa, sb] = [new ServiceManager(na, { registry: registry() }), new ServiceManager(nb, { registry: registry() })];
  try {
    await sa.activate({ name: 'Orders', type: OrderSchema });
    await sb.activate({ name: 'Orders', type: OrderSchema });
    await waitFor(() => na.health.instances('Orders', 0).length === 2, { what: 'both instances' });
    const [ca1, cb1] = [sa.client('Orders', 0, OrderSchema), sb.client('Orders', 0, OrderSchema)];
    for (let i = 1; i <= 10; i++) await ca1.put(order(i, 'before'), { mode: 'local' });
    const same = () => contentOf(sa.instance('Orders')) === contentOf(sb.instance('Orders'));
    await waitFor(same, { what: 'converged before the cut' });

    proxy.cut();
    await waitFor(
      () => na.health.instances('Orders', 0).length === 1 && nb.health.instances('Orders', 0).length === 1,
      {
        timeoutMs: 10_000,
        what: 'each side alone',
      },
    );
    for (let i = 11; i <= 20; i++) await ca1.put(order(i, 'a-side'), { mode: 'local' });
    for (let i = 21; i <= 30; i++) await cb1.put(order(i, 'b-side'), { mode: 'local' });
    await ca1.put(order(1, 'a-during'), { mode: 'local' });
    await cb1.put(order(1, 'b-during'), { mode: 'local' });
    await cb1.delete(2, { mode: 'local' });
    assert.ok(!same(), 'the two sides diverged while cut');

    proxy.heal();
    await waitFor(same, { timeoutMs: 15_000, what: 'the same content on both sides after the heal' });
    const page = await ca1.get('select * from Order', { mode: 'local' });
    assert.equal(page.total, 29, '30 orders, one deleted');
  } finally {
    await sa.close();
    await sb.close();
    await Promise.all([na.close(), nb.close()]);
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
    ca.remove();
  }
});
