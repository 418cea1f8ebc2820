import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { children, l8, spawnL8, stop, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

const subject = (file: string): string => new X509Certificate(readFileSync(file)).subject;

describe('l8 security: roles, issuing and node bundles', () => {
  const dir = tempDir();
  const sec = join(dir, 'authority');

  test('init and issue write VNet certificates for --vnet and VNic certificates for --node', async () => {
    assert.equal((await l8(['security', 'init', '--dir', sec, '--vnet', 'hub', '--node', 'svc'])).code, 0);
    const issued = await l8(['security', 'issue', '--dir', sec, '--vnet', 'hub-2', '--node', 'svc-2', '--days', '30']);
    assert.equal(issued.code, 0, issued.err);
    assert.match(issued.out, /vnic svc-2: .*\n.*vnet hub-2: /);
    assert.equal(subject(join(sec, 'hub.crt')), 'OU=vnet\nCN=hub');
    assert.equal(subject(join(sec, 'hub-2.crt')), 'OU=vnet\nCN=hub-2');
    assert.equal(subject(join(sec, 'svc-2.crt')), 'OU=vnic\nCN=svc-2');
    const bad = await l8(['security', 'issue', '--dir', dir, '--node', 'x']);
    assert.match(bad.err, /L8_ERR_INVALID_ARGUMENT: .* holds no overlay CA/);
  });

  test('init with no names issues this host a VNet certificate, and the printed start command works', async () => {
    const own = join(dir, 'own');
    const init = await l8(['security', 'init', '--dir', own], { L8_NODE: 'this-host' });
    assert.equal(init.code, 0, init.err);
    assert.equal(subject(join(own, 'this-host.crt')), 'OU=vnet\nCN=this-host');
    const printed = /start it with: npx l8 (vnet start --security \S+ --node this-host)/.exec(init.out);
    assert.ok(printed, init.out);
    const args = [...(printed[1] as string).split(' '), '--port', '0', '--no-socket', '--host', '127.0.0.2'];
    const { child } = await spawnL8(args, /listening on tcp/);
    await stop(child);
    const missing = await l8(['vnet', 'start', '--port', '0', '--no-socket', '--security', own, '--node', 'other']);
    assert.equal(missing.code, 1);
    assert.match(
      missing.err,
      /no certificate and key for node other \(certificates here: this-host\); pass --node NAME/,
    );
  });

  test('vnet start refuses a VNic certificate before it listens', async () => {
    const r = await l8(['vnet', 'start', '--port', '0', '--no-socket', '--security', sec, '--node', 'svc']);
    assert.equal(r.code, 1);
    assert.match(r.err, /L8_ERR_INVALID_ARGUMENT: this node holds a VNic certificate/);
  });

  test('export writes a bundle without ca.key or token.key that joins the overlay', async () => {
    const out = join(dir, 'svc-bundle');
    const r = await l8(['security', 'export', '--dir', sec, '--node', 'svc', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(out).sort(), ['ca.crt', 'revoked.json', 'svc.crt', 'svc.key', 'token.pub']);
    assert.equal(statSync(out).mode & 0o777, 0o700);
    assert.equal(existsSync(join(out, 'token.key')), false);
    const { child, match } = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.6', '--port', '0', '--no-socket', '--security', sec, '--node', 'hub'],
      /listening on tcp ([\d.]+):(\d+)/,
    );
    const h = await l8(['health', '--json', '--vnet', `${match[1]}:${match[2]}`, '--security', out, '--node', 'svc']);
    assert.equal(h.code, 0, h.err);
    await stop(child);
    const signer = await l8([
      'security',
      'export',
      '--dir',
      sec,
      '--node',
      'hub',
      '--out',
      join(dir, 'gw'),
      '--token-signer',
    ]);
    assert.equal(signer.code, 0, signer.err);
    assert.ok(existsSync(join(dir, 'gw', 'token.key')));
    assert.equal((await l8(['security', 'export', '--dir', sec, '--node', 'svc', '--out', out])).code, 1);
  });
});
