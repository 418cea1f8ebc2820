import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet, type VNetLogger } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';

/** A VNet logger that keeps the codes of its warnings, by message. */
function warnings(): VNetLogger & { codes(msg: string): string[] } {
  const seen: { msg: string | undefined; code: string }[] = [];
  return {
    info: () => undefined,
    warn: (obj, msg) => void seen.push({ msg, code: String((obj as { code?: unknown }).code) }),
    codes: (msg) => seen.filter((w) => w.msg === msg).map((w) => w.code),
  };
}

describe('an overlay on the default TLS provider', () => {
  let overlay: TempOverlay;
  let stranger: TempOverlay;
  const dir = tempDir();
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    overlay = await tempOverlay(['svc'], { vnets: ['host-a', 'host-b'] });
    stranger = await tempOverlay(['svc'], { vnets: ['host-c'], algorithm: 'Ed25519' });
  });

  after(async () => {
    for (const c of closers.reverse()) await c();
    overlay.remove();
    stranger.remove();
    dir.remove();
  });

  test('VNets peer over mutual TLS 1.3, VNics join over unix (proof) and TCP (TLS), requests cross', async () => {
    const a = new VNet({
      provider: overlay.provider('host-a'),
      host: '127.0.0.2',
      port: 0,
      socketPath: `${dir.path}/a.sock`,
    });
    await a.start();
    closers.push(() => a.close());
    const b = new VNet({
      provider: overlay.provider('host-b'),
      host: '127.0.0.3',
      port: 0,
      socketPath: false,
      peers: [a.addresses.tcp],
    });
    await b.start();
    closers.push(() => b.close());
    const onA = new VNic({ provider: overlay.provider('svc'), vnet: { path: `${dir.path}/a.sock` } });
    const onB = new VNic({ provider: overlay.provider('svc'), vnet: b.addresses.tcp });
    await Promise.all([onA.connect(), onB.connect()]);
    closers.push(
      () => onA.close(),
      () => onB.close(),
    );
    onA.subscribe({ service: 'orders', area: 3 }, (m) => ({ echo: m.json() }));
    await waitFor(() => onB.health.instances('orders', 3).length === 1);
    const r = await onB.request({ service: 'orders', area: 3 }, { id: 42 });
    assert.deepEqual(r.json(), { echo: { id: 42 } });
    assert.equal(a.peers.get(b.id)?.opened.peer.subject, 'host-b');
  });

  test('a VNic or VNet of another overlay is refused and changes nothing', async () => {
    const aLog = warnings();
    const a = new VNet({
      provider: overlay.provider('host-a'),
      host: '127.0.0.2',
      port: 0,
      socketPath: `${dir.path}/a2.sock`,
      logger: aLog,
    });
    await a.start();
    closers.push(() => a.close());
    const rogueNic = new VNic({ provider: stranger.provider('svc'), vnet: a.addresses.tcp });
    await assert.rejects(rogueNic.connect(), (e: L8Error) => ['L8_ERR_AUTH', 'L8_ERR_HANDSHAKE'].includes(e.code));
    await rogueNic.close();
    const rogueUnix = new VNic({ provider: stranger.provider('svc'), vnet: { path: `${dir.path}/a2.sock` } });
    await assert.rejects(rogueUnix.connect(), (e: L8Error) => e.code === 'L8_ERR_AUTH');
    await rogueUnix.close();
    const refusedBefore = aLog.codes('link refused').length;
    const cLog = warnings();
    const c = new VNet({
      provider: stranger.provider('host-c'),
      host: '127.0.0.4',
      port: 0,
      socketPath: false,
      peers: [a.addresses.tcp],
      logger: cLog,
    });
    await c.start();
    closers.push(() => c.close());
    await waitFor(
      () => cLog.codes('peer dial failed').length > 0 && aLog.codes('link refused').length > refusedBefore,
      {
        what: "the stranger VNet's dial refused on both ends",
      },
    );
    for (const code of aLog.codes('link refused').slice(refusedBefore))
      assert.ok(['L8_ERR_AUTH', 'L8_ERR_HANDSHAKE'].includes(code), code);
    assert.equal(a.peers.size, 0);
    assert.equal(a.health.size, 1);
    assert.equal(c.peers.size, 0);
    assert.equal(c.health.size, 1);
  });
});
