import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CliIo, runCli, table } from '../src/index.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const children: ChildProcess[] = [];

/** Starts `l8 args…` as a child process; resolves with the first stdout line that matches `ready`. */
function spawnL8(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) resolve({ child, match: m });
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`l8 ${args.join(' ')} exited with ${code}: ${err}`)));
  });
}

/** Runs `l8 args…` in-process and captures its output. */
async function l8(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    env: {},
    out: (l) => (out += `${l}\n`),
    warn: (l) => (err += `${l}\n`),
    untilStopped: () => new Promise(() => undefined),
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

describe('l8 CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l8-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('vnet start (dev provider) prints where it listens; health and services join it', async () => {
    const sock = join(dir, 'v.sock');
    const { child, match } = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.2', '--port', '0', '--socket', sock, '--dev-passphrase', 'cli-test-pass'],
      /listening on tcp ([\d.]+):(\d+)/,
    );
    const vnet = `${match[1]}:${match[2]}`;
    const h = await l8(['health', '--json', '--vnet', vnet, '--dev-passphrase', 'cli-test-pass']);
    assert.equal(h.code, 0, h.err);
    const records = JSON.parse(h.out) as { role: string; status: string }[];
    assert.equal(records.length, 1);
    assert.equal(records[0]?.role, 'vnet');
    const s = await l8(['services', '--json', '--vnet', sock, '--dev-passphrase', 'cli-test-pass']);
    assert.deepEqual(JSON.parse(s.out), []);
    const t = await l8(['health', '--vnet', vnet, '--dev-passphrase', 'cli-test-pass']);
    assert.match(t.out, /^ALIAS\s+ROLE\s+STATUS/);
    const wrong = await l8(['health', '--vnet', vnet, '--dev-passphrase', 'not-the-passphrase']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /L8_ERR_AUTH/);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });

  test('security init, then a TLS VNet that only members of the overlay can join', async () => {
    const sec = join(dir, 'overlay');
    const other = join(dir, 'other');
    const init = await l8(['security', 'init', '--dir', sec, '--node', 'host-a', '--node', 'ops']);
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /overlay CA .* in /);
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
    const both = await l8(['health', '--vnet', vnet, '--security', sec, '--dev-passphrase', 'x']);
    assert.match(both.err, /L8_ERR_INVALID_ARGUMENT/);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });

  test('joining a VNet that is not there fails with a coded error', async () => {
    const r = await l8(['health', '--vnet', '127.0.0.1:1', '--timeout', '300', '--dev-passphrase', 'cli-test-pass']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^l8: L8_ERR_/);
  });

  test('the dev provider refuses a non-loopback host unless forced', async () => {
    const r = await l8([
      'vnet',
      'start',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--no-socket',
      '--dev-passphrase',
      'cli-test-pass',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /L8_ERR_INSECURE/);
  });

  test('table aligns columns', () => {
    assert.equal(table(['A', 'BB'], [['xxx', 'y']]), 'A    BB\nxxx  y');
  });
});
