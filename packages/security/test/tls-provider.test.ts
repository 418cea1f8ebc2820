import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect } from 'node:tls';
import { Action, encodeMessage, Kind, Offset, ZERO_NODE_ID } from '@layer8/protocol';
import { addUser, initSecurity, revoke, TlsProvider } from '../src/index.ts';
import { tempDir } from './fixtures.ts';
import { closed, listen, rejection } from './harness.ts';

async function overlay(): Promise<string> {
  const dir = tempDir();
  await initSecurity({ dir, nodes: ['a', 'b', 'c'] });
  return dir;
}

async function link(server: TlsProvider, client: TlsProvider, transport: 'tcp' | 'unix') {
  const l = await listen(transport);
  const [c, s] = await Promise.all([l.dial(), l.accept()]);
  const links = await Promise.allSettled([
    client.secureClient(c, { transport }),
    server.secureServer(s, { transport }),
  ]);
  await l.close();
  return links;
}

describe('TlsProvider: links', () => {
  it('reports the peer CN and SHA-256 fingerprint on both transports', async () => {
    const dir = await overlay();
    const a = new TlsProvider({ dir, node: 'a' });
    const b = new TlsProvider({ dir, node: 'b' });
    const fp = (n: string): string =>
      new X509Certificate(readFileSync(join(dir, `${n}.crt`))).fingerprint256.replaceAll(':', '').toLowerCase();
    for (const transport of ['tcp', 'unix'] as const) {
      const [cr, sr] = await link(a, b, transport);
      assert.ok(cr.status === 'fulfilled' && sr.status === 'fulfilled');
      const notAfter = (n: string): number =>
        Date.parse(new X509Certificate(readFileSync(join(dir, `${n}.crt`))).validTo);
      const peer = (n: string) => ({
        provider: 'tls',
        subject: n,
        fingerprint: fp(n),
        role: 'vnic',
        notAfter: notAfter(n),
      });
      assert.deepEqual(sr.value.peer, peer('b'));
      assert.deepEqual(cr.value.peer, peer('a'));
      cr.value.stream.destroy();
      sr.value.stream.destroy();
    }
  });

  it('applies a revocation written after start at the next handshake', async () => {
    const dir = await overlay();
    const a = new TlsProvider({ dir, node: 'a' });
    const c = new TlsProvider({ dir, node: 'c' });
    revoke(dir, 'c');
    const [cr, sr] = await link(a, c, 'tcp');
    assert.ok(cr.status === 'rejected' && sr.status === 'rejected');
    assert.equal(sr.reason.code, 'L8_ERR_CERT_REVOKED');
    assert.equal(cr.reason.code, 'L8_ERR_CERT_REVOKED');
  });

  it('works from PEM strings with a fixed revocation list', async () => {
    const dir = await overlay();
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    const pem = (n: string) => ({ ca: read('ca.crt'), cert: read(`${n}.crt`), key: read(`${n}.key`) });
    const revoked = revoke(dir, 'c');
    const a = new TlsProvider({ pem: { ...pem('a'), revoked: [revoked] } });
    const [ok] = await link(a, new TlsProvider({ pem: pem('b') }), 'unix');
    assert.equal(ok.status, 'fulfilled');
    if (ok.status === 'fulfilled') ok.value.stream.destroy();
    const [, sr] = await link(a, new TlsProvider({ pem: pem('c') }), 'unix');
    assert.ok(sr.status === 'rejected' && sr.reason.code === 'L8_ERR_CERT_REVOKED');
  });

  it('refuses a TLS member whose first frame is protocol version 2 with L8_ERR_VERSION', async () => {
    const dir = await overlay();
    const a = new TlsProvider({ dir, node: 'a' });
    const l = await listen('tcp');
    const [c, s] = await Promise.all([l.dial(), l.accept()]);
    const server = a.secureServer(s, { transport: 'tcp' });
    const tlsClient = connect({
      socket: c,
      ca: readFileSync(join(dir, 'ca.crt')),
      cert: readFileSync(join(dir, 'b.crt')),
      key: readFileSync(join(dir, 'b.key')),
      checkServerIdentity: () => undefined,
    });
    tlsClient.on('error', () => undefined).on('data', () => undefined);
    const v2 = encodeMessage({ kind: Kind.CONTROL, source: ZERO_NODE_ID, payload: Buffer.from('{"t":"accept"}') });
    v2[4 + Offset.VERSION] = 2;
    tlsClient.write(v2);
    assert.equal((await rejection(server)).code, 'L8_ERR_VERSION');
    await closed(tlsClient);
    await l.close();
  });

  it('needs dir and node, or pem, and complete files', () => {
    assert.throws(() => new TlsProvider({}), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.throws(() => new TlsProvider({ dir: tempDir(), node: 'a' }), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  it('allows every address', async () => {
    const p = new TlsProvider({ pem: pemOf(await overlay()) });
    p.checkAddress('10.1.2.3');
  });
});

describe('TlsProvider: users, tokens, ACL and secrets', () => {
  it('logs users in on one node and validates the token on another', async () => {
    const dir = await overlay();
    await addUser(dir, 'ann', 'ann-password', ['ops']);
    const a = new TlsProvider({ dir, node: 'a' });
    const b = new TlsProvider({ dir, node: 'b', tokenTtlSeconds: 60 });
    const token = await a.authenticateUser('ann', 'ann-password');
    const who = await b.validateToken(token);
    assert.deepEqual([who.user, who.roles], ['ann', ['ops']]);
    assert.equal((await rejection(a.authenticateUser('ann', 'wrong-password'))).code, 'L8_ERR_AUTH');
    assert.equal((await rejection(a.authenticateUser('nobody', 'ann-password'))).code, 'L8_ERR_AUTH');
  });

  it('a node without token.key validates but cannot log users in; without token.pub it refuses tokens', async () => {
    const dir = await overlay();
    await addUser(dir, 'ann', 'ann-password', ['ops']);
    const token = await new TlsProvider({ dir, node: 'a' }).authenticateUser('ann', 'ann-password');
    rmSync(join(dir, 'token.key'));
    const edge = new TlsProvider({ dir, node: 'b' });
    assert.equal((await edge.validateToken(token)).user, 'ann');
    assert.equal((await rejection(edge.authenticateUser('ann', 'ann-password'))).code, 'L8_ERR_AUTH');
    rmSync(join(dir, 'token.pub'));
    assert.equal((await rejection(new TlsProvider({ dir, node: 'c' }).validateToken(token))).code, 'L8_ERR_AUTH');
    const other = await overlay();
    assert.equal(
      (await rejection(new TlsProvider({ dir: other, node: 'a' }).validateToken(token))).code,
      'L8_ERR_AUTH',
    );
  });

  it('expired tokens fail with L8_ERR_TOKEN_EXPIRED', async () => {
    const dir = await overlay();
    await addUser(dir, 'ann', 'ann-password', []);
    const p = new TlsProvider({ dir, node: 'a', tokenTtlSeconds: -1 });
    const err = await rejection(p.validateToken(await p.authenticateUser('ann', 'ann-password')));
    assert.equal(err.code, 'L8_ERR_TOKEN_EXPIRED');
  });

  it('authorises by acl.json (allow all without it, admin always) and scopes results', async () => {
    const dir = await overlay();
    const p = new TlsProvider({ dir, node: 'a' });
    const bob = { user: 'bob', roles: ['reader'] };
    assert.equal(p.canDoAction(bob, Action.DELETE, 'orders', 0), true);
    const acl = {
      rules: [{ role: 'reader', service: 'orders', actions: ['GET'] }],
      scopes: [{ service: 'orders', field: 'owner' }],
    };
    writeFileSync(join(dir, 'acl.json'), JSON.stringify(acl));
    p.reload();
    assert.equal(p.canDoAction(bob, Action.DELETE, 'orders', 0), false);
    assert.equal(p.canDoAction(bob, Action.GET, 'orders', 0), true);
    assert.equal(p.canDoAction({ user: 'root', roles: ['admin'] }, Action.DELETE, 'orders', 0), true);
    assert.deepEqual(p.scope(bob, 'orders', [{ owner: 'bob' }, { owner: 'x' }]), [{ owner: 'bob' }]);
  });

  it('reads secrets from the secrets directory, refusing path tricks', async () => {
    const dir = await overlay();
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'db-password'), 's3cret\n');
    const p = new TlsProvider({ dir, node: 'a' });
    assert.equal(await p.secret('db-password'), 's3cret');
    assert.equal(await p.secret('absent'), undefined);
    await assert.rejects(p.secret('../a.key'), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.equal(await new TlsProvider({ pem: pemOf(dir) }).secret('db-password'), undefined);
  });
});

function pemOf(dir: string) {
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return { ca: read('ca.crt'), cert: read('a.crt'), key: read('a.key') };
}
