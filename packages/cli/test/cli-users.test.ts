import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { RefreshStore, TotpStore } from '@layer8/gateway';
import { readRevokedTokens, TlsProvider } from '@layer8/security';
import { l8, passphraseFile, tempDir } from './cli-kit.ts';

describe('l8 users', () => {
  const dir = tempDir();
  const sec = join(dir, 'overlay');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const provider = () => new TlsProvider({ dir: sec, node: 'gw' });

  test('add, list, passwd, roles, totp-reset and remove round trip; no hash or password is ever printed', async () => {
    assert.equal((await l8(['security', 'init', '--dir', sec, '--node', 'gw'])).code, 0);
    const pass = passphraseFile(dir, 'first-password', 'alice.pass');
    const added = await l8([
      'users',
      'add',
      'alice',
      '--role',
      'writer',
      '--role',
      'clerk',
      '--password-file',
      pass,
      '--security',
      sec,
    ]);
    assert.equal(added.code, 0, added.err);
    const viaEnv = await l8(['users', 'add', 'bob', '--security', sec], { L8_PASSWORD: 'bobs-password' });
    assert.equal(viaEnv.code, 0, viaEnv.err);
    assert.deepEqual(await provider().verifyPassword('alice', 'first-password'), ['writer', 'clerk']);
    assert.deepEqual(await provider().verifyPassword('bob', 'bobs-password'), []);

    const listed = await l8(['users', 'list', '--security', sec]);
    assert.match(listed.out, /^USER +ROLES +TOTP\nalice +writer,clerk +off\nbob +off\n$/);
    const hashes = Object.values(JSON.parse(readFileSync(join(sec, 'users.json'), 'utf8'))).map(
      (r) => (r as { hash: string }).hash,
    );
    for (const h of hashes) assert.equal(listed.out.includes(h), false);
    const json = await l8(['users', 'list', '--json'], { L8_SECURITY: sec });
    assert.deepEqual(JSON.parse(json.out), [
      { name: 'alice', roles: ['writer', 'clerk'], totp: false },
      { name: 'bob', roles: [], totp: false },
    ]);

    const sessions = new RefreshStore(sec, 3600);
    const access = { tokenId: 'alice-access-1', expiresAt: Math.floor(Date.now() / 1000) + 600 };
    await sessions.open('alice', access);
    const passwd = await l8(['users', 'passwd', 'alice', '--security', sec], { L8_PASSWORD: 'second-password' });
    assert.equal(passwd.code, 0, passwd.err);
    assert.deepEqual(await provider().verifyPassword('alice', 'second-password'), ['writer', 'clerk'], 'roles kept');
    await assert.rejects(provider().verifyPassword('alice', 'first-password'), { code: 'L8_ERR_AUTH' });
    assert.deepEqual(
      readRevokedTokens(join(sec, 'revoked-tokens.json')).map((t) => t.tokenId),
      ['alice-access-1'],
      'sessions ended',
    );
    assert.equal(statSync(join(sec, 'users.json')).mode & 0o777, 0o600);

    assert.equal((await l8(['users', 'roles', 'bob', '--role', 'admin', '--security', sec])).code, 0);
    assert.deepEqual(await provider().userRoles('bob'), ['admin']);
    await new TotpStore(sec, 'Layer8').setup('bob');
    const reset = await l8(['users', 'totp-reset', 'bob', '--security', sec]);
    assert.match(reset.out, /two-factor of bob turned off/);

    assert.equal((await l8(['users', 'remove', 'bob', '--security', sec])).code, 0);
    assert.equal(await provider().userRoles('bob'), undefined);
    const gone = await l8(['users', 'remove', 'bob', '--security', sec]);
    assert.deepEqual([gone.code, /L8_ERR_NOT_FOUND: no user "bob"/.test(gone.err)], [1, true]);
  });

  test('a password is never taken from the command line; short ones and bad names are refused', async () => {
    const noSource = await l8(['users', 'add', 'carol', '--security', sec]);
    assert.equal(noSource.code, 1);
    assert.match(noSource.err, /--password-file FILE or L8_PASSWORD/);
    const extra = await l8(['users', 'add', 'carol', 'hunter22-password', '--security', sec], { L8_PASSWORD: 'x' });
    assert.equal(extra.code, 1, 'a second argument is refused, not taken as the password');
    const short = await l8(['users', 'add', 'carol', '--security', sec], { L8_PASSWORD: 'short' });
    assert.match(short.err, /L8_ERR_INVALID_ARGUMENT: a password needs at least 8 characters/);
    const name = await l8(['users', 'add', '../x', '--security', sec], { L8_PASSWORD: 'long-enough' });
    assert.match(name.err, /L8_ERR_INVALID_ARGUMENT: invalid user name/);
  });
});
