import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { LinkTransport } from '@layer8/link';
import type { L8Error } from '@layer8/protocol';
import {
  acceptLink,
  dialLink,
  initSecurity,
  issueNodeCert,
  type OpenedLink,
  roleOf,
  TlsProvider,
} from '../src/index.ts';
import { issueCustomCert, tempDir } from './fixtures.ts';
import { helloOf, serve } from './harness.ts';

const cert = (dir: string, name: string): X509Certificate =>
  new X509Certificate(readFileSync(join(dir, `${name}.crt`)));

describe('certificate roles: issuing', () => {
  it('initSecurity writes OU=vnic for nodes and OU=vnet for vnets; issueNodeCert takes a role', async () => {
    const dir = tempDir();
    const r = await initSecurity({ dir, nodes: ['svc'], vnets: ['hub'] });
    assert.deepEqual(
      r.nodes.map((n) => [n.name, n.role]),
      [
        ['svc', 'vnic'],
        ['hub', 'vnet'],
      ],
    );
    assert.equal(cert(dir, 'svc').subject, 'OU=vnic\nCN=svc');
    assert.equal(cert(dir, 'hub').subject, 'OU=vnet\nCN=hub');
    assert.equal((await issueNodeCert(dir, 'hub-2', { role: 'vnet' })).role, 'vnet');
    assert.equal(roleOf(cert(dir, 'hub-2')), 'vnet');
    assert.equal((await issueNodeCert(dir, 'svc-2')).role, 'vnic');
  });

  it('refuses a name given as node and VNet, and an unknown role, before writing', async () => {
    const dir = join(tempDir(), 'x');
    await assert.rejects(initSecurity({ dir, nodes: ['a'], vnets: ['a'] }), { code: 'L8_ERR_INVALID_ARGUMENT' });
    const ok = tempDir();
    await initSecurity({ dir: ok });
    await assert.rejects(issueNodeCert(ok, 'n', { role: 'admin' as 'vnet' }), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  it('a certificate without a role or with another unit counts as vnic, whatever its name', async () => {
    const dir = tempDir();
    await initSecurity({ dir });
    issueCustomCert(dir, 'legacy');
    issueCustomCert(dir, 'other', { unit: 'ops' });
    issueCustomCert(dir, 'vnet', { unit: 'vnic' });
    for (const name of ['legacy', 'other', 'vnet']) assert.equal(roleOf(cert(dir, name)), 'vnic', name);
  });
});

describe('certificate roles: on links', () => {
  let dir: string;
  before(async () => {
    dir = tempDir();
    await initSecurity({ dir, nodes: ['svc'], vnets: ['hub-a', 'hub-b'] });
    issueCustomCert(dir, 'legacy');
  });
  const provider = (node: string): TlsProvider => new TlsProvider({ dir, node });

  /** `client` dials `server` (a VNet) with dialLink, claiming `role` in its hello; both outcomes. */
  async function join(client: string, role: 'vnic' | 'vnet', transport: LinkTransport) {
    let accepted!: Promise<PromiseSettledResult<OpenedLink>>;
    const srv = await serve(transport, (s) => {
      accepted = settle(acceptLink(provider('hub-a'), s, transport, helloOf('vnet')));
    });
    const dialed = await settle(dialLink(provider(client), srv.address, helloOf(role)));
    const result = { dialed, accepted: await accepted };
    for (const r of [result.dialed, result.accepted]) if (r.status === 'fulfilled') r.value.stream.destroy();
    await srv.close();
    return result;
  }

  for (const transport of ['tcp', 'unix'] as const) {
    it(`${transport}: the proven peer carries the certificate's role; VNet and VNic certificates join as such`, async () => {
      const vnet = await join('hub-b', 'vnet', transport);
      assert.ok(vnet.accepted.status === 'fulfilled' && vnet.dialed.status === 'fulfilled');
      assert.equal(vnet.accepted.value.peer.role, 'vnet');
      assert.equal(vnet.dialed.value.peer.role, 'vnet');
      const vnic = await join('svc', 'vnic', transport);
      assert.ok(vnic.accepted.status === 'fulfilled');
      assert.equal(vnic.accepted.value.peer.role, 'vnic');
    });

    it(`${transport}: a VNic or role-less certificate claiming vnet is refused with L8_ERR_IDENTITY on both sides`, async () => {
      for (const client of ['svc', 'legacy']) {
        const r = await join(client, 'vnet', transport);
        assert.equal(codeOf(r.accepted), 'L8_ERR_IDENTITY', client);
        assert.equal(codeOf(r.dialed), 'L8_ERR_IDENTITY', client);
      }
    });

    it(`${transport}: a VNet certificate cannot join as a VNic`, async () => {
      const r = await join('hub-b', 'vnic', transport);
      assert.equal(codeOf(r.accepted), 'L8_ERR_IDENTITY');
    });
  }
});

function settle<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return Promise.allSettled([p]).then(([r]) => r as PromiseSettledResult<T>);
}

function codeOf(r: PromiseSettledResult<unknown>): string {
  return r.status === 'rejected' ? (r.reason as L8Error).code : 'joined';
}
