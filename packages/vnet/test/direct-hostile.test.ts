import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FramedLink } from '@layer8/link';
import {
  type ControlBody,
  controlBody,
  decodeMessage,
  encodeControl,
  encodeMessage,
  Kind,
  type MessageInit,
  Mode,
  type NodeId,
  newNodeId,
  Offset,
  ZERO_NODE_ID,
} from '@layer8/protocol';
import { initSecurity, revoke, TlsProvider } from '@layer8/security';
import { tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { HOT_COUNT } from '@layer8/vnic/internal';
import { codeOf, helloOf, type RogueLink, rogueLink } from './hostile-kit.ts';

/** What the VNet tells a node it introduced: where the other listens and both tokens. */
type Introduced = { readonly path: string; readonly token: string; readonly reply: string };

/** A direct link dialled by hand, as a member holding a token from the VNet can dial one. */
class HandDial {
  readonly frames: Buffer[] = [];
  readonly link: FramedLink;
  closed = false;

  constructor(socket: ReturnType<typeof connect>) {
    this.link = new FramedLink(socket, {
      onFrame: (f) => this.frames.push(Buffer.from(f)),
      onClose: () => {
        this.closed = true;
      },
    }).start();
  }

  /** The listener's welcome, once it came. */
  welcome(): ControlBody | undefined {
    const f = this.frames[0];
    return f?.[Offset.KIND] === Kind.CONTROL ? controlBody(decodeMessage(f)) : undefined;
  }

  /** The answer to request `seq`, once it came. */
  answer(seq: number): Buffer | undefined {
    return this.frames.find((f) => f[Offset.KIND] !== Kind.CONTROL && f.readUInt32BE(Offset.SEQUENCE) === seq);
  }
}

/** Asks the VNet, as the member `r`, for an introduction to `node`. */
async function introduction(r: RogueLink, node: NodeId): Promise<Introduced> {
  const seen = r.controls.length;
  r.link.send(encodeControl(r.id, { t: 'introduce', node }));
  const body = await waitFor(() => r.controls.slice(seen).find((c) => c.t === 'introduced' && c.node === node), {
    what: 'the introduction',
  });
  assert.equal(body.refused, undefined, 'the VNet introduced the member');
  return body as unknown as Introduced;
}

/** Dials a direct socket and says hello as `id` with `token`; `after` goes in the same write. */
async function dialDirect(path: string, id: NodeId, token: string, after?: Buffer): Promise<HandDial> {
  const socket = connect({ path });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const d = new HandDial(socket);
  d.link.send(encodeControl(id, { t: 'hello', node: id, token, maxFrame: 1 << 20 }));
  if (after !== undefined) d.link.send(after);
  return d;
}

/** A request frame from `source` to `destination` (service `service`, payload `text`). */
function requestFrame(source: NodeId, destination: NodeId, service: string, seq: number, text: string): Buffer {
  return encodeMessage({ kind: Kind.REQUEST, source, destination, service, sequence: seq, payload: Buffer.from(text) });
}

/**
 * The same-host short cut against hostile members (docs/overlay.md, "Same host"): a revoked certificate
 * loses its direct links at once, even when its holder keeps its end open, and a frame an established
 * direct link may not carry closes that link, is counted, and reaches no handler.
 */
describe('the same-host short cut against a hostile member (TLS provider)', { timeout: 60_000 }, () => {
  const dir = tempDir('l8-dh-');
  const sec = `${dir.path}/sec`;
  const directDir = `${dir.path}/d`;
  let vnet: VNet;
  const tls = (node: string): TlsProvider => new TlsProvider({ dir: sec, node });
  const closers: (() => unknown)[] = [];
  let seq = 1;

  const nic = async (name: string): Promise<VNic> => {
    const v = new VNic({
      provider: tls(name),
      alias: name,
      vnet: { path: `${dir.path}/v.sock` },
      direct: { dir: directDir },
    });
    closers.push(() => v.close());
    await v.connect();
    return v;
  };
  /** A member with `name`'s certificate driven by hand over the VNet's unix socket, up at `seenBy`. */
  const member = async (name: string, seenBy: readonly VNic[]): Promise<RogueLink> => {
    const hello = helloOf(newNodeId(), 'vnic', { heartbeatMs: 60_000 });
    const r = await rogueLink(tls(name), { path: `${dir.path}/v.sock` }, hello);
    closers.push(() => r.link.close());
    await waitFor(() => seenBy.every((v) => v.health.get(r.id)?.status === 'up'), { what: `${name} up` });
    return r;
  };
  /** Opens a direct link from `r` to `to` and proves it with one request to `service` answered over it. */
  const openDirect = async (r: RogueLink, to: NodeId, service: string): Promise<HandDial> => {
    const i = await introduction(r, to);
    const d = await dialDirect(i.path, r.id, i.token);
    assert.equal((await waitFor(() => d.welcome(), { what: 'the welcome' })).reply, i.reply);
    const s = seq++;
    d.link.send(requestFrame(r.id, to, service, s, `honest-${s}`));
    const answer = await waitFor(() => d.answer(s), { what: 'an answer over the direct link' });
    assert.equal(answer[Offset.KIND], Kind.REPLY);
    return d;
  };

  before(async () => {
    await initSecurity({ dir: sec, nodes: ['a', 'b', 'c', 'd', 'e', 'r'], vnets: ['v'] });
    // recheckMs: open links are re-checked against the revocation list (as the CLI's VNet does)
    vnet = new VNet({
      provider: tls('v'),
      host: '127.0.0.2',
      port: 0,
      socketPath: `${dir.path}/v.sock`,
      recheckMs: 50,
    });
    await vnet.start();
  });

  after(async () => {
    for (const c of closers.reverse()) await c();
    await vnet.close();
    dir.remove();
  });

  test("a revoked certificate's direct links close", async () => {
    const [a, b, c] = [await nic('a'), await nic('b'), await nic('c')];
    const reachedA: string[] = [];
    a.subscribe({ service: 'at-a' }, (m) => reachedA.push(m.text()));
    b.subscribe({ service: 'at-b' }, () => 'b');
    b.subscribe({ service: 'hold' }, () => new Promise(() => undefined));
    c.subscribe({ service: 'at-c' }, () => 'c');
    await waitFor(() => ['at-b', 'hold', 'at-c'].every((s) => a.health.instances(s, 0).length === 1), {
      what: 'a sees every service',
    });
    for (let i = 0; i < HOT_COUNT; i++) assert.equal((await a.request({ service: 'at-b' })).json(), 'b');
    await waitFor(() => a.direct.open === 1 && b.direct.open === 1, { what: 'the direct link a to b' });
    // another holder of b's certificate, which does not close its end when refused, and keeps a token
    const rb = await member('b', [a]);
    const old = await openDirect(rb, a.id, 'at-a');
    const spare = await introduction(rb, a.id);
    await waitFor(() => a.direct.open === 2, { what: "the revoked side's link to a" });
    const held = codeOf(a.request({ service: 'hold' }));
    await waitFor(() => b.handlers.inFlight === 1, { what: 'a request in flight over the direct link' });

    revoke(sec, 'b');
    await waitFor(() => b.closedWith !== undefined, { what: 'b refused for good' });
    assert.equal(b.closedWith?.code, 'L8_ERR_CERT_REVOKED');
    assert.equal(await held, 'L8_ERR_UNREACHABLE', 'the request in flight fails, it does not hang');
    await waitFor(() => old.closed, { what: "a closed the revoked member's direct link" });
    await waitFor(() => a.direct.open === 0, { what: 'a has no direct link left' });
    assert.equal(await codeOf(a.request({ service: 'at-b' })), 'L8_ERR_NO_SERVICE');
    assert.equal(await codeOf(a.request({ node: b.id, service: 'at-b' })), 'L8_ERR_UNREACHABLE');

    // the token handed out before the revocation: refused before any frame written with it is handled
    await waitFor(() => a.health.get(rb.id)?.status !== 'up', { what: 'a no longer shows the revoked member up' });
    const refused = a.direct.refused;
    const late = await dialDirect(spare.path, rb.id, spare.token, requestFrame(rb.id, a.id, 'at-a', seq++, 'late'));
    await waitFor(() => late.closed, { what: 'a refused the late dial' });
    assert.equal(reachedA.length, 1, 'nothing from the revoked side reached a after the revocation');
    assert.equal(late.welcome(), undefined, 'no welcome for a revoked node');
    assert.equal(a.direct.refused, refused + 1);
    assert.equal(a.direct.open, 0);

    // a keeps working with another VNic, over a direct link
    for (let i = 0; i < HOT_COUNT; i++) assert.equal((await a.request({ service: 'at-c' })).json(), 'c');
    await waitFor(() => a.direct.open === 1 && c.direct.open === 1, { what: 'the direct link a to c' });
    assert.equal((await a.request({ service: 'at-c' })).json(), 'c');
  });

  test('a spoofed frame on an established direct link closes that link', async () => {
    const [d, e] = [await nic('d'), await nic('e')];
    const reached: string[] = [];
    e.subscribe({ service: 'echo' }, (m) => {
      reached.push(m.text());
      return 'ok';
    });
    await waitFor(() => d.health.instances('echo', 0).length === 1, { what: 'd sees echo' });
    for (let i = 0; i < HOT_COUNT; i++) assert.equal((await d.request({ service: 'echo' })).json(), 'ok');
    await waitFor(() => d.direct.open === 1 && e.direct.open === 1, { what: 'the direct link d to e' });
    const opened = d.direct.opened;
    const r = await member('r', [e]);

    // not a violation: an answer to no request of e's (a late answer is legitimate) is dropped, the link stays
    const first = await openDirect(r, e.id, 'echo');
    const stray = { kind: Kind.REPLY, source: r.id, destination: e.id, sequence: 0x7fff_fff0 } as const;
    first.link.send(encodeMessage({ ...stray, payload: Buffer.from('spoofed: a stray answer') }));
    const s = seq++;
    first.link.send(requestFrame(r.id, e.id, 'echo', s, `honest-${s}`));
    await waitFor(() => first.answer(s), { what: 'the answer after the stray one' });
    assert.equal(first.closed, false);
    assert.equal(e.direct.spoofed, 0);
    first.link.close();
    await waitFor(() => e.direct.open === 1, { what: 'the first link closed' });

    const cases: { what: string; init?: Partial<MessageInit>; patch?: readonly [number, number] }[] = [
      { what: 'a source other than the introduced node (another member)', init: { source: d.id } },
      { what: 'a destination other than this node (another member)', init: { destination: d.id } },
      { what: 'a multicast', init: { kind: Kind.NOTIFY, mode: Mode.MULTICAST, destination: ZERO_NODE_ID } },
      { what: 'a one-way message', init: { kind: Kind.NOTIFY } },
      { what: 'an overlay event', init: { kind: Kind.EVENT } },
      { what: 'a control frame', init: { kind: Kind.CONTROL } },
      { what: 'an unknown kind', patch: [Offset.KIND, 8] },
      { what: 'kind zero', patch: [Offset.KIND, 0] },
      { what: 'another protocol version', patch: [Offset.VERSION, 2] },
    ];
    for (const c of cases) {
      // a fresh introduction each time: the VNet still introduces a member whose link was closed
      const link = await openDirect(r, e.id, 'echo');
      const spoofed: number = e.direct.spoofed;
      const init = { kind: Kind.REQUEST, source: r.id, destination: e.id, service: 'echo', sequence: seq++ } as const;
      const frame = encodeMessage({ ...init, payload: Buffer.from(`spoofed: ${c.what}`), ...c.init });
      if (c.patch !== undefined) frame[4 + c.patch[0]] = c.patch[1];
      link.link.send(frame);
      await waitFor(() => link.closed, { what: `e closed the link on ${c.what}` });
      assert.equal(e.direct.spoofed, spoofed + 1, `${c.what} is counted`);
      assert.equal(e.direct.open, 1, `${c.what}: only the link from d is left`);
    }
    assert.deepEqual(
      reached.filter((t) => t.startsWith('spoofed')),
      [],
      'no spoofed payload reached the handler',
    );

    // the member's switched path still works; d's direct link was never touched
    const s2 = seq++;
    r.link.send(requestFrame(r.id, e.id, 'echo', s2, 'switched'));
    await waitFor(() => r.frames.some((f) => f[Offset.KIND] === Kind.REPLY && f.readUInt32BE(Offset.SEQUENCE) === s2), {
      what: 'the answer over the VNet',
    });
    assert.equal((await d.request({ service: 'echo' })).json(), 'ok');
    assert.equal(d.direct.open, 1);
    assert.equal(d.direct.opened, opened, "d's link stayed open");
  });
});
