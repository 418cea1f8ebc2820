import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { type TempOverlay, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';

/** The local and remote port of the socket under a peer connection (TLS socket or plain). */
function ports(vnet: VNet, peer: VNet): { local: number; remote: number } | undefined {
  const s = vnet.peers.get(peer.id)?.opened.stream as Socket | undefined;
  if (s?.localPort === undefined || s.remotePort === undefined) return undefined;
  return { local: s.localPort, remote: s.remotePort };
}

/** Whether a's and b's peer connections are the two ends of one TCP connection. */
function oneLink(a: VNet, b: VNet): boolean {
  const [pa, pb] = [ports(a, b), ports(b, a)];
  return pa !== undefined && pb !== undefined && pa.local === pb.remote && pa.remote === pb.local;
}

test('two VNets that dial each other at once keep exactly one link, the one the lower id dialled', async () => {
  let overlay: TempOverlay | undefined;
  const vnets: VNet[] = [];
  try {
    overlay = await tempOverlay([], { vnets: ['host-a', 'host-b'] });
    const vnet = (name: string, host: string): VNet =>
      new VNet({ provider: overlay!.provider(name), host, port: 0, socketPath: false, heartbeatMs: 1000 });
    const [a, b] = [vnet('host-a', '127.0.0.2'), vnet('host-b', '127.0.0.3')];
    vnets.push(a, b);
    await Promise.all([a.start(), b.start()]);
    // each has the other as a static peer (what `peers` does at start), dialled in the same turn:
    // a dialer's first dial always goes out, so both links pass the proof and meet the tie-break
    const [fromA, fromB] = [a.addPeer(b.addresses.tcp), b.addPeer(a.addresses.tcp)];
    await waitFor(() => fromA.proven && fromB.proven, { what: 'both dials through the membership proof' });
    await waitFor(() => oneLink(a, b), { what: 'a single link held by both ends' });
    assert.equal(a.peers.size, 1);
    assert.equal(b.peers.size, 1);
    const [onA, onB] = [a.peers.get(b.id)!, b.peers.get(a.id)!];
    assert.notEqual(onA.dialled, onB.dialled, 'one end dialled it, the other accepted it');
    const lower = a.id < b.id ? onA : onB;
    assert.equal(lower.dialled, true, 'the link dialled by the VNet with the lower id is kept');
    // it stays that way: several heartbeat rounds later neither side has redialled or swapped links
    const rounds = a.control.counters.rounds;
    await waitFor(() => a.control.counters.rounds >= rounds + 8 && b.health.get(a.id)?.status === 'up', {
      timeoutMs: 10_000,
      what: 'eight more heartbeat rounds',
    });
    assert.equal(a.peers.get(b.id), onA);
    assert.equal(b.peers.get(a.id), onB);
    assert.equal(onA.link.closed || onB.link.closed, false);
    assert.equal(fromA.linked && fromB.linked, true);
  } finally {
    await Promise.all(vnets.map((v) => v.close()));
    overlay?.remove();
  }
});
