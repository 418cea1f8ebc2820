import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DevProvider, initSecurity, TlsProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { EMPTY_HOME, l8, REPO, tempDir } from './cli-kit.ts';

const BIN = fileURLToPath(new URL('../bin/l8.js', import.meta.url));

/** Runs `bin/l8.js args…` as `npx l8` would, with HOME at {@link EMPTY_HOME}; resolves with its exit code and stderr. */
function runBin(args: string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, HOME: EMPTY_HOME, L8_SECURITY: '', L8_DEV_PASSPHRASE: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, err })));
}

describe('l8 health against a VNet of another security provider', () => {
  const dir = tempDir();
  const sec = join(dir, 'overlay');
  let tls: VNet;
  let dev: VNet;
  before(async () => {
    await initSecurity({ dir: sec, vnets: ['hub'], nodes: ['ops'] });
    tls = new VNet({
      provider: new TlsProvider({ dir: sec, node: 'hub' }),
      host: '127.0.0.1',
      port: 0,
      socketPath: join(dir, 'tls.sock'),
    });
    dev = new VNet({
      provider: new DevProvider({ passphrase: 'layer8-local-dev-only', warn: () => undefined }),
      host: '127.0.0.1',
      port: 0,
      socketPath: join(dir, 'dev.sock'),
    });
    await Promise.all([tls.start(), dev.start()]);
  });
  after(async () => {
    await Promise.all([tls.close(), dev.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const tcp = (v: VNet): string => `${v.addresses.tcp.host}:${v.addresses.tcp.port}`;

  test('without --security against a TLS VNet: L8_ERR_AUTH naming --security, not L8_ERR_TIMEOUT', async () => {
    for (const vnet of [tcp(tls), join(dir, 'tls.sock')]) {
      const r = await l8(['health', '--dev', '--vnet', vnet]);
      assert.equal(r.code, 1);
      assert.doesNotMatch(r.err, /L8_ERR_TIMEOUT/);
      const text = `l8: L8_ERR_AUTH: the VNet at ${vnet} uses the TLS provider: pass --security DIR --node NAME`;
      assert.ok(r.err.includes(text), r.err);
    }
  });

  test('with --security against a dev VNet: L8_ERR_AUTH naming --dev', async () => {
    for (const vnet of [tcp(dev), join(dir, 'dev.sock')]) {
      const r = await l8(['services', '--security', sec, '--node', 'ops', '--vnet', vnet]);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /^l8: L8_ERR_AUTH: the VNet at \S+ (does not speak TLS|uses the dev provider).*: join it with --dev/m,
      );
    }
  });

  test('npx l8 (bin/l8.js) exits non-zero with the same cause', async () => {
    const r = await runBin(['health', '--dev', '--vnet', tcp(tls)]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /L8_ERR_AUTH: the VNet at \S+ uses the TLS provider: pass --security/);
  });
});

describe('l8 health with no VNet at all', () => {
  test('ends at --timeout with L8_ERR_CONNECT naming the address and the cause', async () => {
    const dir = tempDir();
    try {
      const missing = join(dir, 'nothing.sock');
      const r = await l8(['health', '--dev', '--vnet', missing, '--timeout', '300']);
      assert.equal(r.code, 1);
      assert.match(r.err, /^l8: L8_ERR_CONNECT: no VNet reached within 300 ms: .*nothing\.sock/m);
      assert.match(r.err, /ENOENT|no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
