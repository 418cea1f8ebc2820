import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { encodeMessage, Kind, type L8Error, type MessageInit, type NodeId, newNodeId, Offset } from '@layer8/protocol';
import { initSecurity, TlsProvider } from '@layer8/security';
import { tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { type Incoming, VNic, type VNicOptions } from '@layer8/vnic';
import { helloOf, rogueLink } from './hostile-kit.ts';

/** A rogue member: a link of its own certificate that sends whatever frames a test writes. */
interface Rogue {
  readonly id: NodeId;
  readonly received: Buffer[];
  send(init: Partial<MessageInit> & { kind: Kind }): void;
  sendRaw(prefixed: Buffer): void;
  close(): void;
}

/** A handler that holds every call until `release()`, counting what runs at once. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const seen = { running: 0, max: 0, ran: 0, sequences: [] as number[] };
  const handler = async (m: Incoming): Promise<string> => {
    seen.ran++;
    seen.sequences.push(m.message.sequence);
    seen.max = Math.max(seen.max, ++seen.running);
    await gate;
    seen.running--;
    return 'real';
  };
  return { handler, seen, release: () => open() };
}

/** Fills the rest of this process's allocUnsafe pool with `secret`, over and over. */
function spill(secret: Buffer): void {
  const probe = Buffer.allocUnsafe(1);
  const rest = new Uint8Array(probe.buffer, probe.byteOffset + 1);
  for (let i = 0; i < rest.length; i++) rest[i] = secret[i % secret.length] as number;
}

describe('hostile frames on a real VNet (TLS): leaks, forged replies, floods', () => {
  const dir = tempDir('l8-ca-');
  const closers: (() => Promise<void> | void)[] = [];
  let vnet: VNet;

  const provider = (node: string) => new TlsProvider({ dir: dir.path, node });

  async function vnic(node: string, options: Partial<VNicOptions> = {}): Promise<VNic> {
    const v = new VNic({ provider: provider(node), vnet: vnet.addresses.tcp, ...options });
    closers.push(() => v.close());
    await v.connect();
    return v;
  }

  async function rogue(): Promise<Rogue> {
    const r = await rogueLink(
      provider('rogue'),
      vnet.addresses.tcp,
      helloOf(newNodeId(), 'vnic', { heartbeatMs: 60_000 }),
    );
    closers.push(() => r.link.close());
    return {
      id: r.id,
      received: r.frames,
      send: (init) => r.link.send(encodeMessage({ source: r.id, ...init })),
      sendRaw: (prefixed) => r.link.send(prefixed),
      close: () => r.link.close(),
    };
  }

  before(async () => {
    // VNet-role certificate for the switch (OU=vnet), VNic certificates for the rest
    await initSecurity({
      dir: dir.path,
      nodes: ['victim', 'requester', 'server', 'rogue', 'client', 'busy', 'client-2', 'busy-2'],
      vnets: ['switch'],
    });
    vnet = new VNet({ provider: provider('switch'), host: '127.0.0.2', port: 0, socketPath: false });
    await vnet.start();
  });

  after(async () => {
    for (const c of closers.reverse()) await c();
    await vnet.close();
    dir.remove();
  });

  test('a 67-byte REQUEST whose SERVICE_LEN says 255 leaks nothing: the VNet drops and counts it', async () => {
    const victim = await vnic('victim');
    victim.subscribe({ service: 'vault', area: 0 }, () => 'nothing for you');
    const secret = Buffer.from(`victim-secret-${randomBytes(8).toString('hex')}`);
    const r = await rogue();
    const malformed = vnet.drops.malformed;

    const hostile = encodeMessage({ kind: Kind.REQUEST, source: r.id, destination: victim.id, sequence: 1 });
    const frame = Buffer.from(hostile.subarray(0, 4 + 67));
    frame.writeUInt32BE(67, 0);
    frame[4 + Offset.SERVICE_LEN] = 255;
    spill(secret);
    r.sendRaw(frame);
    // an honest request on the same link: once its answer is back, the hostile frame was handled
    r.send({ kind: Kind.REQUEST, destination: victim.id, service: 'no-such', sequence: 2 });
    await waitFor(() => r.received.some((f) => f[Offset.KIND] === Kind.FAIL), { what: 'the honest answer' });

    const answers = r.received.filter((f) => f[Offset.KIND] !== Kind.CONTROL);
    assert.deepEqual(
      answers.map((f) => f.readUInt32BE(Offset.SEQUENCE)),
      [2],
      'nothing answers the hostile frame',
    );
    for (const a of answers) assert.equal(a.includes(secret.subarray(0, 12)), false, 'no secret in any answer');
    assert.equal(vnet.drops.malformed, malformed + 1);
    assert.equal(victim.drops.malformed, 0, 'it never reached the victim');
  });

  test('REPLY and FAIL frames from another member (sequences 1-64, random, and the real one) do not resolve a request', async () => {
    const requester = await vnic('requester');
    const server = await vnic('server');
    const { handler, seen, release } = gated();
    server.subscribe({ service: 'slow', area: 0 }, handler);
    const r = await rogue();

    let settled = false;
    const pending = requester.request({ node: server.id, service: 'slow' });
    void pending.finally(() => (settled = true)).catch(() => undefined);
    await waitFor(() => seen.sequences.length === 1, { what: 'the request at the server' });
    const real = seen.sequences[0] as number;

    const forged = (sequence: number) => ({
      kind: Kind.REPLY,
      destination: requester.id,
      service: 'slow',
      sequence,
      payload: Buffer.from('forged'),
    });
    for (let seq = 1; seq <= 64; seq++) r.send(forged(seq));
    for (let i = 0; i < 64; i++) r.send(forged(randomBytes(4).readUInt32BE(0)));
    r.send({ ...forged(real), kind: Kind.FAIL, error: { code: 'L8_ERR_FORBIDDEN', message: 'forged' } });
    r.send(forged(real));
    // the last two carry the pending sequence: once both are counted, every earlier frame was handled
    await waitFor(() => requester.drops.forgedReplies >= 2, { what: 'the forged replies counted' });
    assert.equal(settled, false, 'the request is still pending');

    release();
    const reply = await pending;
    assert.equal(reply.json(), 'real');
    assert.equal(reply.source, server.id);
  });

  test('a flood of requests: in flight never exceeds the bound, the excess gets L8_ERR_BACKPRESSURE, the queue completes', async () => {
    const bound = { maxHandlersInFlight: 8, maxQueuedRequests: 32 };
    const busy = await vnic('busy', bound);
    const client = await vnic('client');
    const { handler, seen, release } = gated();
    busy.subscribe({ service: 'slow', area: 0 }, handler);

    const flood = Array.from({ length: 500 }, () => client.request({ node: busy.id, service: 'slow' }));
    const outcomes = flood.map((p) =>
      p.then(
        (reply) => reply.json<string>(),
        (e: L8Error) => e.code,
      ),
    );
    const refused: string[] = [];
    for (const o of outcomes) void o.then((v) => v === 'L8_ERR_BACKPRESSURE' && refused.push(v));
    await waitFor(() => refused.length === 500 - 8 - 32, { what: 'the excess refused' });
    assert.deepEqual(busy.handlers, { inFlight: 8, queued: 32 });
    assert.equal(busy.drops.backpressure, 460);

    for (let i = 0; i < 3; i++) client.send({ node: busy.id, service: 'slow', area: 0 }, 'one-way');
    await waitFor(() => busy.drops.notifies === 3, { what: 'notifies beyond the bound dropped' });

    release();
    const results = await Promise.all(outcomes);
    assert.equal(results.filter((x) => x === 'real').length, 40);
    assert.equal(results.filter((x) => x === 'L8_ERR_BACKPRESSURE').length, 460);
    assert.deepEqual([seen.max, seen.ran], [8, 40]);
    assert.deepEqual(busy.handlers, { inFlight: 0, queued: 0 });
  });

  test('a queued request whose deadline passes is answered L8_ERR_TIMEOUT without running', async () => {
    const busy = await vnic('busy-2', { maxHandlersInFlight: 1 });
    const client = await vnic('client-2');
    const { handler, seen, release } = gated();
    busy.subscribe({ service: 'slow', area: 0 }, handler);
    const first = client.request({ node: busy.id, service: 'slow' });
    await waitFor(() => seen.ran === 1, { what: 'the first request running' });
    const late = client.request({ node: busy.id, service: 'slow' }, undefined, { timeoutMs: 100 });
    await assert.rejects(late, (e: L8Error) => e.code === 'L8_ERR_TIMEOUT');
    await waitFor(() => busy.drops.expired === 1, { what: 'the queued request expired at the service' });
    release();
    assert.equal((await first).json(), 'real');
    assert.equal(seen.ran, 1, 'the expired request never ran');
  });
});
