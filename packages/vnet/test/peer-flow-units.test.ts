import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { decodeMessage, type NodeId, newNodeId, nodeIdToBytes, Offset } from '@layer8/protocol';
import type { Connection, DropCounters } from '../src/connection.ts';
import { NodeIndex } from '../src/node-index.ts';
import { FLOW_LEASE_MS, PeerFlow } from '../src/peer-flow.ts';

/** A connection as PeerFlow reads it: its id, whether it is a peer, the nodes it routes, its link. */
function conn(isPeer: boolean, routes: NodeId[] = []) {
  const id = newNodeId();
  const routed = new NodeIndex<true>();
  for (const n of [id, ...routes]) routed.set(nodeIdToBytes(n), true);
  const sent: unknown[] = [];
  const waits: (() => void)[] = [];
  let paused = false;
  const link = {
    closed: false,
    pendingBytes: 0,
    get paused() {
      return paused;
    },
    isBacklogged: (n: number) => link.pendingBytes > n,
    onDrained: (done: () => void) => void waits.push(done),
    send: (f: Buffer) => void sent.push(JSON.parse(Buffer.from(decodeMessage(f.subarray(4)).payload).toString())),
    pauseUntil: (wait: (resume: () => void) => void) => {
      if (paused) return;
      paused = true;
      wait(() => {
        paused = false;
      });
    },
  };
  const c = { id, isPeer, routed, link, maxFrame: 1 << 20 } as unknown as Connection;
  return {
    c,
    link,
    sent,
    drain: () => {
      for (const w of waits.splice(0)) w();
    },
  };
}

const drops = () => ({ backpressure: 0, overMaxFrame: 0 }) as DropCounters;

/** A frame to `node`, as the router sees it (only the destination bytes are read). */
function frameTo(node: NodeId): Buffer {
  const f = Buffer.alloc(Offset.DESTINATION + 16);
  Buffer.from(nodeIdToBytes(node)).copy(f, Offset.DESTINATION);
  return f;
}

test('receiving side: tells a peer once per half lease while a local receiver is backlogged, then resumes it', () => {
  let clock = 0;
  {
    const flow = new PeerFlow({ id: newNodeId(), drops: drops() }, FLOW_LEASE_MS, () => clock);
    const peer = conn(true);
    const local = conn(false);
    flow.delivered(peer.c, local.c);
    assert.deepEqual(peer.sent, [], 'not backlogged: nothing said');
    local.link.pendingBytes = 2 * 1024 * 1024;
    flow.delivered(peer.c, local.c);
    flow.delivered(peer.c, local.c);
    assert.deepEqual(peer.sent, [{ t: 'flow', node: local.c.id, paused: true }], 'told once');
    clock += FLOW_LEASE_MS / 2;
    flow.delivered(peer.c, local.c);
    assert.equal(peer.sent.length, 2, 'renewed after half a lease');
    local.link.pendingBytes = 0;
    local.drain();
    assert.deepEqual(peer.sent.at(-1), { t: 'flow', node: local.c.id, paused: false });
  }
});

test('sending side: holds local senders to a paused node until resumed, or until the lease ends', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const flow = new PeerFlow({ id: newNodeId(), drops: drops() });
    const node = newNodeId();
    const peer = conn(true, [node]);
    const sender = conn(false);
    assert.ok(flow.onFlow(peer.c, node, true));
    flow.hold(sender.c, frameTo(newNodeId()));
    assert.equal(sender.link.paused, false, 'another destination is not held');
    flow.hold(sender.c, frameTo(node));
    assert.deepEqual([sender.link.paused, flow.paused], [true, 1]);
    assert.ok(flow.onFlow(peer.c, node, false));
    assert.deepEqual([sender.link.paused, flow.paused], [false, 0], 'resumed by the peer');

    flow.onFlow(peer.c, node, true);
    flow.hold(sender.c, frameTo(node));
    mock.timers.tick(FLOW_LEASE_MS - 1);
    flow.onFlow(peer.c, node, true); // renewed
    mock.timers.tick(FLOW_LEASE_MS - 1);
    assert.equal(sender.link.paused, true, 'a renewed lease still holds');
    mock.timers.tick(1);
    assert.deepEqual([sender.link.paused, flow.paused], [false, 0], 'a lease that is not renewed ends');
  } finally {
    mock.timers.reset();
  }
});

test('a peer may only hold nodes it routes, and a peer link is never held', () => {
  const flow = new PeerFlow({ id: newNodeId(), drops: drops() });
  const peer = conn(true);
  const other = conn(true);
  const node = newNodeId();
  assert.equal(flow.onFlow(peer.c, node, true), false, 'a node the peer does not route');
  assert.equal(flow.onFlow(peer.c, peer.c.id, true), false, 'the peer itself');
  assert.equal(flow.paused, 0);
  const routed = conn(true, [node]);
  flow.onFlow(routed.c, node, true);
  flow.hold(other.c, frameTo(node));
  assert.equal(other.link.paused, false, 'frames from a peer VNet are never held');
  flow.close();
  assert.equal(flow.paused, 0);
});
