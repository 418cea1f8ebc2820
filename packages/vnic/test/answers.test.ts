import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeMessage, Kind, type L8Error, type MessageInit, type NodeId, newNodeId, Offset } from '@layer8/protocol';
import type { Incoming } from '../src/payload.ts';
import { VNic } from '../src/vnic.ts';
import { FakeVNet, testProvider, until } from './fake-vnet.ts';

/**
 * What a VNic accepts from its link, with a VNet that forwards anything (a fake one): answers only from
 * the node a request went to or from a VNet, and no frame whose header lengths run past its end.
 */
describe('a VNic checks what its VNet forwards', () => {
  const vnet = new FakeVNet();
  const remoteVNet = newNodeId();
  let vnic: VNic;

  before(async () => {
    vnic = new VNic({ provider: testProvider(), vnet: await vnet.start(), heartbeatMs: 60_000 });
    await vnic.connect();
    // a peer VNet's slice, relayed by the local VNet as a real one does
    const peer = { id: remoteVNet, vnet: remoteVNet, alias: 'peer', role: 'vnet' as const, services: [] };
    const record = { ...peer, status: 'up' as const, startedAt: 0, updatedAt: 0 };
    vnet.control(vnic.id, {
      t: 'health',
      deltas: [{ vnet: remoteVNet, seq: 1, full: true, upsert: [record], remove: [] }],
    });
    await until(() => vnic.health.get(remoteVNet) !== undefined, 5000, 'the peer VNet in health');
  });

  after(async () => {
    await vnic.close();
    await vnet.close();
  });

  /** Sends `init` to the VNic as if some node had sent it through the VNet. */
  function forward(init: Partial<MessageInit> & { kind: Kind; source: NodeId }): void {
    vnet.linkOf(vnic.id).link.send(encodeMessage({ destination: vnic.id, ...init }));
  }

  /** Starts a request to `target` and returns it with the sequence the VNet saw. */
  async function requestTo(target: NodeId, progress: Incoming[] = []) {
    const frames = vnet.linkOf(vnic.id).frames;
    const before = frames.length;
    const promise = vnic.request({ node: target, service: 'svc' }, undefined, { onProgress: (p) => progress.push(p) });
    await until(() => frames.slice(before).some((f) => f[Offset.KIND] === Kind.REQUEST), 5000, 'the request');
    const req = frames.slice(before).find((f) => f[Offset.KIND] === Kind.REQUEST) as Buffer;
    return { promise, seq: req.readUInt32BE(Offset.SEQUENCE) };
  }

  test('REPLY, FAIL and PROGRESS from another node are dropped and counted; the target still completes it', async () => {
    const target = newNodeId();
    const rogue = newNodeId();
    const progress: Incoming[] = [];
    const { promise, seq } = await requestTo(target, progress);
    const forged = vnic.drops.forgedReplies;
    forward({ kind: Kind.REPLY, source: rogue, sequence: seq, payload: Buffer.from('forged') });
    forward({ kind: Kind.FAIL, source: rogue, sequence: seq, error: { code: 'L8_ERR_FORBIDDEN', message: 'forged' } });
    forward({ kind: Kind.PROGRESS, source: rogue, sequence: seq, payload: Buffer.from('forged') });
    forward({ kind: Kind.PROGRESS, source: target, sequence: seq, payload: Buffer.from('half') });
    forward({ kind: Kind.REPLY, source: target, sequence: seq, payload: Buffer.from('real') });
    const reply = await promise;
    assert.equal(reply.text(), 'real');
    assert.equal(reply.source, target);
    assert.deepEqual(
      progress.map((p) => p.text()),
      ['half'],
    );
    assert.equal(vnic.drops.forgedReplies, forged + 3);
  });

  test('a FAIL from this VNic’s VNet or from a node health lists as a VNet completes the request', async () => {
    for (const vnetId of [vnet.id, remoteVNet]) {
      const { promise, seq } = await requestTo(newNodeId());
      forward({ kind: Kind.FAIL, source: vnetId, sequence: seq, error: { code: 'L8_ERR_TTL', message: 'hops' } });
      await assert.rejects(promise, (e: L8Error) => e.code === 'L8_ERR_TTL');
    }
  });

  test('an answer whose service length runs past its end is dropped before it is read', async () => {
    const target = newNodeId();
    const { promise, seq } = await requestTo(target);
    const bad = encodeMessage({ kind: Kind.REPLY, source: target, destination: vnic.id, sequence: seq });
    bad[4 + Offset.SERVICE_LEN] = 255;
    const malformed = vnic.drops.malformed;
    vnet.linkOf(vnic.id).link.send(bad);
    forward({ kind: Kind.REPLY, source: target, sequence: seq, payload: Buffer.from('good') });
    assert.equal((await promise).text(), 'good');
    assert.equal(vnic.drops.malformed, malformed + 1);
  });

  test('a 67-byte REQUEST whose SERVICE_LEN says 255 is dropped and counted, never answered', async () => {
    vnic.subscribe({ service: 'svc', area: 0 }, () => 'served');
    const link = vnet.linkOf(vnic.id);
    const sender = newNodeId();
    const hostile = encodeMessage({ kind: Kind.REQUEST, source: sender, destination: vnic.id, sequence: 1 });
    const frame = Buffer.from(hostile.subarray(0, 4 + 67));
    frame.writeUInt32BE(67, 0);
    frame[4 + Offset.SERVICE_LEN] = 255;
    const malformed = vnic.drops.malformed;
    const from = link.frames.length;
    link.link.send(frame);
    forward({ kind: Kind.REQUEST, source: sender, service: 'svc', sequence: 2 });
    // frames on one link keep their order: once the second is answered, the first was handled
    await until(() => link.frames.slice(from).some((f) => f[Offset.KIND] === Kind.REPLY), 5000, 'the answer');
    const answers = link.frames.slice(from).filter((f) => f[Offset.KIND] !== Kind.CONTROL);
    assert.deepEqual(
      answers.map((f) => [f[Offset.KIND], f.readUInt32BE(Offset.SEQUENCE)]),
      [[Kind.REPLY, 2]],
    );
    assert.equal(vnic.drops.malformed, malformed + 1);
  });
});
