import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { children, l8, passphraseFile, spawnL8, stop, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

/** The value of the sample line that starts with `series` (name and labels as written), if any. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('l8 vnet start --metrics', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('serves the VNet and process metrics at the address it prints', async () => {
    const pass = passphraseFile(dir, 'cli-metrics-pass');
    const sock = join(dir, 'm.sock');
    const { child, match } = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.2', '--port', '0', '--socket', sock, '--dev-passphrase-file', pass].concat([
        '--metrics',
        '127.0.0.1:0',
      ]),
      /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/,
    );
    const url = match[1] as string;
    const h = await l8(['health', '--json', '--vnet', sock, '--dev-passphrase-file', pass]);
    assert.equal(h.code, 0, h.err);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.equal(sample(text, 'layer8_health_nodes{status="up",role="vnet"}'), 1);
    assert.equal(sample(text, 'layer8_vnet_handshakes_total{result="accepted",code="OK"}'), 1);
    assert.ok((sample(text, 'layer8_vnet_frames_total{direction="in",link_kind="local"}') ?? 0) > 0);
    assert.ok((sample(text, 'process_cpu_seconds_total') ?? 0) > 0, 'the process metrics are there');
    await stop(child);
  });

  test('refuses a non-loopback metrics address unless --metrics-remote, and a malformed one', async () => {
    const pass = passphraseFile(dir, 'cli-metrics-pass', 'p2');
    const args = ['vnet', 'start', '--port', '0', '--no-socket', '--dev-passphrase-file', pass];
    const remote = await l8([...args, '--metrics', '0.0.0.0:0']);
    assert.equal(remote.code, 1);
    assert.match(remote.err, /L8_ERR_INSECURE.*--metrics-remote/);
    const malformed = await l8([...args, '--metrics', 'localhost']);
    assert.equal(malformed.code, 1);
    assert.match(malformed.err, /L8_ERR_INVALID_ARGUMENT/);
  });
});
