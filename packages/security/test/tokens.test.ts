import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createTokenIssuer } from '../src/index.ts';
import { rejection } from './harness.ts';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');

describe('tokens', () => {
  for (const [alg, options] of [
    ['HS256', { secret: randomBytes(32) }],
    ['ES256', ec],
    ['EdDSA', ed],
  ] as const) {
    it(`${alg}: issues and validates a token with its roles claim`, async () => {
      const issuer = createTokenIssuer({ ...options, ttlSeconds: 60 });
      const who = await issuer.validate(await issuer.issue({ user: 'ann', roles: ['admin', 'ops'] }));
      assert.equal(who.user, 'ann');
      assert.deepEqual(who.roles, ['admin', 'ops']);
      assert.ok((who.expiresAt ?? 0) > Date.now() / 1000);
    });
  }

  it('refuses an expired token with L8_ERR_TOKEN_EXPIRED', async () => {
    const issuer = createTokenIssuer({ secret: randomBytes(32) });
    const err = await rejection(issuer.validate(await issuer.issue({ user: 'ann', roles: [] }, -1)));
    assert.equal(err.code, 'L8_ERR_TOKEN_EXPIRED');
  });

  it('refuses a token of another key, a tampered one and garbage with L8_ERR_AUTH', async () => {
    const a = createTokenIssuer(ec);
    const b = createTokenIssuer(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const token = await a.issue({ user: 'ann', roles: ['ops'] });
    assert.equal((await rejection(b.validate(token))).code, 'L8_ERR_AUTH');
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from('{"sub":"root","roles":["admin"]}').toString('base64url')}.${s}`;
    assert.equal((await rejection(a.validate(forged))).code, 'L8_ERR_AUTH');
    assert.equal((await rejection(a.validate('not a token'))).code, 'L8_ERR_AUTH');
  });

  it('a verify-only issuer validates but cannot issue; a wrong key type is refused', async () => {
    const full = createTokenIssuer(ed);
    const verifyOnly = createTokenIssuer({ publicKey: ed.publicKey });
    assert.equal((await verifyOnly.validate(await full.issue({ user: 'u', roles: [] }))).user, 'u');
    assert.equal((await rejection(verifyOnly.issue({ user: 'u', roles: [] }))).code, 'L8_ERR_INVALID_ARGUMENT');
    const signOnly = createTokenIssuer({ privateKey: ed.privateKey });
    assert.equal((await rejection(signOnly.validate('x'))).code, 'L8_ERR_INVALID_ARGUMENT');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(() => createTokenIssuer(rsa), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });
});
