import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { initSecurity, issueNodeCert, loadRevocations, RevocationList, revoke, SecurityFiles } from '../src/index.ts';
import { tempDir } from './fixtures.ts';

const mode = (file: string): number => statSync(file).mode & 0o777;
const cert = (file: string): X509Certificate => new X509Certificate(readFileSync(file));

describe('initSecurity', () => {
  for (const algorithm of ['P-256', 'Ed25519'] as const) {
    it(`${algorithm}: writes the CA, node certificates, token keys and an empty revocation list`, async () => {
      const dir = join(tempDir(), 'sec');
      const r = await initSecurity({ dir, nodes: ['n1', 'n2'], algorithm });
      assert.deepEqual(
        r.nodes.map((n) => n.name),
        ['n1', 'n2'],
      );
      for (const f of ['ca.key', 'n1.key', 'n2.key', 'token.key']) assert.equal(mode(join(dir, f)), 0o600, f);
      for (const f of ['ca.crt', 'token.pub', 'revoked.json']) assert.ok(existsSync(join(dir, f)), f);
      const ca = cert(join(dir, 'ca.crt'));
      const n1 = cert(join(dir, 'n1.crt'));
      assert.equal(ca.ca, true);
      assert.equal(n1.ca, false);
      assert.ok(n1.checkIssued(ca) && n1.verify(ca.publicKey));
      assert.equal(n1.subject, 'OU=vnic\nCN=n1');
      assert.deepEqual(n1.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      assert.match(
        n1.subjectAltName ?? '',
        /DNS:n1, DNS:localhost, IP Address:127\.0\.0\.1, .*IP Address:0:0:0:0:0:0:0:1/,
      );
      assert.equal(n1.publicKey.asymmetricKeyType, algorithm === 'P-256' ? 'ec' : 'ed25519');
      assert.equal(r.caFingerprint, ca.fingerprint256.replaceAll(':', '').toLowerCase());
    });
  }

  it('refuses to replace an existing CA unless told to', async () => {
    const dir = tempDir();
    await initSecurity({ dir });
    await assert.rejects(initSecurity({ dir }), { code: 'L8_ERR_INVALID_ARGUMENT' });
    const before = readFileSync(join(dir, 'ca.crt'), 'utf8');
    await initSecurity({ dir, overwrite: true });
    assert.notEqual(readFileSync(join(dir, 'ca.crt'), 'utf8'), before);
  });

  it('refuses invalid node names before writing anything', async () => {
    const dir = join(tempDir(), 'x');
    for (const name of ['../evil', 'ca', '', 'a b', '.hidden']) {
      await assert.rejects(initSecurity({ dir, nodes: [name] }), { code: 'L8_ERR_INVALID_ARGUMENT' }, name);
    }
    assert.equal(existsSync(dir), false);
  });
});

describe('issueNodeCert', () => {
  it('issues with custom names and validity, including one already expired', async () => {
    const dir = tempDir();
    await initSecurity({ dir, validDays: 30 });
    const san = { dns: ['vnet.example'], ips: ['10.0.0.7', 'fe80::1', '2001:db8::8:800:200c:417a'] };
    const issued = await issueNodeCert(dir, 'edge', { san, validDays: 2 });
    const c = cert(issued.certFile);
    assert.match(
      c.subjectAltName ?? '',
      /DNS:edge, DNS:vnet\.example, IP Address:10\.0\.0\.7, IP Address:FE80:0:0:0:0:0:0:1/i,
    );
    assert.match(c.subjectAltName ?? '', /2001:DB8:0:0:8:800:200C:417A/i);
    assert.ok(Date.parse(c.validTo) - Date.now() < 3 * 86_400_000);
    const old = cert((await issueNodeCert(dir, 'old', { validDays: -1 })).certFile);
    assert.ok(Date.parse(old.validTo) < Date.now() && Date.parse(old.validFrom) < Date.parse(old.validTo));
    assert.equal(issued.serial, c.serialNumber.toLowerCase().replace(/^0+/, ''));
  });

  it('needs a CA key and valid IP addresses', async () => {
    const dir = tempDir();
    await assert.rejects(issueNodeCert(dir, 'n'), { code: 'L8_ERR_INVALID_ARGUMENT' });
    await initSecurity({ dir });
    await assert.rejects(issueNodeCert(dir, 'n', { san: { ips: ['not-an-ip'] } }), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });
});

describe('revoke', () => {
  it('adds serial and fingerprint to revoked.json once, and writes a CRL', async () => {
    const dir = tempDir();
    const { nodes } = await initSecurity({ dir, nodes: ['a', 'b'] });
    const entry = revoke(dir, 'a');
    assert.equal(entry.fingerprint, nodes[0]?.fingerprint);
    revoke(dir, 'a');
    revoke(dir, join(dir, 'b.crt'));
    const body = JSON.parse(readFileSync(join(dir, SecurityFiles.REVOKED), 'utf8')) as { revoked: unknown[] };
    assert.equal(body.revoked.length, 2);
    assert.match(readFileSync(join(dir, SecurityFiles.CRL), 'utf8'), /^-----BEGIN X509 CRL-----/);
    const list = loadRevocations(dir);
    assert.equal(list.has(cert(join(dir, 'a.crt'))), true);
    assert.throws(() => revoke(dir, 'nobody'), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  it('matches serials in any case and with leading zeros, and refuses a broken file', async () => {
    const dir = tempDir();
    await initSecurity({ dir, nodes: ['a'] });
    const c = cert(join(dir, 'a.crt'));
    assert.equal(new RevocationList([{ serial: `00${c.serialNumber.toUpperCase()}`, fingerprint: '' }]).has(c), true);
    assert.equal(new RevocationList([{ serial: '', fingerprint: c.fingerprint256 }]).has(c), true);
    assert.equal(new RevocationList().has(c), false);
    writeFileSync(join(dir, SecurityFiles.REVOKED), '{ nope');
    assert.throws(() => loadRevocations(dir), { code: 'L8_ERR_INVALID_ARGUMENT' });
    writeFileSync(join(dir, SecurityFiles.REVOKED), '{}');
    assert.equal(loadRevocations(dir).has(c), false);
  });
});
