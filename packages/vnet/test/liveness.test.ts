import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type L8Error, nodeKey } from '@layer8/protocol';
import { devProvider, FaultProxy, startTopology, tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { RING_NEIGHBOURS, TICKS_PER_DEADLINE } from '@layer8/vnet/internal';
import { VNic } from '@layer8/vnic';

const HB = 300;

/** VNet a on 127.0.0.2 and VNet b on 127.0.0.3, b peered to a through a fault proxy, each with a VNic over TCP. */
async function proxiedPair(heartbeatMs: number): Promise<{
  a: VNet;
  b: VNet;
  proxy: FaultProxy;
  onA: VNic;
  onB: VNic;
  close: () => Promise<void>;
}> {
  const a = new VNet({
    provider: devProvider(),
    host: '127.0.0.2',
    port: 0,
    socketPath: false,
    heartbeatMs,
    alias: 'a',
  });
  await a.start();
  const proxy = new FaultProxy(a.addresses.tcp);
  const via = await proxy.listen('127.0.0.3');
  const b = new VNet({
    provider: devProvider(),
    host: '127.0.0.3',
    port: 0,
    socketPath: false,
    peers: [via],
    heartbeatMs,
    alias: 'b',
  });
  await b.start();
  const onA = new VNic({ provider: devProvider(), vnet: a.addresses.tcp, heartbeatMs });
  const onB = new VNic({ provider: devProvider(), vnet: b.addresses.tcp, heartbeatMs });
  await Promise.all([onA.connect(), onB.connect()]);
  const close = async (): Promise<void> => {
    await Promise.all([onA.close(), onB.close()]);
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  };
  return { a, b, proxy, onA, onB, close };
}

describe('heartbeats, failure detection and healing', () => {
  test('a silent VNic becomes unreachable, its waiters fail, then it is removed', async () => {
    const dir = tempDir();
    const vnet = new VNet({
      provider: devProvider(),
      host: '127.0.0.2',
      port: 0,
      socketPath: `${dir.path}/v.sock`,
      heartbeatMs: HB,
    });
    await vnet.start();
    const proxy = new FaultProxy(vnet.addresses.tcp);
    const via = await proxy.listen('127.0.0.2');
    const silent = new VNic({ provider: devProvider(), vnet: via, heartbeatMs: 60_000, alias: 'silent' });
    const asker = new VNic({ provider: devProvider(), vnet: { path: `${dir.path}/v.sock` }, heartbeatMs: HB });
    try {
      await Promise.all([silent.connect(), asker.connect()]);
      silent.subscribe({ service: 'slow', area: 0 }, () => new Promise(() => undefined));
      await waitFor(() => asker.health.instances('slow', 0).length === 1);
      const seen: string[] = [];
      asker.health.onChange((e) => e.record.id === silent.id && seen.push(e.type));
      // failing with L8_ERR_UNREACHABLE (not L8_ERR_TIMEOUT) means the liveness verdict failed it
      const pending = asker.request({ node: silent.id, service: 'slow' }, undefined, { timeoutMs: 30_000 });
      proxy.blackhole();
      await assert.rejects(pending, (e: L8Error) => e.code === 'L8_ERR_UNREACHABLE');
      assert.equal(vnet.health.get(silent.id)?.status, 'unreachable', 'the VNet marked the silent node');
      assert.equal(asker.health.get(silent.id)?.status, 'unreachable', 'the waiter failed on that verdict');
      assert.deepEqual(
        seen.filter((t) => t !== 'changed'),
        ['unreachable'],
      );
      await waitFor(() => asker.health.get(silent.id) === undefined, {
        timeoutMs: 4 * HB + 2000,
        what: 'silent node removed',
      });
      assert.deepEqual(
        seen.filter((t) => t !== 'changed'),
        ['unreachable', 'removed'],
      );
      assert.equal(vnet.health.get(silent.id), undefined);
      assert.equal(vnet.locals.has(nodeKey(silent.id)), false, 'its link was closed');
    } finally {
      await Promise.all([silent.close(), asker.close()]);
      await proxy.close();
      await vnet.close();
      dir.remove();
    }
  });

  test('a cut peer link is redialled and routes and services return', async () => {
    const { proxy, onA, onB, close } = await proxiedPair(HB);
    try {
      onA.subscribe({ service: 'svc', area: 0 }, () => 'ok');
      await waitFor(() => onB.health.instances('svc', 0).length === 1, { what: 'service seen across' });
      proxy.cut();
      await waitFor(() => onB.health.get(onA.id) === undefined, { what: 'remote node dropped after the cut' });
      await assert.rejects(onB.request({ service: 'svc' }), (e: L8Error) => e.code === 'L8_ERR_NO_SERVICE');
      proxy.heal();
      await waitFor(() => onB.health.instances('svc', 0).length === 1, {
        timeoutMs: 10_000,
        what: 'service back after redial',
      });
      assert.equal((await onB.request({ service: 'svc' })).json(), 'ok');
    } finally {
      await close();
    }
  });

  test('a delayed peer link still carries requests: the request and its reply each cross it once', async () => {
    const { a, b, proxy, onA, onB, close } = await proxiedPair(2000);
    try {
      onA.subscribe({ service: 'svc', area: 0 }, () => 'ok');
      await waitFor(() => onB.health.instances('svc', 0).length === 1);
      const toA = b.forwardedPerPeer()[a.id] ?? 0;
      const toB = a.forwardedPerPeer()[b.id] ?? 0;
      const bytes = proxy.forwardedBytes;
      proxy.delayMs = 40;
      const r = await onB.request({ service: 'svc' }, 'q');
      assert.equal(r.json(), 'ok');
      assert.equal(r.source, onA.id);
      assert.equal((b.forwardedPerPeer()[a.id] ?? 0) - toA, 1, 'the request crossed the delayed link once');
      assert.equal((a.forwardedPerPeer()[b.id] ?? 0) - toB, 1, 'the reply crossed it back once');
      assert.ok(proxy.forwardedBytes - bytes >= 2 * 67, 'both frames went through the delaying proxy');
    } finally {
      await close();
    }
  });

  test('a black-holed peer link is closed at the heartbeat deadline and healed', async () => {
    const { a, b, proxy, close } = await proxiedPair(HB);
    try {
      await waitFor(() => a.peers.size === 1 && b.peers.size === 1);
      proxy.blackhole();
      await waitFor(() => a.peers.size === 0 && b.peers.size === 0, {
        timeoutMs: 4 * HB + 2000,
        what: 'peer declared dead',
      });
      proxy.heal();
      await waitFor(() => a.peers.size === 1 && b.peers.size === 1, { timeoutMs: 10_000, what: 'peer back' });
      await waitFor(() => a.health.get(b.id)?.status === 'up' && b.health.get(a.id)?.status === 'up');
    } finally {
      await close();
    }
  });

  test('a VNic reconnects after its VNet restarts on the same address', async () => {
    const dir = tempDir();
    const sock = `${dir.path}/v.sock`;
    const first = new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: sock, heartbeatMs: HB });
    await first.start();
    const n = new VNic({
      provider: devProvider(),
      vnet: { path: sock },
      heartbeatMs: HB,
      reconnect: { firstMs: 20, maxMs: 200 },
    });
    try {
      await n.connect();
      n.subscribe({ service: 'svc', area: 0 }, () => 'ok');
      await first.close();
      await waitFor(() => n.state === 'disconnected' || n.state === 'reconnecting', { what: 'the link lost' });
      const second = new VNet({
        provider: devProvider(),
        host: '127.0.0.2',
        port: 0,
        socketPath: sock,
        heartbeatMs: HB,
      });
      await second.start();
      try {
        // the VNet may list the node a moment before the VNic's side of the handshake has finished
        await waitFor(() => second.health.get(n.id)?.services.length === 1 && n.state === 'connected', {
          timeoutMs: 5000,
          what: 'VNic back with its services',
        });
        assert.equal(n.vnetId, second.id);
      } finally {
        await n.close();
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });

  test('heartbeat and health messages per round grow with nodes, not their square', async () => {
    const HB_ROUND = 400;
    // a heartbeat round is one deadline: the VNets' heartbeat timers tick TICKS_PER_DEADLINE times in it
    const TICKS_PER_ROUND = TICKS_PER_DEADLINE;
    const perRound = async (vnets: number): Promise<{ nodes: number; messages: number; heartbeats: number }> => {
      const topo = await startTopology({
        vnets,
        vnicsPerVnet: 4,
        provider: () => devProvider(),
        heartbeatMs: HB_ROUND,
        statsMs: 3 * HB_ROUND,
      });
      try {
        await topo.converged();
        const sum = (f: (v: VNet) => number): number => topo.vnets.reduce((s, v) => s + f(v), 0);
        const frames = (): number =>
          sum((v) => [...v.locals.values(), ...v.peers.values()].reduce((t, c) => t + c.link.stats.framesOut, 0)) +
          topo.vnics.flat().reduce((s, n) => s + (n.linkStats?.framesOut ?? 0), 0);
        const ticks = (): number => sum((v) => v.control.counters.rounds);
        const heartbeats = (): number => sum((v) => v.control.counters.heartbeatsSent);
        const [f0, t0, h0] = [frames(), ticks(), heartbeats()];
        const r0 = topo.vnets[0]!.control.counters.rounds;
        await waitFor(() => topo.vnets[0]!.control.counters.rounds >= r0 + 6 * TICKS_PER_ROUND, { timeoutMs: 10_000 });
        // counted by the VNets' own heartbeat ticks, not by the clock: a slow machine ticks less and sends less
        const rounds = (ticks() - t0) / vnets / TICKS_PER_ROUND;
        assert.ok(heartbeats() > h0, 'idle links carried heartbeats');
        for (const v of topo.vnets) {
          assert.ok(v.control.counters.watched <= 2 * RING_NEIGHBOURS, `an idle VNet watches its ring neighbours only`);
        }
        return { nodes: vnets * 5, messages: (frames() - f0) / rounds, heartbeats: (heartbeats() - h0) / rounds };
      } finally {
        await topo.close();
      }
    };
    const small = await perRound(4);
    const large = await perRound(12);
    const growth = large.messages / small.messages;
    console.log(`health traffic per heartbeat round: ${JSON.stringify({ small, large })}`);
    const nodeGrowth = large.nodes / small.nodes;
    const detail = JSON.stringify({ small, large });
    assert.ok(
      growth < nodeGrowth * 1.5,
      `messages per round grew ${growth.toFixed(2)}× for ${nodeGrowth}× nodes ${detail}`,
    );
    assert.ok(
      large.messages <= 6 * large.nodes,
      `${large.messages} messages per round for ${large.nodes} nodes ${detail}`,
    );
  });
});
