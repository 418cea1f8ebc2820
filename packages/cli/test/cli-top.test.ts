import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { children, l8, passphraseFile, spawnL8, stop, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

test('l8 top: frames of the overlay as JSON and as a table, refreshed at the interval', async () => {
  const dir = tempDir();
  const sock = join(dir, 'v.sock');
  const pass = passphraseFile(dir, 'cli-top-pass');
  const { child, match } = await spawnL8(
    ['vnet', 'start', '--host', '127.0.0.2', '--port', '0', '--socket', sock, '--dev-passphrase-file', pass],
    /listening on tcp ([\d.]+):(\d+)/,
  );
  const join8 = ['--vnet', `${match[1]}:${match[2]}`, '--dev-passphrase-file', pass];
  const json = await l8(['top', '--json', '--frames', '2', '--interval', '50', ...join8]);
  assert.equal(json.code, 0, json.err);
  const frames = json.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { vnets: { role: string }[]; at: number }[]);
  assert.equal(frames.length, 2);
  const [first, second] = frames as unknown as { vnets: { role: string }[]; at: number }[];
  assert.deepEqual(
    first?.vnets.map((v) => v.role),
    ['vnet'],
  );
  assert.ok((second?.at ?? 0) >= (first?.at ?? 0) + 50, 'the second frame comes an interval later');
  const text = await l8(['top', '--frames', '1', ...join8]);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^layer8 top .* nodes up 2, unreachable 0 {2}VNets 1, links 0/m);
  assert.match(text.out, /^ALIAS\s+ROLE\s+STATUS\s+CPU/m);
  const bad = await l8(['top', '--interval', '0', ...join8]);
  assert.match(bad.err, /L8_ERR_INVALID_ARGUMENT/);
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
});
