import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AccessRules, DevProvider, initSecurity, type PeerIdentity, TlsProvider } from '../src/index.ts';
import { tempDir } from './fixtures.ts';

const node = (subject: string, role: PeerIdentity['role'] = 'vnic'): PeerIdentity => ({
  provider: 'tls',
  subject,
  role,
});

describe('hosting rules (acl.json "hosting")', () => {
  const rules = new AccessRules({
    hosting: [
      { service: 'payments', names: ['pay-*', 'ledger'] },
      { service: 'reports', names: ['rep.1'], area: 7 },
    ],
  });

  it('a listed service may be hosted only by matching certificate names; unlisted services are open', () => {
    assert.equal(rules.canHost(node('pay-eu-1'), 'payments', 0), true);
    assert.equal(rules.canHost(node('ledger'), 'payments', 3), true);
    assert.equal(rules.canHost(node('ledger-2'), 'payments', 0), false);
    assert.equal(rules.canHost(node('orders-1'), 'payments', 0), false);
    assert.equal(rules.canHost(node('xpay-1'), 'payments', 0), false, 'patterns are anchored');
    assert.equal(rules.canHost(node('orders-1'), 'orders', 0), true);
  });

  it('an area rule covers only its area, and a dot in a pattern is literal', () => {
    assert.equal(rules.canHost(node('orders-1'), 'reports', 7), false);
    assert.equal(rules.canHost(node('rep.1'), 'reports', 7), true);
    assert.equal(rules.canHost(node('repx1'), 'reports', 7), false);
    assert.equal(rules.canHost(node('orders-1'), 'reports', 8), true);
  });

  it('a VNet certificate never hosts, even an unlisted service or without an ACL', () => {
    assert.equal(rules.canHost(node('pay-1', 'vnet'), 'payments', 0), false);
    assert.equal(rules.canHost(node('hub', 'vnet'), 'orders', 0), false);
    assert.equal(new AccessRules(undefined).canHost(node('hub', 'vnet'), 'orders', 0), false);
    assert.equal(new AccessRules(undefined).canHost(node('svc'), 'orders', 0), true);
  });

  it('"*" as the service covers every service', () => {
    const all = new AccessRules({ hosting: [{ service: '*', names: ['svc-*'] }] });
    assert.equal(all.canHost(node('svc-1'), 'anything', 0), true);
    assert.equal(all.canHost(node('other'), 'anything', 0), false);
  });

  it('refuses malformed hosting rules instead of ignoring them', () => {
    const bad = [{ hosting: {} }, { hosting: [{ names: ['x'] }] }, { hosting: [{ service: 'p', names: 'x' }] }];
    bad.push({ hosting: [{ service: 'p', names: ['x'], area: 'one' }] } as never);
    for (const file of bad) assert.throws(() => new AccessRules(file as never), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });

  it('TlsProvider reads them from acl.json (and reload); the dev provider lets every member host', async () => {
    const dir = tempDir();
    await initSecurity({ dir, nodes: ['a'] });
    const p = new TlsProvider({ dir, node: 'a' });
    assert.equal(p.canHost(node('orders-1'), 'payments', 0), true);
    writeFileSync(join(dir, 'acl.json'), JSON.stringify({ hosting: [{ service: 'payments', names: ['pay-*'] }] }));
    p.reload();
    assert.equal(p.canHost(node('orders-1'), 'payments', 0), false);
    assert.equal(p.canHost(node('pay-1'), 'payments', 0), true);
    assert.equal(new TlsProvider({ dir, node: 'a' }).canHost(node('hub', 'vnet'), 'orders', 0), false);
    const dev = new DevProvider({ passphrase: 'passphrase', warn: () => undefined });
    assert.equal(dev.canHost({ provider: 'dev', subject: 'dev', role: 'any' }, 'payments', 0), true);
  });
});
