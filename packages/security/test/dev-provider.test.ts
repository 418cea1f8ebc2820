import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Action } from '@layer8/protocol';
import { DevProvider, isLoopback, type SecurityProvider } from '../src/index.ts';
import { runProviderConformance } from './conformance.ts';
import { rejection } from './harness.ts';

const quiet = (): void => undefined;
const dev = (passphrase: string): DevProvider => new DevProvider({ passphrase, warn: quiet });

for (const transport of ['tcp', 'unix'] as const) {
  runProviderConformance(`dev over ${transport}`, async () => ({
    transport,
    good: dev('correct horse battery'),
    goodPeer: dev('correct horse battery'),
    goodPeerSubject: 'dev',
    bad: [{ name: 'wrong passphrase', provider: dev('wrong horse battery'), codes: ['L8_ERR_AUTH'] }],
  }));
}

describe('DevProvider', () => {
  it('refuses a non-loopback address with L8_ERR_INSECURE unless forced, and warns', () => {
    const warnings: string[] = [];
    const p = new DevProvider({ passphrase: 'passphrase', warn: (m) => warnings.push(m) });
    assert.match(warnings[0] ?? '', /NOT encrypted/);
    assert.throws(() => p.checkAddress('10.1.2.3'), { code: 'L8_ERR_INSECURE' });
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost', '/tmp/l8.sock']) p.checkAddress(host);
    const forced = new DevProvider({ passphrase: 'passphrase', force: true, warn: (m) => warnings.push(m) });
    forced.checkAddress('10.1.2.3');
    assert.match(warnings.at(-1) ?? '', /10\.1\.2\.3/);
  });

  it('knows loopback addresses', () => {
    assert.equal(isLoopback('::ffff:127.0.0.1'), true);
    assert.equal(isLoopback('192.168.1.1'), false);
    assert.equal(isLoopback('example.com'), false);
  });

  it('refuses a short passphrase', () => {
    assert.throws(() => dev('short'), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  it('logs users in with tokens, refuses wrong passwords, allows everything', async () => {
    const p: SecurityProvider = new DevProvider({
      passphrase: 'passphrase',
      warn: quiet,
      users: { ann: { password: 'pw-ann-1', roles: ['ops'] } },
    });
    const who = await p.validateToken(await p.authenticateUser('ann', 'pw-ann-1'));
    assert.deepEqual([who.user, who.roles], ['ann', ['ops']]);
    assert.equal((await rejection(p.authenticateUser('ann', 'nope'))).code, 'L8_ERR_AUTH');
    assert.equal((await rejection(p.authenticateUser('bob', 'pw-ann-1'))).code, 'L8_ERR_AUTH');
    assert.equal(p.canDoAction(who, Action.DELETE, 'orders', 0), true);
    assert.deepEqual(p.scope(who, 'orders', [1, 2]), [1, 2]);
    assert.equal(await p.secret('db'), undefined);
  });
});
