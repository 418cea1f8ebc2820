import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeControl, l8error, newNodeId } from '@layer8/protocol';
import { type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic, type VNicOptions } from '@layer8/vnic';
import { HOT_COUNT } from '@layer8/vnic/internal';

const NODES = ['a', 'b', 'c', 'tcp', 'off'];

describe('the same-host short cut (TLS provider)', { timeout: 60_000 }, () => {
  let ca: TempOverlay;
  let vnet: VNet;
  const dir = tempDir('l8-direct-');
  const directDir = `${dir.path}/d`;
  const nics: VNic[] = [];
  const nic = async (name: string, o: Partial<VNicOptions> = {}): Promise<VNic> => {
    const vnic = new VNic({
      provider: ca.provider(name),
      alias: name,
      vnet: { path: vnet.addresses.unix as string },
      direct: { dir: directDir },
      ...o,
    });
    await vnic.connect();
    nics.push(vnic);
    return vnic;
  };
  /** Enough requests to `service` for its node to be worth a direct link (a hot destination). */
  const warm = async (from: VNic, service: string): Promise<void> => {
    for (let i = 0; i < HOT_COUNT; i++) await from.request({ service }, 0);
  };
  const forwardedTo = (id: string): number => [...vnet.locals.values()].find((c) => c.id === id)?.forwarded ?? 0;

  before(async () => {
    ca = await tempOverlay(NODES, { vnets: ['v'] });
    vnet = new VNet({ provider: ca.provider('v'), host: '127.0.0.2', port: 0, socketPath: `${dir.path}/v.sock` });
    await vnet.start();
  });

  after(async () => {
    await Promise.all(nics.map((n) => n.close()));
    await vnet.close();
    ca.remove();
    dir.remove();
  });

  test('requests between two local VNics go direct once introduced; identity, answers and errors as switched', async () => {
    const b = await nic('b');
    const a = await nic('a');
    b.subscribe({ service: 'echo' }, (m, ctx) => ({ got: m.json(), source: ctx.source, identity: ctx.identity }));
    b.subscribe({ service: 'fails' }, () => {
      throw l8error('L8_ERR_CONFLICT', 'no');
    });
    await waitFor(() => a.health.instances('echo', 0).length === 1, { what: 'a sees echo' });
    await a.request({ service: 'echo' }, 0);
    assert.equal(a.direct.open, 0, 'not for one request');
    await warm(a, 'echo');
    await waitFor(() => a.direct.open === 1 && b.direct.open === 1, { what: 'a direct link' });
    const before = forwardedTo(b.id);
    const answers = forwardedTo(a.id);
    for (let i = 1; i <= 50; i++) {
      const r = (await a.request({ service: 'echo' }, i, { identity: 'alice' })).json() as Record<string, unknown>;
      assert.deepEqual(r, { got: i, source: a.id, identity: 'alice' });
    }
    await assert.rejects(a.request({ service: 'fails' }), { code: 'L8_ERR_CONFLICT' });
    assert.equal(forwardedTo(b.id), before, 'the VNet forwarded nothing more to b');
    assert.equal(forwardedTo(a.id), answers, 'nor any answer to a');
    assert.equal(vnet.control.introductions.counters.introduced, 1);
  });

  test('a VNic with the short cut off, or attached over TCP, stays on the switched path', async () => {
    const off = await nic('off', { direct: false });
    const tcp = await nic('tcp', { vnet: vnet.addresses.tcp });
    off.subscribe({ service: 'plain' }, () => 'p');
    const a = nics.find((n) => n.alias === 'a') as VNic;
    await waitFor(() => a.health.instances('plain', 0).length === 1, { what: 'a sees plain' });
    const before = forwardedTo(off.id);
    for (let i = 0; i < HOT_COUNT; i++) assert.equal((await a.request({ service: 'plain' })).json(), 'p');
    await waitFor(() => a.direct.refused >= 1, { what: 'the introduction refused' });
    assert.ok(forwardedTo(off.id) >= before + HOT_COUNT, 'every request crossed the VNet');
    await waitFor(() => tcp.health.instances('echo', 0).length === 1, { what: 'tcp sees echo' });
    for (let i = 0; i < HOT_COUNT; i++)
      assert.deepEqual(((await tcp.request({ service: 'echo' }, i)).json() as { got: number }).got, i);
    await waitFor(() => tcp.direct.refused >= 1, { what: 'a TCP node is not introduced' });
    assert.equal(tcp.direct.open, 0);
  });

  test('a dial without a valid introduction is refused and the VNic keeps serving', async () => {
    const b = nics.find((n) => n.alias === 'b') as VNic;
    const refused = b.direct.refused;
    const socket = connect({ path: `${directDir}/${b.id}.sock` });
    await new Promise((r) => socket.once('connect', r));
    const forged = newNodeId();
    socket.write(encodeControl(forged, { t: 'hello', node: forged, token: 'A'.repeat(22), maxFrame: 1 << 20 }));
    await new Promise((r) => socket.once('close', r));
    await waitFor(() => b.direct.refused > refused, { what: 'b refused the forged dial' });
    const a = nics.find((n) => n.alias === 'a') as VNic;
    assert.equal(((await a.request({ service: 'echo' }, 7)).json() as { got: number }).got, 7);
  });

  test('a node that leaves is dropped from its direct peers at once', async () => {
    const c = await nic('c');
    c.subscribe({ service: 'gone' }, () => 'g');
    const a = nics.find((n) => n.alias === 'a') as VNic;
    await waitFor(() => a.health.instances('gone', 0).length === 1, { what: 'a sees gone' });
    await warm(a, 'gone');
    await waitFor(() => c.direct.open === 1, { what: 'a link to c' });
    const open = a.direct.open;
    await c.close();
    await waitFor(() => a.direct.open === open - 1, { what: 'a dropped its link to c' });
    await assert.rejects(a.request({ service: 'gone' }), { code: 'L8_ERR_NO_SERVICE' });
  });
});
