import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DevProvider, initSecurity, type PeerIdentity, revoke, SecurityFiles, TlsProvider } from '../src/index.ts';
import { tempDir } from './fixtures.ts';
import { listen } from './harness.ts';

/** Links `client` to `server` over `transport`; returns the peer each side proved, and closes the link. */
async function provenPeers(server: TlsProvider, client: TlsProvider, transport: 'tcp' | 'unix') {
  const l = await listen(transport);
  const [c, s] = await Promise.all([l.dial(), l.accept()]);
  const [cl, sl] = await Promise.all([client.secureClient(c, { transport }), server.secureServer(s, { transport })]);
  cl.stream.destroy();
  sl.stream.destroy();
  await l.close();
  return { seenByServer: sl.peer, seenByClient: cl.peer };
}

describe('TlsProvider.recheck: identities of open links', () => {
  for (const transport of ['tcp', 'unix'] as const) {
    it(`${transport}: a certificate revoked after its link opened is reported L8_ERR_CERT_REVOKED`, async () => {
      const dir = tempDir();
      await initSecurity({ dir, nodes: ['a', 'b', 'c'] });
      const a = new TlsProvider({ dir, node: 'a' });
      const b = await provenPeers(a, new TlsProvider({ dir, node: 'b' }), transport);
      const c = await provenPeers(a, new TlsProvider({ dir, node: 'c' }), transport);
      assert.equal(a.recheck(c.seenByServer), undefined);
      revoke(dir, 'c');
      assert.equal(a.recheck(c.seenByServer)?.code, 'L8_ERR_CERT_REVOKED');
      assert.equal(a.recheck(b.seenByServer), undefined);
      assert.equal(new TlsProvider({ dir, node: 'c' }).recheck(b.seenByClient), undefined);
    });
  }

  it('matches a revocation by serial alone for a certificate it proved', async () => {
    const dir = tempDir();
    const { nodes } = await initSecurity({ dir, nodes: ['a', 'b'] });
    const a = new TlsProvider({ dir, node: 'a' });
    const { seenByServer } = await provenPeers(a, new TlsProvider({ dir, node: 'b' }), 'tcp');
    const serial = nodes.find((n) => n.name === 'b')?.serial ?? '';
    const entry = { serial: serial.toUpperCase(), fingerprint: '', revokedAt: new Date().toISOString() };
    writeFileSync(join(dir, SecurityFiles.REVOKED), JSON.stringify({ revoked: [entry] }));
    assert.equal(a.recheck(seenByServer)?.code, 'L8_ERR_CERT_REVOKED');
    const stranger: PeerIdentity = { ...seenByServer, fingerprint: 'ab'.repeat(32) };
    assert.equal(a.recheck(stranger), undefined, 'an unknown fingerprint has no serial to match');
  });

  it('reports L8_ERR_CERT_EXPIRED once the clock passes notAfter, from the certificate', async () => {
    const dir = tempDir();
    await initSecurity({ dir, nodes: ['a', 'b'], validDays: 2 });
    const a = new TlsProvider({ dir, node: 'a' });
    const { seenByServer } = await provenPeers(a, new TlsProvider({ dir, node: 'b' }), 'unix');
    const notAfter = seenByServer.notAfter ?? 0;
    assert.ok(notAfter > Date.now() + 86_400_000 && notAfter < Date.now() + 3 * 86_400_000);
    assert.equal(a.recheck(seenByServer, notAfter), undefined);
    assert.equal(a.recheck(seenByServer, notAfter + 1)?.code, 'L8_ERR_CERT_EXPIRED');
  });

  it('the dev provider has nothing to recheck', () => {
    const dev = new DevProvider({ passphrase: 'passphrase', warn: () => undefined });
    assert.equal(dev.recheck({ provider: 'dev', subject: 'dev', role: 'any' }), undefined);
  });
});
