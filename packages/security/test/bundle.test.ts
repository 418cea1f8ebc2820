import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { addUser, exportNodeBundle, initSecurity, type PeerIdentity, revoke, TlsProvider } from '../src/index.ts';
import { tempDir } from './fixtures.ts';
import { listen, rejection } from './harness.ts';

const mode = (file: string): number => statSync(file).mode & 0o777;

function peerOf(dir: string, name: string): PeerIdentity {
  const cert = new X509Certificate(readFileSync(join(dir, `${name}.crt`)));
  return {
    provider: 'tls',
    subject: name,
    role: 'vnic',
    fingerprint: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}

async function authority(): Promise<string> {
  const dir = tempDir();
  await initSecurity({ dir, nodes: ['svc', 'gw'], vnets: ['hub'] });
  await addUser(dir, 'ann', 'ann-password', ['ops']);
  return dir;
}

describe('exportNodeBundle: a node gets only what it needs', () => {
  it('writes the CA certificate, its own pair, token.pub, revoked.json and acl.json; 0600 files in a 0700 dir', async () => {
    const dir = await authority();
    writeFileSync(join(dir, 'acl.json'), '{}');
    const out = join(tempDir(), 'svc-bundle');
    const b = exportNodeBundle(dir, 'svc', out);
    const expected = ['acl.json', 'ca.crt', 'revoked.json', 'svc.crt', 'svc.key', 'token.pub'];
    assert.deepEqual(readdirSync(out).sort(), expected);
    assert.deepEqual([...b.files].sort(), expected);
    assert.equal(b.role, 'vnic');
    assert.equal(mode(out), 0o700);
    for (const f of expected) assert.equal(mode(join(out, f)), 0o600, f);
    assert.equal(exportNodeBundle(dir, 'hub', join(tempDir(), 'hub')).role, 'vnet');
  });

  it('a TlsProvider on the bundle links and validates tokens but cannot sign them (L8_ERR_AUTH)', async () => {
    const dir = await authority();
    const out = join(tempDir(), 'svc');
    exportNodeBundle(dir, 'svc', out);
    const edge = new TlsProvider({ dir: out, node: 'svc' });
    const token = await new TlsProvider({ dir, node: 'gw' }).authenticateUser('ann', 'ann-password');
    assert.equal((await edge.validateToken(token)).user, 'ann');
    assert.equal((await rejection(edge.authenticateUser('ann', 'ann-password'))).code, 'L8_ERR_AUTH');
    const l = await listen('unix');
    const [c, s] = await Promise.all([l.dial(), l.accept()]);
    const [cl, sl] = await Promise.all([
      edge.secureClient(c, { transport: 'unix' }),
      new TlsProvider({ dir, node: 'hub' }).secureServer(s, { transport: 'unix' }),
    ]);
    assert.equal(sl.peer.subject, 'svc');
    cl.stream.destroy();
    sl.stream.destroy();
    await l.close();
  });

  it('tokenSigner adds token.key and users.json for the gateway, which then logs users in', async () => {
    const dir = await authority();
    const out = join(tempDir(), 'gw');
    exportNodeBundle(dir, 'gw', out, { tokenSigner: true });
    assert.ok(existsSync(join(out, 'token.key')) && existsSync(join(out, 'users.json')));
    assert.equal(existsSync(join(out, 'ca.key')), false);
    const gw = new TlsProvider({ dir: out, node: 'gw' });
    assert.equal((await gw.validateToken(await gw.authenticateUser('ann', 'ann-password'))).user, 'ann');
  });

  it('refreshes revoked.json with overwrite and drops signing files a refresh was not asked for', async () => {
    const dir = await authority();
    const out = join(tempDir(), 'gw');
    exportNodeBundle(dir, 'gw', out, { tokenSigner: true });
    assert.throws(() => exportNodeBundle(dir, 'gw', out), { code: 'L8_ERR_INVALID_ARGUMENT' });
    revoke(dir, 'svc');
    exportNodeBundle(dir, 'gw', out, { overwrite: true });
    assert.equal(existsSync(join(out, 'token.key')), false);
    assert.equal(existsSync(join(out, 'users.json')), false);
    assert.equal(new TlsProvider({ dir: out, node: 'gw' }).recheck(peerOf(dir, 'svc'))?.code, 'L8_ERR_CERT_REVOKED');
  });

  it('refuses an unknown node, the authority directory itself, and a non-empty directory', async () => {
    const dir = await authority();
    assert.throws(() => exportNodeBundle(dir, 'nobody', join(tempDir(), 'x')), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.throws(() => exportNodeBundle(dir, 'svc', dir, { overwrite: true }), { code: 'L8_ERR_INVALID_ARGUMENT' });
    const busy = join(tempDir(), 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes'), 'x');
    assert.throws(() => exportNodeBundle(dir, 'svc', busy), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });
});
