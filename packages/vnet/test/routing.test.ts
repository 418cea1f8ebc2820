import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nodeKey } from '@layer8/protocol';
import { devProvider, startTopology, type Topology, waitFor } from '@layer8/testkit';
import type { VNic } from '@layer8/vnic';

describe('routing across 3 VNets × 4 VNics (in-process)', () => {
  let topo: Topology;
  let all: VNic[];
  const received = new Map<string, number>();

  before(async () => {
    topo = await startTopology({ vnets: 3, vnicsPerVnet: 4, provider: () => devProvider() });
    all = topo.vnics.flat();
    // subscribers of "news": VNics 1..3 on VNet 0 and VNet 1 (6 in all); VNet 2 has none
    for (const n of [...topo.vnics[0]!.slice(1), ...topo.vnics[1]!.slice(1)]) {
      n.subscribe({ service: 'news', area: 7 }, () => void received.set(n.alias, (received.get(n.alias) ?? 0) + 1));
    }
    for (const n of all) n.subscribe({ service: 'echo', area: 0 }, (m) => ({ by: n.alias, got: m.json() }));
    await waitFor(
      () => all.every((n) => n.health.instances('echo', 0).length === 12 && n.health.instances('news', 7).length === 6),
      {
        what: 'services replicated',
      },
    );
  });

  after(() => topo.close());

  test('unicast request reaches the named node on another VNet', async () => {
    const [from, to] = [topo.vnics[0]![0]!, topo.vnics[2]![3]!];
    const r = await from.request({ node: to.id, service: 'echo' }, 'hi');
    assert.deepEqual(r.json(), { by: to.alias, got: 'hi' });
    assert.equal(r.source, to.id);
  });

  test('one-way unicast is delivered to the named node', async () => {
    const to = topo.vnics[1]![2]!;
    const before = received.get(to.alias) ?? 0;
    topo.vnics[2]![0]!.send({ node: to.id, service: 'news', area: 7 }, { n: 1 });
    await waitFor(() => received.get(to.alias) === before + 1, { what: 'unicast delivery' });
  });

  test('multicast reaches each subscriber once and only VNets with subscribers', async () => {
    received.clear();
    const sender = topo.vnics[2]![0]!;
    const vnet2 = topo.vnets[2]!;
    const forwardedBefore = vnet2.forwardedPerPeer();
    for (let i = 0; i < 10; i++) sender.multicast({ service: 'news', area: 7 }, { i });
    await waitFor(() => received.size === 6 && [...received.values()].every((c) => c === 10), {
      what: '6 × 10 deliveries',
    });
    const forwarded = vnet2.forwardedPerPeer();
    for (const [peer, count] of Object.entries(forwarded))
      assert.equal(count - (forwardedBefore[peer] ?? 0), 10, 'one copy per peer per message');
    // VNet 0 forwards nothing to VNet 2 for a multicast from VNet 0: VNet 2 has no subscriber
    received.clear();
    const vnet0 = topo.vnets[0]!;
    const to2Before = vnet0.forwardedPerPeer()[vnet2.id] ?? 0;
    topo.vnics[0]![0]!.multicast({ service: 'news', area: 7 }, 'x');
    await waitFor(() => received.size === 6, { what: '6 deliveries' });
    assert.equal(
      (vnet0.forwardedPerPeer()[vnet2.id] ?? 0) - to2Before,
      0,
      'zero waste towards a VNet without subscribers',
    );
    assert.ok([...received.values()].every((c) => c === 1));
  });

  test('round-robin spreads requests evenly over all 12 instances', async () => {
    const counts = new Map<string, number>();
    const from = topo.vnics[1]![0]!;
    for (let i = 0; i < 120; i++) {
      const r = await from.request({ service: 'echo', mode: 'round-robin' }, i);
      const by = r.json<{ by: string }>().by;
      counts.set(by, (counts.get(by) ?? 0) + 1);
    }
    assert.equal(counts.size, 12);
    assert.ok(
      [...counts.values()].every((c) => c === 10),
      JSON.stringify([...counts]),
    );
  });

  test('proximity prefers instances on the same VNet', async () => {
    const from = topo.vnics[2]![1]!;
    for (let i = 0; i < 20; i++) {
      const r = await from.request({ service: 'echo', mode: 'proximity' }, i);
      assert.match(r.json<{ by: string }>().by, /^vnic-2-/);
    }
  });

  test('proximity falls back to other VNets when the local VNet has none, rotating over them', async () => {
    const from = topo.vnics[2]![1]!;
    const subscribers = new Set([...topo.vnics[0]!.slice(1), ...topo.vnics[1]!.slice(1)].map((n) => n.id));
    const bySource = new Map<string, number>();
    for (let i = 0; i < 12; i++) {
      // every request must succeed: none is allowed to fail quietly
      const r = await from.request({ service: 'news', area: 7, mode: 'proximity' }, i);
      assert.ok(subscribers.has(r.source), `reply ${i} from a subscriber of news/7`);
      assert.notEqual(from.health.get(r.source)?.vnet, from.vnetId, `reply ${i} from another VNet`);
      bySource.set(r.source, (bySource.get(r.source) ?? 0) + 1);
    }
    assert.equal(bySource.size, 6, 'every remote instance took a turn');
    assert.ok(
      [...bySource.values()].every((c) => c === 2),
      JSON.stringify([...bySource]),
    );
  });

  test('local mode runs the in-process handler without a socket', async () => {
    const n = topo.vnics[0]![3]!;
    const framesBefore = n.linkStats?.framesOut ?? 0;
    const r = await n.request({ service: 'echo', mode: 'local' }, 'here');
    assert.deepEqual(r.json(), { by: n.alias, got: 'here' });
    assert.equal(n.linkStats?.framesOut ?? 0, framesBefore);
  });

  test('local mode without an in-process handler prefers an instance on the same VNet', async () => {
    const n = topo.vnics[0]![0]!; // no news/7 handler; VNet 0 has 3 of the 6 instances, VNet 1 the others
    const sameVNet = new Set(topo.vnics[0]!.slice(1).map((x) => x.id));
    const bySource = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const r = await n.request({ service: 'news', area: 7, mode: 'local' }, i);
      assert.ok(sameVNet.has(r.source), `request ${i} answered by ${n.health.get(r.source)?.alias}, not on VNet 0`);
      bySource.set(r.source, (bySource.get(r.source) ?? 0) + 1);
    }
    assert.deepEqual([...bySource.values()], [2, 2, 2], 'rotating over the same-VNet instances');
  });

  test('local mode prefers the in-process handler over same-VNet instances', async () => {
    const n = topo.vnics[0]![1]!; // a news/7 subscriber itself, with two more on its VNet
    const atVNet = topo.vnets[0]!.locals.get(nodeKey(n.id))!;
    const forwardedBefore = atVNet.forwarded;
    const before = received.get(n.alias) ?? 0;
    for (let i = 0; i < 3; i++) {
      const r = await n.request({ service: 'news', area: 7, mode: 'local' }, i);
      assert.equal(r.source, n.id);
    }
    assert.equal(received.get(n.alias), before + 3, 'its own handler ran each time');
    assert.equal(atVNet.forwarded, forwardedBefore, 'no request came back to it through the VNet');
  });

  test('local mode with no instance on the VNet goes to another VNet', async () => {
    const n = topo.vnics[2]![2]!;
    const remote = new Set([...topo.vnics[0]!.slice(1), ...topo.vnics[1]!.slice(1)].map((x) => x.id));
    for (let i = 0; i < 6; i++) {
      const r = await n.request({ service: 'news', area: 7, mode: 'local' }, i);
      assert.ok(remote.has(r.source), `request ${i} answered by a news/7 subscriber`);
      assert.notEqual(n.health.get(r.source)?.vnet, n.vnetId);
    }
  });
});
