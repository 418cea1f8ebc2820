/**
 * A service process for the gateway's multi-host test: joins the VNet whose socket is argv[4] as node
 * argv[3] with the TLS provider of the overlay directory argv[2], activates Orders exposed to the web
 * (every action, maxLimit 50) in memory, then says `serving <node id>` over IPC. It exits when the test
 * disconnects (or dies).
 */
import { OrderSchema } from '@layer8/fixtures';
import { TlsProvider } from '@layer8/security';
import { ServiceManager } from '@layer8/services';
import { VNic } from '@layer8/vnic';
import { registry } from './kit.ts';

const [, , dir, node, path] = process.argv as [string, string, string, string, string];
const vnic = new VNic({ provider: new TlsProvider({ dir, node }), vnet: { path }, alias: node });
await vnic.connect();
const services = new ServiceManager(vnic, { registry: registry() });
await services.activate({
  name: 'Orders',
  type: OrderSchema,
  web: { actions: ['post', 'put', 'patch', 'delete', 'get'], maxLimit: 50 },
});
process.on('disconnect', () => {
  void services
    .close()
    .then(() => vnic.close())
    .finally(() => process.exit(0));
});
process.send?.({ serving: vnic.id });
