import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { devProvider, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';

function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  return new Promise((resolve) =>
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    }),
  );
}

test('UDP broadcast discovery on loopback forms the mesh without static peers', async () => {
  const port = await freeUdpPort();
  const discovery = { port, broadcast: '127.255.255.255', intervalMs: 100, overlay: 'test-overlay' };
  const vnets = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map(
    (host) => new VNet({ provider: devProvider(), host, port: 0, socketPath: false, discovery }),
  );
  const stranger = new VNet({
    provider: devProvider(),
    host: '127.0.0.5',
    port: 0,
    socketPath: false,
    discovery: { ...discovery, overlay: 'other' },
  });
  try {
    for (const v of [...vnets, stranger]) await v.start();
    await waitFor(() => vnets.every((v) => v.peers.size === 2), { timeoutMs: 5000, what: 'full mesh by discovery' });
    await waitFor(() => vnets.every((v) => v.health.all().filter((r) => r.role === 'vnet').length === 3));
    assert.equal(stranger.peers.size, 0, 'another overlay name is ignored');
  } finally {
    await Promise.all([...vnets, stranger].map((v) => v.close()));
  }
});
