import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { newNodeId } from '@layer8/protocol';
import { devProvider, freePort, waitFor } from '@layer8/testkit';
import { type DiscoveryOptions, VNet, type VNetLogger } from '@layer8/vnet';

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

/** A VNet logger that keeps which discovered addresses are being dialled now, and the most at once. */
function hintLog(): { logger: VNetLogger; active: Set<string>; most: () => number; forgotten: Map<string, string> } {
  const active = new Set<string>();
  const forgotten = new Map<string, string>();
  let most = 0;
  const logger: VNetLogger = {
    warn() {},
    info(obj, msg) {
      const { host, port, reason } = obj as { host: string; port: number; reason?: string };
      if (msg === 'peer discovered') active.add(`${host}:${port}`);
      if (msg === 'discovered peer forgotten') {
        active.delete(`${host}:${port}`);
        forgotten.set(`${host}:${port}`, reason ?? '');
      }
      most = Math.max(most, active.size);
    },
  };
  return { logger, active, most: () => most, forgotten };
}

/** Sends forged beacons to a VNet's discovery port on loopback. */
async function forger(port: number, overlay: string) {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const send = (host: string, to: number, vnet = newNodeId()) =>
    new Promise<void>((r) =>
      socket.send(JSON.stringify({ l8: 1, overlay, vnet, host, port: to }), port, '127.0.0.1', () => r()),
    );
  return { send, close: () => socket.close() };
}

/** Ports on `host` where nothing listens (bound then released). */
async function deadPorts(host: string, n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort(host));
  return ports;
}

/** A dev-provider VNet on 127.0.0.2 that listens for beacons as `discovery` says. */
function discoveringVNet(discovery: DiscoveryOptions, logger: VNetLogger): VNet {
  return new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: false, discovery, logger });
}

test('forged beacons: discovered dialers stay within the bound and failed addresses are forgotten', async () => {
  const port = await freeUdpPort();
  const log = hintLog();
  const discovery = { port, intervalMs: 60_000, overlay: 'forged', maxAddresses: 8, maxDialFailures: 2, ttlMs: 2000 };
  const vnet = discoveringVNet(discovery, log.logger);
  const beacons = await forger(port, 'forged');
  try {
    await vnet.start();
    const targets = await deadPorts('127.0.0.9', 200);
    for (const p of targets) await beacons.send('127.0.0.9', p);
    await waitFor(() => log.forgotten.size >= 8, { what: 'forged addresses forgotten' });
    await waitFor(() => log.active.size === 0, { timeoutMs: 5000, what: 'every forged address forgotten' });
    assert.ok(log.most() <= 8, `at most 8 dialers at once, saw ${log.most()}`);
    assert.ok([...log.forgotten.values()].every((r) => r === 'failed' || r === 'evicted'));
    assert.equal(vnet.peers.size, 0);
  } finally {
    beacons.close();
    await vnet.close();
  }
});

test('a failed address is dialled at most maxDialFailures times however often it is announced', async () => {
  const port = await freeUdpPort();
  const log = hintLog();
  let dials = 0;
  const trap = createServer((s) => {
    dials++;
    s.destroy();
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.9', r));
  const trapPort = (trap.address() as { port: number }).port;
  const discovery = { port, intervalMs: 60_000, overlay: 'forged', maxDialFailures: 3, ttlMs: 60_000 };
  const vnet = discoveringVNet(discovery, log.logger);
  const beacons = await forger(port, 'forged');
  try {
    await vnet.start();
    await beacons.send('127.0.0.9', trapPort);
    await waitFor(() => log.forgotten.get(`127.0.0.9:${trapPort}`) === 'failed', { what: 'the trap forgotten' });
    for (let i = 0; i < 50; i++) await beacons.send('127.0.0.9', trapPort);
    // a marker announced after them: once its (slower, backed-off) dials are done, a redial of the trap
    // started by the re-announcements would have happened
    const [marker] = await deadPorts('127.0.0.9', 1);
    await beacons.send('127.0.0.9', marker as number);
    await waitFor(() => log.forgotten.get(`127.0.0.9:${marker}`) === 'failed', { what: 'the marker forgotten' });
    assert.equal(dials, 3, 'three failed dials, then quiet while re-announced');
    assert.equal(log.active.size, 0);
  } finally {
    beacons.close();
    trap.close();
    await vnet.close();
  }
});

test('a beacon only triggers a dial: a VNet that fails the membership proof is never adopted', async () => {
  const port = await freeUdpPort();
  const log = hintLog();
  const discovery = { port, intervalMs: 60_000, overlay: 'forged', maxDialFailures: 2, ttlMs: 60_000 };
  const vnet = discoveringVNet(discovery, log.logger);
  const outsider = new VNet({
    provider: devProvider('another-overlay'),
    host: '127.0.0.6',
    port: 0,
    socketPath: false,
  });
  const beacons = await forger(port, 'forged');
  try {
    await vnet.start();
    const at = await outsider.start();
    await beacons.send(at.tcp.host, at.tcp.port, outsider.id);
    await waitFor(() => log.forgotten.get(`${at.tcp.host}:${at.tcp.port}`) === 'failed', {
      what: 'outsider forgotten',
    });
    assert.equal(vnet.peers.size, 0);
    assert.equal(vnet.locals.size, 0);
    assert.equal(outsider.peers.size + outsider.locals.size, 0);
  } finally {
    beacons.close();
    await Promise.all([vnet.close(), outsider.close()]);
  }
});

test('a discovered peer not re-announced within the TTL is forgotten, its link kept; a flood never evicts it', async () => {
  const port = await freeUdpPort();
  const log = hintLog();
  const discovery = { port, intervalMs: 60_000, overlay: 'forged', maxAddresses: 2, maxDialFailures: 1, ttlMs: 400 };
  const vnet = discoveringVNet(discovery, log.logger);
  const member = new VNet({ provider: devProvider(), host: '127.0.0.3', port: 0, socketPath: false });
  const beacons = await forger(port, 'forged');
  try {
    await vnet.start();
    const at = await member.start();
    const key = `${at.tcp.host}:${at.tcp.port}`;
    await beacons.send(at.tcp.host, at.tcp.port, member.id);
    await waitFor(() => vnet.peers.has(member.id), { what: 'member linked' });
    for (const p of await deadPorts('127.0.0.9', 20)) await beacons.send('127.0.0.9', p);
    await beacons.send(at.tcp.host, at.tcp.port, member.id);
    assert.equal(log.forgotten.get(key), undefined, 'the linked member survives the flood');
    await waitFor(() => log.forgotten.get(key) === 'expired', { what: 'member hint expired' });
    assert.ok(vnet.peers.has(member.id), 'the link it made stays up');
    assert.ok(log.most() <= 2);
  } finally {
    beacons.close();
    await Promise.all([vnet.close(), member.close()]);
  }
});
