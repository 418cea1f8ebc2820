import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { initSecurity, RevocationList } from '../src/index.ts';
import { keyPairFromPem } from '../src/tls/keys.ts';
import { unixProofScheme } from '../src/tls/unix-proof.ts';
import { tempDir } from './fixtures.ts';

describe('unix proof scheme', () => {
  it('refuses another provider, an unreadable certificate and a bad signature with L8_ERR_AUTH', async () => {
    const dir = tempDir();
    await initSecurity({ dir, nodes: ['a', 'b'], algorithm: 'Ed25519' });
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    const trust = () => ({ ca: new X509Certificate(read('ca.crt')), revoked: new RevocationList() });
    const own = (n: string) => ({ certPem: read(`${n}.crt`), privateKey: keyPairFromPem(read(`${n}.key`)).privateKey });
    const a = unixProofScheme(own('a'), trust);
    const b = unixProofScheme(own('b'), trust);
    const challenge = b.challengeFields();
    const proof = await b.prove('client|x|y');
    const peer = await a.verify(challenge, 'client|x|y', proof);
    assert.deepEqual([peer.subject, peer.role], ['b', 'vnic']);
    const refused = { code: 'L8_ERR_AUTH' };
    assert.throws(() => a.verify(challenge, 'client|x|z', proof), refused);
    assert.throws(() => a.verify({ ...challenge, provider: 'dev' }, 'client|x|y', proof), refused);
    assert.throws(() => a.verify({ ...challenge, cert: 'not a pem' }, 'client|x|y', proof), refused);
    assert.throws(() => a.verify({ ...challenge, cert: read('ca.crt') }, 'client|x|y', proof), refused);
  });
});
