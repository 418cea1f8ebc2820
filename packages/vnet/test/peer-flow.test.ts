import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FramedLink } from '@layer8/link';
import { Kind, newNodeId, nodeKey, payloadOffset } from '@layer8/protocol';
import { dialLink } from '@layer8/security';
import { type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { RECEIVER_HIGH_WATER, VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { helloOf } from './hostile-kit.ts';

const QUIET = { heartbeatMs: 60_000 }; // deadlines far away: the receiver is silent on purpose

describe('flow control across hosts: a stream to a receiver that stops reading on another host', () => {
  let overlay: TempOverlay;
  const dir = tempDir();
  let a: VNet;
  let b: VNet;

  before(async () => {
    overlay = await tempOverlay(['recv', 'sender'], { vnets: ['host-a', 'host-b'] });
    a = new VNet({
      provider: overlay.provider('host-a'),
      host: '127.0.0.2',
      port: 0,
      socketPath: `${dir.path}/a.sock`,
      ...QUIET,
    });
    await a.start();
    const peers = [a.addresses.tcp];
    b = new VNet({
      provider: overlay.provider('host-b'),
      host: '127.0.0.3',
      port: 0,
      socketPath: `${dir.path}/b.sock`,
      peers,
      ...QUIET,
    });
    await b.start();
    await waitFor(() => a.peers.size === 1 && b.peers.size === 1, { what: 'the two VNets peered over TLS' });
  });
  after(async () => {
    await b.close();
    await a.close();
    overlay.remove();
    dir.remove();
  });

  test('the sender on the other host is held, nothing is dropped, and everything arrives in order', async () => {
    const id = newNodeId();
    const opened = await dialLink(overlay.provider('recv'), { path: `${dir.path}/a.sock` }, helloOf(id, 'vnic', QUIET));
    const received: number[] = [];
    const receiver = new FramedLink(opened.stream, {
      head: opened.head,
      onFrame: (f) => {
        if (f[1] === Kind.NOTIFY) received.push(f.readUInt32BE(payloadOffset(f)));
      },
    }).start();
    const sender = new VNic({ provider: overlay.provider('sender'), vnet: { path: `${dir.path}/b.sock` }, ...QUIET });
    try {
      await sender.connect();
      await waitFor(() => sender.health.get(id) !== undefined, { what: 'the sender sees the receiver' });
      const senderAtB = await waitFor(() => b.locals.get(nodeKey(sender.id)), { what: 'the sender attached to b' });
      const receiverAtA = await waitFor(() => a.locals.get(nodeKey(id)), { what: 'the receiver attached to a' });
      (opened.stream as Socket).pause(); // the receiver stops reading

      const total = 3000; // 24 MB: three times the receiver's 8 MiB queue at a
      const payload = Buffer.alloc(8000);
      let sent = 0;
      let blocked = false;
      const stream = (async () => {
        for (; sent < total; sent++) {
          if (!sender.canSend(payload.length + 200)) {
            blocked = true;
            await sender.writable(payload.length + 200);
            blocked = false;
          }
          payload.writeUInt32BE(sent, 0);
          sender.send({ node: id, service: 'sink', area: 0 }, payload);
        }
      })();

      await waitFor(() => blocked && senderAtB.link.paused && b.flow.paused === 1, {
        timeoutMs: 20_000,
        what: 'b held the sender for the receiver a asked to hold',
      });
      assert.ok(sent < total, `${sent} of ${total} sent before the sender was held back`);
      assert.ok(receiverAtA.link.pendingBytes > RECEIVER_HIGH_WATER, 'a told b once its receiver was backlogged');
      assert.deepEqual([a.drops.backpressure, a.drops.peerBackpressure], [0, 0], 'a dropped nothing');

      (opened.stream as Socket).resume(); // the receiver reads again: everything arrives, in order
      await stream;
      await waitFor(() => received.length === total, { timeoutMs: 60_000, what: `${total} messages received` });
      assert.ok(
        received.every((n, i) => n === i),
        'in order, none lost',
      );
      assert.deepEqual([a.drops.backpressure, a.drops.peerBackpressure, b.drops.backpressure], [0, 0, 0]);
      await waitFor(() => b.flow.paused === 0 && !senderAtB.link.paused, { what: 'the hold released' });
      assert.equal(a.drops.flowSpoofed + b.drops.flowSpoofed, 0);
    } finally {
      receiver.close();
      await sender.close();
    }
  });
});
