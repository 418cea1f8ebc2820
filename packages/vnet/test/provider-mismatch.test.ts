import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import { devProvider, type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';

/** What a VNet logged as `link refused`, by code. */
interface Refusal {
  readonly code: string;
  readonly err: string;
}

/** A VNet on `provider` on 127.0.0.1 and a unix socket, keeping the links it refused. */
async function vnetOn(provider: SecurityProvider, socketPath: string) {
  const refusals: Refusal[] = [];
  const logger = {
    info: () => undefined,
    warn: (o: object, msg?: string) => {
      if (msg === 'link refused') refusals.push(o as Refusal);
    },
  };
  const vnet = new VNet({ provider, host: '127.0.0.1', port: 0, socketPath, logger });
  await vnet.start();
  return { vnet, refusals, unix: { path: socketPath }, tcp: () => vnet.addresses.tcp };
}

type Target = Awaited<ReturnType<typeof vnetOn>>;

/**
 * A VNic on `provider` dials `address` of `target`: connect() must reject with L8_ERR_AUTH and `text`,
 * the VNic must stop (no retry), and the VNet must log that one refusal, not a handshake error per retry.
 */
async function refusedOnce(target: Target, provider: SecurityProvider, address: object, text: RegExp): Promise<void> {
  target.refusals.length = 0;
  const vnic = new VNic({ provider, vnet: address as { path: string } });
  await assert.rejects(vnic.connect(), (e: L8Error) => {
    assert.equal(e.code, 'L8_ERR_AUTH', e.message);
    assert.match(e.message, text);
    return true;
  });
  assert.equal(vnic.closedWith?.code, 'L8_ERR_AUTH', 'the VNic stopped instead of retrying');
  await waitFor(() => target.refusals.length > 0, { what: 'the VNet logged the refusal' });
  await vnic.close();
  assert.deepEqual(
    target.refusals.map((r) => r.code),
    ['L8_ERR_AUTH'],
    JSON.stringify(target.refusals),
  );
}

describe('a VNic of another security provider than its VNet', () => {
  const dir = tempDir();
  let overlay: TempOverlay;
  let tlsVNet: Target;
  let devVNet: Target;
  before(async () => {
    overlay = await tempOverlay(['svc'], { vnets: ['hub'] });
    tlsVNet = await vnetOn(overlay.provider('hub'), `${dir.path}/tls.sock`);
    devVNet = await vnetOn(devProvider(), `${dir.path}/dev.sock`);
  });
  after(async () => {
    await Promise.all([tlsVNet.vnet.close(), devVNet.vnet.close()]);
    overlay.remove();
    dir.remove();
  });

  test('a dev VNic against a TLS VNet over TCP fails at once with L8_ERR_AUTH: pass --security', async () => {
    const { host, port } = tlsVNet.tcp();
    const text = new RegExp(`^the VNet at ${host}:${port} uses the TLS provider: pass --security DIR --node NAME`);
    await refusedOnce(tlsVNet, devProvider(), { host, port }, text);
    assert.match(tlsVNet.refusals[0]?.err ?? '', /uses the dev provider/);
  });

  test('a dev VNic against a TLS VNet over the unix socket is told the same, not "wrong passphrase"', async () => {
    const text = /^the VNet at \S+tls\.sock uses the TLS provider: pass --security DIR --node NAME/;
    await refusedOnce(tlsVNet, devProvider(), tlsVNet.unix, text);
  });

  test('a TLS VNic against a dev VNet is told to use --dev, over TCP and the unix socket', async () => {
    const tcp = /^the VNet at \S+ does not speak TLS \(a dev-provider VNet\?\): join it with --dev/;
    await refusedOnce(devVNet, overlay.provider('svc'), devVNet.tcp(), tcp);
    const unix = /^the VNet at \S+dev\.sock uses the dev provider: join it with --dev/;
    await refusedOnce(devVNet, overlay.provider('svc'), devVNet.unix, unix);
  });

  test('a VNic of another overlay reads "not signed by this overlay\'s CA" over TCP and the unix socket', async () => {
    const alien = await tempOverlay(['stranger']);
    for (const address of [tlsVNet.tcp(), tlsVNet.unix]) {
      const vnic = new VNic({ provider: alien.provider('stranger'), vnet: address });
      await assert.rejects(vnic.connect(), (e: L8Error) => {
        assert.equal(e.code, 'L8_ERR_AUTH');
        // the VNic may put the address first
        assert.match(e.message, /^(\S+: )?certificate of (hub|the peer) is not signed by this overlay's CA/);
        assert.doesNotMatch(e.message, /self-signed/);
        return true;
      });
      await vnic.close();
    }
    alien.remove();
  });
});
