import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DevProvider, initSecurity, TlsProvider } from '@layer8/security';
import { defaultSecurityDir, providerFrom } from '../src/index.ts';
import { children, EMPTY_HOME, l8, passphraseFile, REPO, spawnL8, stop, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

const noHome = { HOME: EMPTY_HOME };

describe('l8: which security provider', () => {
  test('with no option and no default overlay, fails with L8_ERR_INVALID_ARGUMENT naming the choices', async () => {
    for (const args of [
      ['health', '--vnet', '127.0.0.1:1'],
      ['vnet', 'start', '--port', '0', '--no-socket'],
    ]) {
      const r = await l8(args);
      assert.equal(r.code, 1);
      assert.match(r.err, /^l8: L8_ERR_INVALID_ARGUMENT: no security provider/m);
      for (const choice of ['--security DIR', 'L8_SECURITY', '~/.layer8/security', '--dev', 'L8_DEV_PASSPHRASE']) {
        assert.ok(r.err.includes(choice), `the message names ${choice}: ${r.err}`);
      }
      assert.ok(r.err.includes('--dev-passphrase-file FILE'));
    }
  });

  test('a passphrase on the command line is no longer accepted (ps would show it)', async () => {
    // With --dev the command would otherwise run and fail to connect (an L8_ERR_ line); commander refuses first.
    const r = await l8(['health', '--vnet', '127.0.0.1:1', '--timeout', '300', '--dev', '--dev-passphrase', 'x']);
    assert.equal(r.code, 1);
    assert.deepEqual([r.out, r.err], ['', '']);
  });

  test('--dev: the built-in public passphrase, loudly warned, and never with --force-insecure', () => {
    const warnings: string[] = [];
    const p = providerFrom({ dev: true }, noHome, (m) => warnings.push(m));
    assert.ok(p instanceof DevProvider);
    assert.ok(
      warnings.some((w) => /WARNING: --dev uses the built-in passphrase .* public/.test(w)),
      String(warnings),
    );
    assert.throws(() => p.checkAddress('10.1.2.3'), { code: 'L8_ERR_INSECURE' });
    assert.throws(() => providerFrom({ dev: true, forceInsecure: true }, noHome, () => undefined), {
      code: 'L8_ERR_INVALID_ARGUMENT',
      message: /--force-insecure needs a passphrase of your own/,
    });
  });

  test('L8_DEV_PASSPHRASE or --dev-passphrase-file choose the dev provider with that passphrase', () => {
    const dir = tempDir();
    const quiet = (): void => undefined;
    const fromEnv = providerFrom({ forceInsecure: true }, { ...noHome, L8_DEV_PASSPHRASE: 'env-passphrase' }, quiet);
    assert.ok(fromEnv instanceof DevProvider);
    fromEnv.checkAddress('10.1.2.3');
    const file = passphraseFile(dir, 'file-passphrase');
    assert.ok(providerFrom({ devPassphraseFile: file }, noHome, quiet) instanceof DevProvider);
    const warnings: string[] = [];
    chmodSync(file, 0o644);
    providerFrom({ devPassphraseFile: file }, noHome, (m) => warnings.push(m));
    assert.ok(warnings.some((w) => w.includes('readable by other users')));
    writeFileSync(join(dir, 'empty'), '\n');
    for (const bad of [join(dir, 'empty'), join(dir, 'absent')]) {
      assert.throws(() => providerFrom({ devPassphraseFile: bad }, noHome, quiet), { code: 'L8_ERR_INVALID_ARGUMENT' });
    }
    assert.throws(() => providerFrom({ dev: true }, { ...noHome, L8_SECURITY: dir }, quiet), {
      code: 'L8_ERR_INVALID_ARGUMENT',
    });
  });

  test('the overlay in ~/.layer8/security is used when it exists; a VNet and a VNic join on it', async () => {
    const home = tempDir('l8-home-');
    const sec = join(home, '.layer8', 'security');
    mkdirSync(join(home, '.layer8'), { mode: 0o700 });
    await initSecurity({ dir: sec, nodes: ['me'], vnets: ['hub'] });
    assert.equal(defaultSecurityDir({ HOME: home }), sec);
    assert.ok(providerFrom({ node: 'me' }, { HOME: home }, () => undefined) instanceof TlsProvider);
    const { child, match } = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.4', '--port', '0', '--no-socket'],
      /listening on tcp ([\d.]+):(\d+)/,
      { HOME: home, L8_NODE: 'hub' },
    );
    const h = await l8(['health', '--json', '--vnet', `${match[1]}:${match[2]}`], { HOME: home, L8_NODE: 'me' });
    assert.equal(h.code, 0, h.err);
    assert.equal((JSON.parse(h.out) as { role: string }[])[0]?.role, 'vnet');
    await stop(child);
  });

  test('npm start runs the demo (demo.test.ts runs it); vnet start --dev needs nothing set up', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: { start: string } };
    const [node, ...argv] = pkg.scripts.start.split(' ');
    assert.equal(node, 'node');
    assert.equal(argv.at(-1), 'demo', pkg.scripts.start);
    const { child, match, err } = await spawnL8(
      ['vnet', 'start', '--dev', '--host', '127.0.0.5', '--port', '0', '--no-socket'],
      /listening on tcp ([\d.]+):(\d+)/,
    );
    assert.match(err(), /built-in passphrase/);
    const h = await l8(['health', '--json', '--vnet', `${match[1]}:${match[2]}`, '--dev']);
    assert.equal(h.code, 0, h.err);
    await stop(child);
  });
});
