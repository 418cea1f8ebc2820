import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Action } from '@layer8/protocol';
import { AccessRules, addUser, readUsers, verifyUser } from '../src/index.ts';
import { tempDir } from './fixtures.ts';
import { rejection } from './harness.ts';

describe('users', () => {
  it('adds users with scrypt hashes (file 0600) and checks passwords', async () => {
    const dir = tempDir();
    await addUser(dir, 'ann', 'secret-ann', ['admin']);
    await addUser(dir, 'bob', 'secret-bob', ['reader']);
    assert.equal(statSync(join(dir, 'users.json')).mode & 0o777, 0o600);
    const table = await readUsers(dir);
    assert.equal(JSON.stringify(table).includes('secret-ann'), false);
    assert.deepEqual(await verifyUser(table, 'bob', 'secret-bob'), ['reader']);
    assert.equal((await rejection(verifyUser(table, 'bob', 'secret-ann'))).code, 'L8_ERR_AUTH');
    assert.equal((await rejection(verifyUser(table, 'carl', 'secret-bob'))).code, 'L8_ERR_AUTH');
    assert.equal((await rejection(verifyUser(table, 'toString', 'x'))).code, 'L8_ERR_AUTH');
    await addUser(dir, 'bob', 'new-secret', ['writer']);
    assert.deepEqual(await verifyUser(await readUsers(dir), 'bob', 'new-secret'), ['writer']);
  });

  it('refuses bad names, short passwords and broken files', async () => {
    const dir = tempDir();
    await assert.rejects(addUser(dir, '../x', 'long enough', []), { code: 'L8_ERR_INVALID_ARGUMENT' });
    await assert.rejects(addUser(dir, 'x', 'short', []), { code: 'L8_ERR_INVALID_ARGUMENT' });
    assert.deepEqual(await readUsers(dir), {});
    writeFileSync(join(dir, 'users.json'), '[]');
    await assert.rejects(readUsers(dir), { code: 'L8_ERR_INVALID_ARGUMENT' });
    writeFileSync(join(dir, 'users.json'), '{');
    await assert.rejects(readUsers(dir), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });
});

describe('AccessRules', () => {
  const ann = { user: 'ann', roles: ['admin'] };
  const bob = { user: 'bob', roles: ['reader'] };
  const eve = { user: 'eve', roles: [] };

  it('allows everything without an ACL file', () => {
    const rules = AccessRules.load(join(tempDir(), 'acl.json'));
    assert.equal(rules.allows(eve, Action.DELETE, 'orders', 0), true);
    assert.deepEqual(rules.scope(eve, 'orders', [{ owner: 'x' }]), [{ owner: 'x' }]);
  });

  it('with an ACL, allows admin always and others by role, service, area and action', () => {
    const rules = new AccessRules({
      rules: [
        { role: 'reader', service: 'orders', actions: ['GET'] },
        { role: 'reader', service: '*', actions: [Action.NOTIFY], area: 2 },
        { role: 'ops', service: 'health', actions: ['*'] },
      ],
    });
    assert.equal(rules.allows(ann, Action.DELETE, 'orders', 0), true);
    assert.equal(rules.allows(bob, Action.GET, 'orders', 0), true);
    assert.equal(rules.allows(bob, Action.POST, 'orders', 0), false);
    assert.equal(rules.allows(bob, Action.NOTIFY, 'any', 2), true);
    assert.equal(rules.allows(bob, Action.NOTIFY, 'any', 3), false);
    assert.equal(rules.allows({ user: 'o', roles: ['ops'] }, Action.PUT, 'health', 9), true);
    assert.equal(rules.allows(eve, Action.GET, 'orders', 0), false);
  });

  it('scopes results by owner field where a scope rule exists', () => {
    const rules = new AccessRules({ scopes: [{ service: 'orders', field: 'owner' }] });
    const items = [{ owner: 'bob', n: 1 }, { owner: 'eve', n: 2 }, 'loose'];
    assert.deepEqual(rules.scope(bob, 'orders', items), [{ owner: 'bob', n: 1 }]);
    assert.deepEqual(rules.scope(ann, 'orders', items), items);
    assert.deepEqual(rules.scope(bob, 'stock', items), items);
  });

  it('scopes a model by its .proto field name as well as by its property', () => {
    const rules = new AccessRules({ scopes: [{ service: 'orders', field: 'customer_id' }] });
    const items = [{ customerId: 'bob' }, { customerId: 'eve' }, { customer_id: 'bob' }];
    assert.deepEqual(rules.scope(bob, 'orders', items), [{ customerId: 'bob' }, { customer_id: 'bob' }]);
  });

  it('refuses a broken ACL file', () => {
    const file = join(tempDir(), 'acl.json');
    writeFileSync(file, '{');
    assert.throws(() => AccessRules.load(file), { code: 'L8_ERR_INVALID_ARGUMENT' });
  });
});
