import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FramedLink, type NodeHello } from '@layer8/link';
import {
  encodeMessage,
  Kind,
  type L8Error,
  MIN_MAX_FRAME,
  type NodeId,
  newNodeId,
  PROTOCOL_VERSION,
} from '@layer8/protocol';
import { dialLink } from '@layer8/security';
import { DEV_PASSPHRASE, devProvider, tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';

function helloOf(nodeId: NodeId): NodeHello {
  return {
    version: PROTOCOL_VERSION,
    nodeId,
    alias: 'rogue',
    role: 'vnic',
    vnet: nodeId,
    services: [],
    maxFrame: 1 << 20,
    heartbeatMs: 3000,
  };
}

describe('hostile input closes or drops only what it must', () => {
  const dir = tempDir();
  let vnet: VNet;
  let good: VNic;
  let server: VNic;

  before(async () => {
    vnet = new VNet({
      provider: devProvider(),
      host: '127.0.0.2',
      port: 0,
      socketPath: `${dir.path}/v.sock`,
      maxFrame: MIN_MAX_FRAME,
    });
    await vnet.start();
    good = new VNic({ provider: devProvider(), vnet: { path: `${dir.path}/v.sock` } });
    server = new VNic({ provider: devProvider(), vnet: vnet.addresses.tcp });
    await Promise.all([good.connect(), server.connect()]);
    server.subscribe({ service: 'echo', area: 0 }, (m) => m.payload);
    await waitFor(() => good.health.instances('echo', 0).length === 1);
  });

  after(async () => {
    await Promise.all([good.close(), server.close()]);
    await vnet.close();
    dir.remove();
  });

  async function stillServes(): Promise<void> {
    const r = await good.request({ service: 'echo' }, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...r.payload], [1, 2, 3]);
  }

  test('a spoofed source is dropped and counted; the link and everyone else keep working', async () => {
    const id = newNodeId();
    const opened = await dialLink(devProvider(), vnet.addresses.tcp, helloOf(id));
    const replies: Buffer[] = [];
    const link = new FramedLink(opened.stream, {
      head: opened.head,
      onFrame: (f) => replies.push(Buffer.from(f)),
    }).start();
    const before = vnet.drops.spoofed;
    link.send(
      encodeMessage({ kind: Kind.REQUEST, source: good.id, destination: server.id, service: 'echo', sequence: 9 }),
    );
    await waitFor(() => vnet.drops.spoofed === before + 1, { what: 'spoofed drop counted' });
    link.send(encodeMessage({ kind: Kind.REQUEST, source: id, destination: server.id, service: 'echo', sequence: 10 }));
    await waitFor(() => replies.some((f) => f[1] === Kind.REPLY), { what: 'honest frame on the same link served' });
    assert.equal(link.closed, false);
    link.close();
    await stillServes();
  });

  test('a frame over the maximum closes only that link', async () => {
    const id = newNodeId();
    const opened = await dialLink(devProvider(), vnet.addresses.tcp, helloOf(id));
    let closedWith: L8Error | undefined;
    const link = new FramedLink(opened.stream, {
      head: opened.head,
      onFrame: () => undefined,
      onClose: (e) => (closedWith = e),
    }).start();
    await waitFor(() => vnet.health.get(id)?.status === 'up');
    link.send(
      encodeMessage({
        kind: Kind.NOTIFY,
        source: id,
        destination: server.id,
        service: 'echo',
        payload: new Uint8Array(MIN_MAX_FRAME + 1000),
      }),
    );
    const tooLarge = vnet.drops.tooLarge;
    await waitFor(() => link.closed, { what: 'link closed by the VNet' });
    await waitFor(() => vnet.drops.tooLarge === tooLarge + 1, { what: 'oversized frame counted' });
    // the VNet closes before reading the body: the sender, still writing it, may see a reset
    assert.ok(
      closedWith === undefined || closedWith.code === 'L8_ERR_CONNECT',
      'closed by the peer, not a local fault',
    );
    await waitFor(() => vnet.health.get(id)?.status !== 'up');
    await stillServes();
  });

  test('a VNic refuses to send a frame over the VNet maximum with L8_ERR_FRAME_TOO_LARGE', async () => {
    await assert.rejects(
      good.request({ service: 'echo' }, new Uint8Array(MIN_MAX_FRAME + 1000)),
      (e: L8Error) => e.code === 'L8_ERR_FRAME_TOO_LARGE',
    );
    await stillServes();
  });

  for (const [name, bytes] of [
    ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a huge length prefix', Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])],
    [
      'a frame of protocol version 2',
      (() => {
        const f = encodeMessage({ kind: Kind.CONTROL, source: newNodeId() });
        f[4] = 2;
        return f;
      })(),
    ],
  ] as const) {
    test(`${name} on a fresh socket: that socket is closed fast, the VNet keeps serving`, async () => {
      const s = connect(vnet.addresses.tcp);
      await new Promise((r) => s.once('connect', r));
      const t0 = performance.now();
      s.write(bytes);
      s.resume();
      await new Promise((r) => s.once('close', r));
      assert.ok(performance.now() - t0 < 2000, 'closed well before the handshake deadline');
      await stillServes();
    });
  }

  test('a wrong passphrase is refused with L8_ERR_AUTH on both sides', async () => {
    const rogue = new VNic({ provider: devProvider(`${DEV_PASSPHRASE}-wrong`), vnet: vnet.addresses.tcp });
    await assert.rejects(rogue.connect(), (e: L8Error) => e.code === 'L8_ERR_AUTH');
    await rogue.close();
    await stillServes();
  });
});
