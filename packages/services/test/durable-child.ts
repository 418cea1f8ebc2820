/**
 * A service process for the durability test: joins the VNet at argv[2] (dev provider), activates Orders
 * stored in SQLite under argv[3], and with argv[4] = `write` posts orders and prints `acked <id>` after
 * each acknowledged write; with `serve` it only serves (and prints `serving`).
 */
import { create } from '@bufbuild/protobuf';
import { OrderSchema, Status } from '@layer8/fixtures';
import { DevProvider } from '@layer8/security';
import { VNic } from '@layer8/vnic';
import { ServiceManager } from '../src/index.ts';
import { registry } from './kit.ts';

const [, , path, dir, mode] = process.argv as [string, string, string, string, string];
const vnic = new VNic({
  provider: new DevProvider({ passphrase: 'durable-test', warn: () => undefined }),
  vnet: { path },
  alias: mode,
});
await vnic.connect();
const services = new ServiceManager(vnic, { registry: registry() });
await services.activate({ name: 'Orders', type: OrderSchema, storage: { sqlite: dir } });
if (mode === 'serve') process.stdout.write('serving\n');
else {
  const orders = services.client('Orders', 0, OrderSchema);
  for (let id = 1; ; id++) {
    await orders.post(create(OrderSchema, { id: BigInt(id), number: `D-${id}`, status: Status.OPEN }), {
      mode: 'local',
    });
    process.stdout.write(`acked ${id}\n`);
  }
}
