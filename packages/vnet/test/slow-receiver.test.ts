import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { FramedLink } from '@layer8/link';
import { Kind, newNodeId, nodeKey, payloadOffset } from '@layer8/protocol';
import { dialLink } from '@layer8/security';
import { devProvider, tempDir, waitFor } from '@layer8/testkit';
import { RECEIVER_HIGH_WATER, VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { helloOf } from './hostile-kit.ts';

/** What one read of a socket can add after the pause (one chunk) plus the frame that crossed the mark. */
const ONE_CHUNK = 64 * 1024 + 8 * 1024;

test('a receiver that stops reading pauses its local sender at the VNet; nothing is dropped', async () => {
  const dir = tempDir();
  const path = `${dir.path}/v.sock`;
  // deadlines far away: the receiver is silent on purpose while it does not read
  const vnet = new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: path, heartbeatMs: 60_000 });
  await vnet.start();
  const sender = new VNic({ provider: devProvider(), vnet: { path }, heartbeatMs: 60_000, alias: 'sender' });
  const id = newNodeId();
  const opened = await dialLink(devProvider(), { path }, helloOf(id, 'vnic', { heartbeatMs: 60_000 }));
  const received: number[] = [];
  const receiver = new FramedLink(opened.stream, {
    head: opened.head,
    onFrame: (f) => {
      if (f[1] === Kind.NOTIFY) received.push(f.readUInt32BE(payloadOffset(f)));
    },
  }).start();
  try {
    await sender.connect();
    const atVNet = await waitFor(() => vnet.locals.get(nodeKey(id)), { what: 'the receiver attached' });
    const senderAtVNet = vnet.locals.get(nodeKey(sender.id))!;
    (opened.stream as Socket).pause(); // the receiver stops reading

    const total = 3000; // 24 MB: far more than the sender's 8 MiB queue and the VNet's 1 MiB mark
    const payload = Buffer.alloc(8000);
    let sent = 0;
    let waits = 0;
    let blocked = false;
    const stream = (async () => {
      for (; sent < total; sent++) {
        if (!sender.canSend(payload.length + 200)) {
          waits++;
          blocked = true;
          await sender.writable(payload.length + 200);
          blocked = false;
        }
        payload.writeUInt32BE(sent, 0);
        sender.send({ node: id, service: 'sink', area: 0 }, payload);
      }
    })();

    await waitFor(() => blocked && senderAtVNet.opened.stream.isPaused(), {
      what: 'the sender held back and its link paused at the VNet',
    });
    assert.ok(sent < total, `${sent} of ${total} sent before the sender was held back`);
    const held = atVNet.link.pendingBytes;
    assert.ok(held > RECEIVER_HIGH_WATER, `the VNet stopped reading the sender at ${held} bytes for the receiver`);
    assert.ok(held <= RECEIVER_HIGH_WATER + ONE_CHUNK, `it held ${held} bytes, not its whole 8 MiB queue`);
    assert.equal(vnet.drops.backpressure, 0);
    assert.equal(received.length, 0);

    (opened.stream as Socket).resume(); // the receiver reads again: everything arrives, in order
    await stream;
    await waitFor(() => received.length === total, { timeoutMs: 30_000, what: `${total} messages received` });
    assert.ok(
      received.every((n, i) => n === i),
      'in order, none lost',
    );
    assert.ok(waits > 0);
    assert.equal(sender.linkStats?.refused, 0, 'the sender was never refused: it waited');
    assert.equal(vnet.drops.backpressure, 0, 'the VNet dropped nothing');
    await waitFor(() => !senderAtVNet.opened.stream.isPaused(), { what: "the sender's link read again" });
  } finally {
    receiver.close();
    await sender.close();
    await vnet.close();
    dir.remove();
  }
});
