import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { table } from '../src/index.ts';
import { children, l8, passphraseFile, spawnL8, stop, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

describe('l8 CLI', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('vnet start (dev provider, passphrase file) prints where it listens; health and services join it', async () => {
    const sock = join(dir, 'v.sock');
    const pass = passphraseFile(dir, 'cli-test-pass');
    const { child, match } = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.2', '--port', '0', '--socket', sock, '--dev-passphrase-file', pass],
      /listening on tcp ([\d.]+):(\d+)/,
    );
    const vnet = `${match[1]}:${match[2]}`;
    const h = await l8(['health', '--json', '--vnet', vnet, '--dev-passphrase-file', pass]);
    assert.equal(h.code, 0, h.err);
    const records = JSON.parse(h.out) as { role: string; status: string }[];
    assert.equal(records.length, 1);
    assert.equal(records[0]?.role, 'vnet');
    const s = await l8(['services', '--json', '--vnet', sock], { L8_DEV_PASSPHRASE: 'cli-test-pass' });
    assert.equal(s.code, 0, s.err);
    assert.deepEqual(JSON.parse(s.out), []);
    const t = await l8(['health', '--vnet', vnet, '--dev-passphrase-file', pass]);
    assert.match(t.out, /^ALIAS\s+ROLE\s+STATUS/);
    const wrong = await l8([
      'health',
      '--vnet',
      vnet,
      '--dev-passphrase-file',
      passphraseFile(dir, 'not-the-passphrase', 'w'),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /L8_ERR_AUTH/);
    await stop(child);
  });

  test('security init, then a TLS VNet that only members of the overlay can join', async () => {
    const sec = join(dir, 'overlay');
    const other = join(dir, 'other');
    const init = await l8(['security', 'init', '--dir', sec, '--vnet', 'host-a', '--node', 'ops']);
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /overlay CA .* in /);
    assert.match(init.out, /vnet host-a: .*host-a\.crt/);
    assert.match(init.out, /vnic ops: .*ops\.crt/);
    assert.equal((await l8(['security', 'init', '--dir', sec])).code, 1, 'refuses to overwrite a CA');
    assert.equal((await l8(['security', 'init', '--dir', other, '--node', 'ops'])).code, 0);
    const { child, match } = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.3', '--port', '0', '--no-socket', '--security', sec, '--node', 'host-a'],
      /listening on tcp ([\d.]+):(\d+)/,
    );
    const vnet = `${match[1]}:${match[2]}`;
    const h = await l8(['health', '--json', '--vnet', vnet, '--security', sec, '--node', 'ops']);
    assert.equal(h.code, 0, h.err);
    assert.equal((JSON.parse(h.out) as unknown[]).length, 1);
    const stranger = await l8(['health', '--vnet', vnet, '--security', other, '--node', 'ops']);
    assert.equal(stranger.code, 1);
    assert.match(stranger.err, /L8_ERR_(AUTH|HANDSHAKE)/);
    const both = await l8(['health', '--vnet', vnet, '--security', sec, '--dev']);
    assert.match(both.err, /L8_ERR_INVALID_ARGUMENT/);
    await stop(child);
  });

  test('joining a VNet that is not there fails with a coded error', async () => {
    const r = await l8(['health', '--vnet', '127.0.0.1:1', '--timeout', '300', '--dev']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^l8: L8_ERR_/m);
  });

  test('the dev provider refuses a non-loopback host unless forced', async () => {
    const args = ['vnet', 'start', '--host', '0.0.0.0', '--port', '0', '--no-socket'];
    const r = await l8([...args, '--dev-passphrase-file', passphraseFile(dir, 'cli-test-pass')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /L8_ERR_INSECURE/);
  });

  test('table aligns columns', () => {
    assert.equal(table(['A', 'BB'], [['xxx', 'y']]), 'A    BB\nxxx  y');
  });
});
