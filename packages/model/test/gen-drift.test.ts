/** The committed generated code under src/gen matches what `buf generate` makes from proto/ now. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(pkg, '../../node_modules/.bin');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test('src/gen is up to date with proto/ (run `npm run generate -w @layer8/model`)', () => {
  const out = mkdtempSync(join(tmpdir(), 'l8-gen-'));
  try {
    const template = JSON.stringify({
      version: 'v2',
      plugins: [
        {
          local: join(bin, 'protoc-gen-es'),
          out,
          opt: ['target=ts', 'import_extension=ts', 'ts_nocheck=true'],
        },
      ],
    });
    execFileSync(join(bin, 'buf'), ['generate', '--template', template], { cwd: pkg, stdio: 'pipe' });
    const gen = join(pkg, 'src/gen');
    assert.deepEqual(files(out), files(gen));
    for (const f of files(gen)) assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(gen, f), 'utf8'), f);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
