import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ContentType, encodeMessage, FrameDecoder, Kind, newNodeId, ZERO_NODE_ID } from '@layer8/protocol';
import { devProvider, tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { helloOf } from './hostile-kit.ts';

/**
 * Finding 8 (dev provider, the one whose proof a network attacker can see): an attacker without the
 * passphrase gets a VNet to dial it (what one forged discovery beacon does), relays the VNet's own
 * challenge, proof and acceptance into a second connection to the same VNet, then sends a hello of its
 * own with a service. Before proofs named both ends, that joined; now the relayed proof is refused.
 */
describe('a relayed membership proof does not join (dev provider)', () => {
  const dir = tempDir('l8-relay-');
  let vnet: VNet;
  let relay: Server;
  const refused: string[] = [];
  const evil = newNodeId();

  before(async () => {
    vnet = new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: `${dir.path}/v.sock` });
    await vnet.start();
    relay = createServer((fromVNet) => relayInto(fromVNet, vnet.addresses.tcp.port));
    await new Promise<void>((r) => relay.listen(0, '127.0.0.5', r));
  });

  after(async () => {
    await vnet.close();
    await new Promise((r) => relay.close(r));
    dir.remove();
  });

  /** Forwards the dialler's first three frames (challenge, proof, accept), then injects the attacker's hello. */
  function relayInto(fromVNet: Socket, port: number): void {
    const toVNet = connect(port, '127.0.0.2');
    let forwarded = 0;
    const decoder = new FrameDecoder((frame) => {
      if (forwarded++ < 3) toVNet.write(prefixed(frame));
      else if (forwarded === 4) toVNet.write(helloFrame());
    });
    fromVNet.on('data', (d: Buffer) => decoder.push(d)).on('error', () => undefined);
    toVNet.on('data', (d: Buffer) => {
      refused.push(d.toString('latin1'));
      fromVNet.write(d);
    });
    toVNet.on('error', () => undefined).on('close', () => fromVNet.destroy());
  }

  test('the VNet refuses the relayed proof and nothing of the attacker appears', async () => {
    const address = relay.address() as { port: number };
    vnet.addPeer({ host: '127.0.0.5', port: address.port });
    await waitFor(() => refused.some((s) => s.includes('L8_ERR_IDENTITY')), { what: 'relayed proof refused' });
    assert.equal(vnet.peers.size, 0);
    assert.equal(vnet.locals.size, 0);
    assert.equal(vnet.health.get(evil), undefined);
    assert.equal(vnet.health.instances('evil', 0).length, 0);
  });

  function helloFrame(): Buffer {
    const hello = { t: 'hello', ...helloOf(evil, 'vnic', { services: [{ service: 'evil', area: 0 }] }) };
    const payload = Buffer.from(JSON.stringify(hello));
    return encodeMessage({ kind: Kind.CONTROL, source: ZERO_NODE_ID, contentType: ContentType.CONTROL, payload });
  }
});

function prefixed(frame: Buffer): Buffer {
  const out = Buffer.alloc(4 + frame.length);
  out.writeUInt32BE(frame.length, 0);
  frame.copy(out, 4);
  return out;
}
