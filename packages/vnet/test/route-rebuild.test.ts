import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HealthRecord } from '@layer8/health';
import { encodeControl, encodeMessage, Kind, type NodeId, newNodeId } from '@layer8/protocol';
import { devProvider, startTopology, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { changesRouting } from '@layer8/vnet/internal';
import { VNic } from '@layer8/vnic';
import { helloOf, rogueLink } from './hostile-kit.ts';

const STATS_MS = 40;

/** Resolves once `vnet` has seen `n` more stats updates of the record of `id`. */
async function statsUpdates(vnet: VNet, id: NodeId, n: number): Promise<void> {
  const seen = new Set<unknown>();
  await waitFor(
    () => {
      seen.add(vnet.health.get(id)?.stats);
      return seen.size > n;
    },
    { what: `${n} stats updates of ${id}`, intervalMs: 2 },
  );
}

/** Resolves after the end-of-turn work already scheduled (a pending rebuild of the route tables) ran. */
function settled(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A VNic record of peer VNet `vnet`'s slice. */
function vnicRecord(id: NodeId, vnet: NodeId, role = 'vnic'): HealthRecord {
  return { id, vnet, alias: 'burst', role, services: [], status: 'up', startedAt: 1, updatedAt: 1 } as HealthRecord;
}

describe('route tables are rebuilt on membership changes only', () => {
  test('stats deltas (own, local VNics, peers) leave the tables alone; a node joining or leaving rebuilds them', async () => {
    const topo = await startTopology({ vnets: 2, vnicsPerVnet: 1, provider: () => devProvider(), statsMs: STATS_MS });
    try {
      await topo.converged();
      const [a, b] = topo.vnets as [VNet, VNet];
      await statsUpdates(a, a.id, 3);
      const bStats = a.health.get(b.id)?.stats;
      await statsUpdates(b, b.id, 3);
      assert.equal(a.health.get(b.id)?.stats, bStats, 'no VNic on a watches load: b sends a none');
      const watcher = new VNic({
        provider: devProvider(),
        vnet: { path: a.addresses.unix as string },
        healthStats: true,
      });
      await watcher.connect();
      try {
        await statsUpdates(a, b.id, 3);
        for (const vnic of topo.vnics.flat()) await statsUpdates(a, vnic.id, 3);
        await waitFor(() => watcher.health.get(topo.vnics[1]?.[0]?.id as NodeId)?.stats, {
          what: "the watcher sees b's VNic load",
        });
        await settled();
        const joinedWatcher = a.control.counters.rebuilds;
        await statsUpdates(a, b.id, 3);
        assert.equal(a.control.counters.rebuilds, joinedWatcher, 'no rebuild for stats alone');
      } finally {
        await watcher.close();
      }
      await settled();
      const before2 = a.control.counters.rebuilds;

      const joining = new VNic({ provider: devProvider(), vnet: { path: b.addresses.unix as string } });
      await joining.connect();
      await waitFor(() => a.health.get(joining.id)?.status === 'up', { what: 'a learns of the new node' });
      await settled();
      const joined = a.control.counters.rebuilds;
      assert.ok(joined > before2, 'a node added on a peer rebuilds the tables');
      await joining.close();
      await waitFor(() => a.health.get(joining.id) === undefined, { what: 'a learns the node left' });
      await settled();
      assert.ok(a.control.counters.rebuilds > joined, 'a node removed on a peer rebuilds the tables');
    } finally {
      await topo.close();
    }
  });

  test('what changes routing: a new node, another VNet, status or services; not stats or timestamps', () => {
    const id = newNodeId();
    const vnet = newNodeId();
    const base: HealthRecord = {
      id,
      vnet,
      alias: 'n',
      role: 'vnic',
      services: [{ service: 'orders', area: 0 }],
      status: 'up',
      startedAt: 1,
      updatedAt: 1,
    };
    const stats = {
      framesIn: 1,
      framesOut: 2,
      bytesIn: 3,
      bytesOut: 4,
      cpuUs: 5,
      rssBytes: 6,
      heapUsedBytes: 7,
      eventLoopDelayMs: 8,
    };
    assert.equal(changesRouting(undefined, base), true);
    assert.equal(changesRouting(base, { ...base, updatedAt: 2, stats }), false);
    assert.equal(changesRouting(base, { ...base, services: [{ service: 'orders', area: 0 }] }), false);
    assert.equal(changesRouting(base, { ...base, status: 'unreachable' }), true);
    assert.equal(changesRouting(base, { ...base, services: [{ service: 'orders', area: 1 }] }), true);
    assert.equal(changesRouting(base, { ...base, services: [] }), true);
    assert.equal(changesRouting(base, { ...base, vnet: newNodeId() }), true);
  });

  test('a burst of joins read at once is one rebuild, and a frame from the last node joined is routed', async () => {
    const ca = await tempOverlay(['sink'], { vnets: ['v', 'p'] });
    const dir = tempDir('l8-burst-');
    const vnet = new VNet({ provider: ca.provider('v'), host: '127.0.0.2', port: 0, socketPath: `${dir.path}/v.sock` });
    await vnet.start();
    const sink = new VNic({ provider: ca.provider('sink'), vnet: { path: `${dir.path}/v.sock` } });
    try {
      await sink.connect();
      const got: string[] = [];
      sink.subscribe({ service: 'sink' }, (m) => void got.push(m.text()));
      const pid = newNodeId();
      const peer = await rogueLink(ca.provider('p'), vnet.addresses.tcp, helloOf(pid, 'vnet'));
      await waitFor(() => vnet.peers.has(pid), { what: 'the peer link' });
      await settled();
      const before = vnet.control.counters.rebuilds;
      const ids = Array.from({ length: 50 }, () => newNodeId());
      const delta = (seq: number, upsert: HealthRecord[]) =>
        encodeControl(pid, { t: 'health', delta: { vnet: pid, seq, full: seq === 1, upsert, remove: [] } });
      // one synchronous burst: the link batches it into one write, read by the VNet in one turn
      peer.link.send(delta(1, [vnicRecord(pid, pid, 'vnet'), vnicRecord(ids[0] as NodeId, pid)]));
      for (let i = 1; i < ids.length; i++) peer.link.send(delta(i + 1, [vnicRecord(ids[i] as NodeId, pid)]));
      const last = ids[ids.length - 1] as NodeId;
      peer.link.send(
        encodeMessage({
          kind: Kind.NOTIFY,
          source: last,
          destination: sink.id,
          service: 'sink',
          payload: Buffer.from('hi'),
        }),
      );
      await waitFor(() => got.length === 1, { what: 'the frame from the last node joined delivered' });
      assert.equal(got[0], 'hi');
      assert.equal(vnet.drops.spoofed, 0, 'its source was known when it was routed');
      await settled();
      assert.equal(vnet.health.sliceSize(pid), ids.length + 1);
      const rebuilds = vnet.control.counters.rebuilds - before;
      assert.ok(rebuilds >= 1 && rebuilds < 10, `${rebuilds} rebuilds for ${ids.length} joins`);
      peer.link.close();
    } finally {
      await sink.close();
      await vnet.close();
      dir.remove();
      ca.remove();
    }
  });
});
