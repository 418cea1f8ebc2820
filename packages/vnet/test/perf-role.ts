import { DevProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';

const provider = new DevProvider({ passphrase: 'perf-passphrase', warn: () => {} });
const [role, sock] = process.argv.slice(2) as [string, string];
if (role === 'vnet') {
  const v = new VNet({ provider, port: 0, socketPath: sock, host: '127.0.0.1' });
  await v.start();
  process.send?.('ready');
} else if (role === 'responder') {
  const n = new VNic({ provider, vnet: { path: sock } });
  await n.connect();
  const reply = new Uint8Array(100);
  n.subscribe('echo', 0, () => reply);
  process.send?.('ready');
}
process.on('message', (m) => {
  if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
