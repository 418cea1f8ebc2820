import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HealthRecord } from '@layer8/health';
import { type NodeId, newNodeId } from '@layer8/protocol';
import { devProvider, startTopology, waitFor } from '@layer8/testkit';
import type { VNet } from '@layer8/vnet';
import { changesRouting } from '@layer8/vnet/internal';
import { VNic } from '@layer8/vnic';

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
        const joinedWatcher = a.control.counters.rebuilds;
        await statsUpdates(a, b.id, 3);
        assert.equal(a.control.counters.rebuilds, joinedWatcher, 'no rebuild for stats alone');
      } finally {
        await watcher.close();
      }
      const before2 = a.control.counters.rebuilds;

      const joining = new VNic({ provider: devProvider(), vnet: { path: b.addresses.unix as string } });
      await joining.connect();
      await waitFor(() => a.health.get(joining.id)?.status === 'up', { what: 'a learns of the new node' });
      const joined = a.control.counters.rebuilds;
      assert.ok(joined > before2, 'a node added on a peer rebuilds the tables');
      await joining.close();
      await waitFor(() => a.health.get(joining.id) === undefined, { what: 'a learns the node left' });
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
});
