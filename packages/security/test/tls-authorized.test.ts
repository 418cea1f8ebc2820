import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { acceptLink, dialLink, initSecurity, ProofChannel, revoke, TlsProvider } from '../src/index.ts';
import { issueCustomCert, tempDir } from './fixtures.ts';
import { helloOf, listen, rejection, serve } from './harness.ts';

/**
 * The TLS handshake's own verdict counts on both sides: `authorized` must be true before our checks run.
 * A server-side bare `TLSSocket` never sets it (it ignores `rejectUnauthorized`), so these certificates,
 * signed by the overlay CA but refused by OpenSSL (wrong extended key usage), used to get in.
 */
describe('TLS links: OpenSSL must authorize the peer on both sides', () => {
  let dir: string;
  before(async () => {
    dir = tempDir();
    await initSecurity({ dir, nodes: ['a', 'gone'], vnets: ['hub'] });
    revoke(dir, 'gone');
    issueCustomCert(dir, 'server-only', { unit: 'vnic', usages: ['serverAuth'] });
    issueCustomCert(dir, 'client-only', { unit: 'vnic', usages: ['clientAuth'] });
  });
  const provider = (node: string): TlsProvider => new TlsProvider({ dir, node });

  async function link(server: TlsProvider, client: TlsProvider) {
    const l = await listen('tcp');
    const [c, s] = await Promise.all([l.dial(), l.accept()]);
    const r = await Promise.allSettled([
      client.secureClient(c, { transport: 'tcp' }),
      server.secureServer(s, { transport: 'tcp' }),
    ]);
    for (const x of r) if (x.status === 'fulfilled') x.value.stream.destroy();
    await l.close();
    return r;
  }

  it('a server refuses a CA-signed client certificate that is not for clients, with L8_ERR_AUTH sent to it', async () => {
    const [cr, sr] = await link(provider('a'), provider('server-only'));
    assert.equal(sr.status, 'rejected', 'the server accepted a certificate OpenSSL did not authorize');
    assert.equal(cr.status, 'rejected', 'the client believed it was in');
    if (sr.status === 'rejected') assert.equal(sr.reason.code, 'L8_ERR_AUTH');
    if (sr.status === 'rejected') assert.match(sr.reason.message, /INVALID_PURPOSE/);
    if (cr.status === 'rejected') assert.equal(cr.reason.code, 'L8_ERR_AUTH');
  });

  it('a client refuses a CA-signed server certificate that is not for servers, with L8_ERR_AUTH', async () => {
    const [cr, sr] = await link(provider('client-only'), provider('a'));
    assert.equal(cr.status, 'rejected');
    assert.equal(sr.status, 'rejected');
    if (cr.status === 'rejected') assert.equal(cr.reason.code, 'L8_ERR_AUTH');
  });

  it('a client without a certificate completes TLS but reads a coded refusal, never an accept', async () => {
    const l = await listen('tcp');
    const [c, s] = await Promise.all([l.dial(), l.accept()]);
    const server = provider('a').secureServer(s, { transport: 'tcp' });
    const tls = connect({ socket: c, ca: readFileSync(join(dir, 'ca.crt')), checkServerIdentity: () => undefined });
    tls.on('error', () => undefined);
    const refusal = rejection(new ProofChannel(tls).next());
    assert.equal((await rejection(server)).code, 'L8_ERR_AUTH');
    assert.equal((await refusal).code, 'L8_ERR_AUTH');
    tls.destroy();
    await l.close();
  });

  it('through acceptLink, which destroys the socket as soon as the proof fails, the dialler still reads the code', async () => {
    const accepted: Promise<unknown>[] = [];
    const srv = await serve('tcp', (s) => {
      accepted.push(acceptLink(provider('hub'), s, 'tcp', helloOf('vnet')).catch(() => undefined));
    });
    for (const [node, code] of [
      ['gone', 'L8_ERR_CERT_REVOKED'],
      ['server-only', 'L8_ERR_AUTH'],
    ] as const) {
      assert.equal((await rejection(dialLink(provider(node), srv.address, helloOf('vnic')))).code, code, node);
    }
    await Promise.all(accepted);
    await srv.close();
  });
});
