import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  addUser,
  initSecurity,
  readRevokedTokens,
  removeUser,
  revokeTokens,
  setPassword,
  setRoles,
  TlsProvider,
  TokenDenylist,
} from '../src/index.ts';
import { tempDir } from './fixtures.ts';

describe('revoked tokens', () => {
  it('a revoked token id is refused by every provider on the directory, and by none after it expires', async () => {
    const dir = tempDir();
    await initSecurity({ dir, nodes: ['gw', 'svc'], vnets: [], algorithm: 'P-256' });
    await addUser(dir, 'ann', 'ann-password', ['writer']);
    const gw = new TlsProvider({ dir, node: 'gw' });
    const svc = new TlsProvider({ dir, node: 'svc' });
    const issued = await gw.issueToken({ user: 'ann', roles: ['writer'] }, 60);
    const who = await svc.validateToken(issued.token);
    assert.deepEqual([who.user, who.tokenId, who.expiresAt], ['ann', issued.tokenId, issued.expiresAt]);
    await gw.revokeTokens([{ tokenId: issued.tokenId, expiresAt: issued.expiresAt }]);
    await assert.rejects(svc.validateToken(issued.token), { code: 'L8_ERR_AUTH', message: 'user token revoked' });
    await assert.rejects(gw.validateToken(issued.token), { code: 'L8_ERR_AUTH' });
    const other = await gw.issueToken({ user: 'ann', roles: ['writer'] }, 60);
    assert.equal((await svc.validateToken(other.token)).user, 'ann', 'only that id');
    assert.equal(statSync(join(dir, 'revoked-tokens.json')).mode & 0o777, 0o644);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
      'atomic writes leave no temp file',
    );
  });

  it('drops entries whose tokens have expired anyway, and keeps the latest expiry of an id', () => {
    const dir = tempDir();
    revokeTokens(
      dir,
      [
        { tokenId: 'old', expiresAt: 100 },
        { tokenId: 'a', expiresAt: 500 },
      ],
      200,
    );
    revokeTokens(
      dir,
      [
        { tokenId: 'a', expiresAt: 400 },
        { tokenId: 'b', expiresAt: 300 },
      ],
      200,
    );
    assert.deepEqual(readRevokedTokens(join(dir, 'revoked-tokens.json')), [
      { tokenId: 'a', expiresAt: 500 },
      { tokenId: 'b', expiresAt: 300 },
    ]);
    const list = new TokenDenylist(dir);
    assert.deepEqual([list.has('a', 450), list.has('a', 501), list.has('old', 50)], [true, false, false]);
    assert.equal(new TokenDenylist(undefined).has('a', 0), false);
  });
});

describe('user management', () => {
  it('passwd keeps roles, roles keeps the password, remove removes; unknown users are L8_ERR_NOT_FOUND', async () => {
    const dir = tempDir();
    await initSecurity({ dir, nodes: ['gw'], vnets: [], algorithm: 'Ed25519' });
    await addUser(dir, 'ann', 'ann-password', ['writer']);
    const p = new TlsProvider({ dir, node: 'gw' });
    await setPassword(dir, 'ann', 'new-password');
    assert.deepEqual(await p.verifyPassword('ann', 'new-password'), ['writer']);
    setRoles(dir, 'ann', ['clerk']);
    assert.deepEqual(await p.verifyPassword('ann', 'new-password'), ['clerk']);
    assert.deepEqual(await p.userRoles('ann'), ['clerk']);
    removeUser(dir, 'ann');
    assert.equal(await p.userRoles('ann'), undefined);
    assert.throws(() => removeUser(dir, 'ann'), { code: 'L8_ERR_NOT_FOUND' });
    assert.throws(() => setRoles(dir, 'toString', []), { code: 'L8_ERR_NOT_FOUND' });
    await assert.rejects(setPassword(dir, 'ann', 'new-password'), { code: 'L8_ERR_NOT_FOUND' });
  });
});
