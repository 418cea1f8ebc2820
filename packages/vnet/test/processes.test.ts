import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HealthRecord } from '@layer8/health';
import { FramedLink } from '@layer8/link';
import { assertNodeId, encodeMessage, Kind, type L8Error, newNodeId, PROTOCOL_VERSION } from '@layer8/protocol';
import { dialLink, issueNodeCert, TlsProvider } from '@layer8/security';
import { type Agent, type ProcessTopology, startProcessTopology, waitFor } from '@layer8/testkit';
import { VNic } from '@layer8/vnic';

const HB = 1000;

type Stats = {
  drops: Record<string, number>;
  forwarded: Record<string, number>;
  peers: string[];
  locals: number;
  health: HealthRecord[];
};

async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('3 VNets × 4 VNics in separate processes (TLS provider)', { timeout: 180_000 }, () => {
  let topo: ProcessTopology;
  let vnics: Agent[];
  const tls = (node: string): TlsProvider => new TlsProvider({ dir: topo.securityDir as string, node });
  const up = async (a: Agent, n: number, service = 'echo', area = 0): Promise<boolean> => {
    const h = await a.call<HealthRecord[]>('health');
    return (
      h.filter((r) => r.status === 'up' && r.services.some((s) => s.service === service && s.area === area)).length ===
      n
    );
  };

  before(async () => {
    topo = await startProcessTopology({
      vnets: 3,
      vnicsPerVnet: 4,
      tls: true,
      heartbeatMs: HB,
      maxFrame: 256 * 1024,
    });
    vnics = topo.vnics.flat();
    for (const extra of ['rogue', 'sender']) await issueNodeCert(topo.securityDir as string, extra);
    await Promise.all(vnics.map((a) => a.call('subscribe', { service: 'echo', area: 0 })));
    // "news" subscribers: two per VNet on VNets 0 and 1; none on VNet 2
    for (const a of [...topo.vnics[0]!.slice(0, 2), ...topo.vnics[1]!.slice(0, 2)])
      await a.call('subscribe', { service: 'news', area: 1 });
    await eventually(async () => (await Promise.all(vnics.map((a) => up(a, 12)))).every(Boolean), 'echo on every node');
    await eventually(
      async () => (await Promise.all(vnics.map((a) => up(a, 4, 'news', 1)))).every(Boolean),
      'news on every node',
    );
  });

  after(() => topo?.close());

  test('unicast request/reply across VNets', async () => {
    const to = topo.vnics[2]![3]!;
    const r = await topo.vnics[0]![0]!.call<{ by: string }>('request', {
      target: { node: to.nodeId, service: 'echo' },
      payload: 'x',
    });
    assert.equal(r.by, 'vnic-2-3');
  });

  test('multicast: each subscriber exactly once, no copy to a VNet without subscribers', async () => {
    await Promise.all(vnics.map((a) => a.call('resetCounts')));
    const vnet0 = topo.vnets[0]!;
    const before = (await vnet0.call<Stats>('stats')).forwarded[topo.vnets[2]!.nodeId] ?? 0;
    for (let i = 0; i < 5; i++) await topo.vnics[0]![3]!.call('multicast', { service: 'news', area: 1, payload: i });
    await eventually(async () => {
      const counts = await Promise.all(vnics.map((a) => a.call<Record<string, number>>('counts')));
      return counts.filter((c) => c['1/news'] === 5).length === 4 && counts.every((c) => (c['1/news'] ?? 0) <= 5);
    }, '4 subscribers × 5');
    const after = (await vnet0.call<Stats>('stats')).forwarded[topo.vnets[2]!.nodeId] ?? 0;
    assert.equal(after - before, 0);
  });

  test('round-robin spreads over all 12, proximity stays on the VNet, local uses the process', async () => {
    const from = topo.vnics[1]![2]!;
    const seen = new Map<string, number>();
    for (let i = 0; i < 24; i++) {
      const r = await from.call<{ by: string }>('request', { target: { service: 'echo', mode: 'round-robin' } });
      seen.set(r.by, (seen.get(r.by) ?? 0) + 1);
    }
    assert.equal(seen.size, 12);
    for (let i = 0; i < 8; i++) {
      const r = await from.call<{ by: string }>('request', { target: { service: 'echo', mode: 'proximity' } });
      assert.match(r.by, /^vnic-1-/);
    }
    const local = await from.call<{ by: string }>('request', { target: { service: 'echo', mode: 'local' } });
    assert.equal(local.by, 'vnic-1-2');
  });

  test('a spoofed source and an oversized frame are dropped and counted; the VNet keeps serving', async () => {
    const vnet = topo.vnets[1]!;
    const addr = { host: '127.0.0.3', port: (vnet.config as { port: number }).port };
    const provider = tls('rogue');
    const id = newNodeId();
    const hello = {
      version: PROTOCOL_VERSION,
      nodeId: id,
      alias: 'rogue',
      role: 'vnic' as const,
      vnet: id,
      services: [],
      maxFrame: 1 << 20,
      heartbeatMs: HB,
    };
    const opened = await dialLink(provider, addr, hello);
    const link = new FramedLink(opened.stream, { head: opened.head, onFrame: () => undefined }).start();
    const victim = topo.vnics[1]![0]!;
    link.send(
      encodeMessage({
        kind: Kind.NOTIFY,
        source: assertNodeId(victim.nodeId),
        destination: assertNodeId(topo.vnics[1]![1]!.nodeId),
        service: 'echo',
      }),
    );
    await eventually(async () => (await vnet.call<Stats>('stats')).drops.spoofed === 1, 'spoof counted');
    link.send(
      encodeMessage({
        kind: Kind.NOTIFY,
        source: id,
        destination: assertNodeId(victim.nodeId),
        service: 'echo',
        payload: new Uint8Array(300_000),
      }),
    );
    await eventually(async () => (await vnet.call<Stats>('stats')).drops.tooLarge === 1, 'oversize counted');
    await waitFor(() => link.closed);
    const r = await topo.vnics[0]![0]!.call<{ by: string }>('request', {
      target: { node: victim.nodeId, service: 'echo' },
    });
    assert.equal(r.by, 'vnic-1-0');
  });

  test('a one-way stream to a slow receiver in another process slows the sender, nothing is lost', async () => {
    const receiver = topo.vnics[1]![3]!;
    await receiver.call('subscribe', { service: 'slow-sink', area: 0, behavior: 'slow' });
    const path = (topo.vnets[1]!.config as { socketPath: string }).socketPath;
    const sender = new VNic({ provider: tls('sender'), vnet: { path } });
    await sender.connect();
    try {
      await waitFor(() => sender.health.instances('slow-sink', 0).length === 1);
      const dropsBefore = (await topo.vnets[1]!.call<Stats>('stats')).drops.backpressure;
      const payload = new Uint8Array(8000);
      const total = 6000;
      let waits = 0;
      for (let i = 0; i < total; i++) {
        if (!sender.canSend(10_000)) {
          waits++;
          await sender.writable(10_000);
        }
        sender.send({ node: assertNodeId(receiver.nodeId), service: 'slow-sink', area: 0 }, payload);
      }
      // 48 MB against an 8 MiB send queue: the sender must have been held back, and never refused. (That
      // the VNet itself stopped reading the sender is shown in-process by slow-receiver.test.ts: this
      // VNet runs in another process and counts no pauses.)
      assert.ok(waits > 0, 'the sender had to wait for room on its link');
      assert.equal(sender.linkStats?.refused, 0);
      await eventually(
        async () => (await receiver.call<Record<string, number>>('counts'))['0/slow-sink'] === total,
        `${total} deliveries`,
        30_000,
      );
      assert.equal((await topo.vnets[1]!.call<Stats>('stats')).drops.backpressure, dropsBefore);
    } finally {
      await sender.close();
    }
  });

  test('kill -9 of a VNic: others see it unreachable, its pending requests fail with L8_ERR_UNREACHABLE', async () => {
    const victim = topo.vnics[2]![0]!;
    await victim.call('subscribe', { service: 'hang', area: 0, behavior: 'hang' });
    const asker = topo.vnics[0]![1]!;
    await eventually(() => up(asker, 1, 'hang'), 'hang service visible');
    // failing with L8_ERR_UNREACHABLE (not L8_ERR_TIMEOUT) means the liveness verdict failed it
    const pending = asker.call(
      'request',
      { target: { node: victim.nodeId, service: 'hang' }, timeoutMs: 20_000 },
      25_000,
    );
    // watched before the kill: the failure may arrive before kill9() has seen the process exit
    const failed = assert.rejects(pending, (e: L8Error) => e.code === 'L8_ERR_UNREACHABLE');
    await eventually(
      async () => (await victim.call<Record<string, number>>('counts'))['0/hang'] === 1,
      'the request reached the victim',
    );
    await victim.kill9();
    await failed;
    const seen = (await asker.call<HealthRecord[]>('health')).find((r) => r.id === victim.nodeId);
    assert.notEqual(seen?.status, 'up', 'the asker no longer sees the victim up');
    await eventually(
      async () => !(await asker.call<HealthRecord[]>('health')).some((r) => r.id === victim.nodeId),
      'victim removed',
      HB * 5,
    );
  });

  test('kill -9 and restart of a VNet: its VNics reconnect, peers redial, routes return', async () => {
    await topo.vnets[0]!.kill9();
    const far = topo.vnics[2]![1]!;
    await eventually(
      async () => !(await far.call<HealthRecord[]>('health')).some((r) => r.alias === 'vnic-0-2'),
      'VNet 0 slice dropped',
      HB * 6,
    );
    const vnet0 = await topo.restartVNet(0);
    await eventually(async () => (await vnet0.call<Stats>('stats')).peers.length === 2, 'peers redialled', 15_000);
    await eventually(async () => (await vnet0.call<Stats>('stats')).locals === 4, 'VNics reconnected', 15_000);
    const target = topo.vnics[0]![2]!;
    await eventually(
      async () => (await far.call<HealthRecord[]>('health')).some((r) => r.id === target.nodeId && r.status === 'up'),
      'route back',
    );
    const r = await far.call<{ by: string }>('request', { target: { node: target.nodeId, service: 'echo' } });
    assert.equal(r.by, 'vnic-0-2');
  });
});
