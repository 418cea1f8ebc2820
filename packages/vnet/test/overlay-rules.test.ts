import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DEFAULT_HOPS,
  decodeMessage,
  encodeMessage,
  Kind,
  type L8Error,
  type Message,
  Mode,
  newNodeId,
} from '@layer8/protocol';
import { type TempOverlay, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { helloOf, type RogueLink, rogueLink } from './hostile-kit.ts';

/** Decoded data frames (not CONTROL) a raw link received. */
function dataFrames(rogue: RogueLink): Message[] {
  return rogue.frames.filter((f) => f[1] !== Kind.CONTROL).map((f) => decodeMessage(f));
}

/** Waits for the FAIL frame answering request `sequence` on a raw link. */
function failOf(rogue: RogueLink, sequence: number): Promise<Message> {
  return waitFor(() => dataFrames(rogue).find((m) => m.kind === Kind.FAIL && m.sequence === sequence), {
    what: `FAIL for request ${sequence}`,
  });
}

/**
 * The overlay's routing rules across two VNets on the TLS provider: VNet a on 127.0.0.2 with VNics a1
 * and a2, VNet b on 127.0.0.3 (peered to a) with VNic b1.
 */
describe('overlay rules across two VNets (TLS)', () => {
  let overlay: TempOverlay;
  let a: VNet;
  let b: VNet;
  let a1: VNic;
  let a2: VNic;
  let b1: VNic;
  /** Every message each VNic's handlers received, by VNic alias. */
  const got = new Map<string, Message[]>();

  const record =
    (n: VNic) =>
    (m: { message: Message }): { by: string } => {
      got.set(n.alias, [...(got.get(n.alias) ?? []), m.message]);
      return { by: n.alias };
    };
  const gotOn = (n: VNic, service: string): Message[] => (got.get(n.alias) ?? []).filter((m) => m.service === service);

  before(async () => {
    overlay = await tempOverlay(['svc'], { vnets: ['host-a', 'host-b', 'host-x'] });
    a = new VNet({ provider: overlay.provider('host-a'), host: '127.0.0.2', port: 0, socketPath: false });
    await a.start();
    b = new VNet({
      provider: overlay.provider('host-b'),
      host: '127.0.0.3',
      port: 0,
      socketPath: false,
      peers: [a.addresses.tcp],
    });
    await b.start();
    const vnic = (alias: string, on: VNet): VNic =>
      new VNic({ provider: overlay.provider('svc'), vnet: on.addresses.tcp, alias });
    [a1, a2, b1] = [vnic('a1', a), vnic('a2', a), vnic('b1', b)];
    await Promise.all([a1.connect(), a2.connect(), b1.connect()]);
    for (const n of [a1, a2, b1]) {
      n.subscribe({ service: 'chat', area: 2 }, record(n));
      n.subscribe({ service: 'hops', area: 0 }, record(n));
    }
    b1.subscribe({ service: 'ledger', area: 0 }, record(b1));
    b1.subscribe({ service: 'whoami', area: 0 }, (m, ctx) => {
      // the header accessors, the decoded message and the handler context must agree
      assert.equal(m.identity, m.message.aaa);
      assert.equal(ctx.identity, m.message.aaa);
      assert.equal(m.traceparent, m.message.traceparent);
      return { aaa: m.message.aaa, traceparent: m.message.traceparent ?? null };
    });
    await waitFor(
      () =>
        [a1, a2, b1].every(
          (n) => n.health.instances('chat', 2).length === 3 && n.health.instances('whoami', 0).length === 1,
        ),
      { what: 'services replicated' },
    );
  });

  after(async () => {
    await Promise.all([a1, a2, b1].map((n) => n?.close()));
    await Promise.all([a?.close(), b?.close()]);
    overlay?.remove();
  });

  describe('leader mode', () => {
    test('without a resolver a request fails at the VNic with L8_ERR_NO_LEADER and sends nothing', async () => {
      const toB = a.forwardedPerPeer()[b.id] ?? 0;
      const drops = { ...a.drops };
      await assert.rejects(
        a1.request({ service: 'ledger', mode: 'leader' }),
        (e: L8Error) => e.code === 'L8_ERR_NO_LEADER',
      );
      // a request that follows on the same link is answered; the refused one never reached the VNet
      assert.deepEqual((await a1.request({ node: b1.id, service: 'ledger' })).json(), { by: 'b1' });
      assert.equal((a.forwardedPerPeer()[b.id] ?? 0) - toB, 1, 'only the second request crossed to VNet b');
      assert.deepEqual(a.drops, drops);
    });

    test('with a resolver the request goes to the resolved leader, across VNets', async () => {
      const asked: string[] = [];
      a1.setLeaderResolver((service, area) => {
        asked.push(`${area}/${service}`);
        return service === 'ledger' ? b1.id : undefined;
      });
      try {
        const r = await a1.request({ service: 'ledger', mode: 'leader' }, 'x');
        assert.equal(r.source, b1.id);
        assert.deepEqual(asked, ['0/ledger']);
        assert.equal(gotOn(b1, 'ledger').at(-1)?.mode, Mode.LEADER, 'sent in leader mode, routed by its destination');
      } finally {
        a1.setLeaderResolver(undefined);
      }
      await assert.rejects(
        a1.request({ service: 'ledger', mode: 'leader' }),
        (e: L8Error) => e.code === 'L8_ERR_NO_LEADER',
      );
    });

    test('the VNet refuses a LEADER-mode request without a destination with L8_ERR_NO_LEADER', async () => {
      const rogue = await rogueLink(overlay.provider('svc'), a.addresses.tcp);
      try {
        const [ledger, noLeader] = [gotOn(b1, 'ledger').length, a.drops.noLeader];
        const leaderFrame = (kind: Kind, sequence: number): Buffer =>
          encodeMessage({ kind, mode: Mode.LEADER, source: rogue.id, service: 'ledger', sequence });
        rogue.link.send(leaderFrame(Kind.NOTIFY, 0));
        rogue.link.send(leaderFrame(Kind.REQUEST, 7));
        const fail = await failOf(rogue, 7);
        assert.equal(fail.error?.code, 'L8_ERR_NO_LEADER');
        assert.equal(fail.destination, rogue.id);
        assert.equal(fail.source, a.id);
        // the one-way message before it was dropped without an answer; neither reached the instance
        assert.deepEqual(
          dataFrames(rogue).map((m) => [m.kind, m.sequence]),
          [[Kind.FAIL, 7]],
        );
        assert.equal(gotOn(b1, 'ledger').length, ledger);
        assert.equal(a.drops.noLeader - noLeader, 2, 'both refusals counted, the one-way one too');
      } finally {
        rogue.link.close();
      }
    });
  });

  describe('hop count', () => {
    test('every VNet-to-VNet hop takes one from the hop count', async () => {
      const [onA2, onB1] = [gotOn(a2, 'hops').length, gotOn(b1, 'hops').length];
      a1.send({ node: a2.id, service: 'hops', area: 0 }, 'same VNet');
      a1.send({ node: b1.id, service: 'hops', area: 0 }, 'across');
      await waitFor(() => gotOn(a2, 'hops').length === onA2 + 1 && gotOn(b1, 'hops').length === onB1 + 1);
      assert.equal(gotOn(a2, 'hops').at(-1)?.hops, DEFAULT_HOPS);
      assert.equal(gotOn(b1, 'hops').at(-1)?.hops, DEFAULT_HOPS - 1);
    });

    test('a frame with no hop left is refused with L8_ERR_TTL instead of crossing to a peer VNet', async () => {
      const rogue = await rogueLink(overlay.provider('svc'), a.addresses.tcp);
      try {
        await waitFor(() => rogue.controls.some((c) => c.t === 'health'), { what: 'the rogue link attached' });
        const [ttl, toB, ledger] = [a.drops.ttl, a.forwardedPerPeer()[b.id] ?? 0, gotOn(b1, 'ledger').length];
        const spent = (kind: Kind, sequence: number): Buffer =>
          encodeMessage({ kind, hops: 0, source: rogue.id, destination: b1.id, service: 'ledger', sequence });
        rogue.link.send(spent(Kind.NOTIFY, 0));
        rogue.link.send(spent(Kind.REQUEST, 9));
        const fail = await failOf(rogue, 9);
        assert.equal(fail.error?.code, 'L8_ERR_TTL');
        assert.equal(a.drops.ttl - ttl, 2, 'both frames counted, the one-way one without an answer');
        assert.equal((a.forwardedPerPeer()[b.id] ?? 0) - toB, 0, 'nothing crossed to VNet b');
        // the same request with a hop left does cross
        rogue.link.send(
          encodeMessage({
            kind: Kind.REQUEST,
            hops: 1,
            source: rogue.id,
            destination: b1.id,
            service: 'ledger',
            sequence: 10,
          }),
        );
        await waitFor(() => dataFrames(rogue).some((m) => m.kind === Kind.REPLY && m.sequence === 10));
        assert.equal(gotOn(b1, 'ledger').length, ledger + 1);
        assert.equal(gotOn(b1, 'ledger').at(-1)?.hops, 0);
      } finally {
        rogue.link.close();
      }
    });

    test('a frame a peer VNet sends with no hop left is counted, not delivered; a request is answered L8_ERR_TTL', async () => {
      const peer = await rogueLink(overlay.provider('host-x'), b.addresses.tcp, helloOf(newNodeId(), 'vnet'));
      try {
        await waitFor(() => b.peers.has(peer.id), { what: 'the hand-made peer attached' });
        const [ttl, hops] = [b.drops.ttl, gotOn(b1, 'hops').length];
        const frame = (left: number, payload: string): Buffer =>
          encodeMessage({
            kind: Kind.NOTIFY,
            hops: left,
            source: peer.id,
            origin: peer.id,
            destination: b1.id,
            service: 'hops',
            payload: Buffer.from(payload),
          });
        peer.link.send(frame(0, 'spent'));
        peer.link.send(frame(1, 'last hop'));
        // frames of one link are handled in order: once the second arrived, the first was decided
        await waitFor(() => gotOn(b1, 'hops').length === hops + 1, { what: 'the frame with a hop left' });
        assert.equal(b.drops.ttl - ttl, 1);
        const delivered = gotOn(b1, 'hops').at(-1)!;
        assert.equal(Buffer.from(delivered.payload).toString(), 'last hop');
        assert.equal(delivered.hops, 0, 'the hop was taken on arrival');
        peer.link.send(
          encodeMessage({
            kind: Kind.REQUEST,
            hops: 0,
            source: peer.id,
            destination: b1.id,
            service: 'hops',
            sequence: 9,
          }),
        );
        assert.equal((await failOf(peer, 9)).error?.code, 'L8_ERR_TTL');
        assert.equal(gotOn(b1, 'hops').length, hops + 1, 'the spent request never reached the handler');
      } finally {
        peer.link.close();
      }
    });
  });

  test('a multicast reaches every other subscriber exactly once and skips the sender', async () => {
    const before = new Map([a1, a2, b1].map((n) => [n.alias, gotOn(n, 'chat').length]));
    const toB = a.forwardedPerPeer()[b.id] ?? 0;
    a1.multicast({ service: 'chat', area: 2 }, 'm1');
    a1.multicast({ service: 'chat', area: 2 }, 'm2');
    const texts = (n: VNic): string[] =>
      gotOn(n, 'chat')
        .slice(before.get(n.alias))
        .map((m) => Buffer.from(m.payload).toString());
    // each path is FIFO: once m2 is in, any extra copy of m1 would have come before it
    await waitFor(() => texts(a2).includes('"m2"') && texts(b1).includes('"m2"'), { what: 'm2 delivered' });
    // and a round trip over a1's own link comes after any copy its VNet could have sent it
    await a1.request({ node: b1.id, service: 'ledger' });
    assert.deepEqual(texts(a2), ['"m1"', '"m2"']);
    assert.deepEqual(texts(b1), ['"m1"', '"m2"']);
    assert.deepEqual(texts(a1), [], 'the sender does not get its own message');
    assert.equal((a.forwardedPerPeer()[b.id] ?? 0) - toB, 3, 'one copy per message to VNet b, plus the request');
  });

  test('the identity (aaa) and traceparent of a request reach a handler on another VNet', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = await a1.request({ node: b1.id, service: 'whoami' }, undefined, {
      identity: 'token-of-alice',
      traceparent,
    });
    assert.deepEqual(traced.json(), { aaa: 'token-of-alice', traceparent });
    const other = await a2.request({ service: 'whoami' }, undefined, { identity: 'token-of-bob' });
    assert.deepEqual(other.json(), { aaa: 'token-of-bob', traceparent: null });
    // nothing carries over to a later request of the same VNic
    const plain = await a1.request({ node: b1.id, service: 'whoami' });
    assert.deepEqual(plain.json(), { aaa: '', traceparent: null });
  });
});
