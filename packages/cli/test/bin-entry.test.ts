import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO, tempDir } from './cli-kit.ts';

const BIN_DIR = fileURLToPath(new URL('../bin/', import.meta.url));

/** Seconds since the epoch of the sources in the fake tree; builds are 10 s newer. */
const T0 = 1_700_000_000;

/**
 * A fake workspace with the real `bin/` in `packages/cli` (depending on `@layer8/dep` in `packages/dep`),
 * whose source entry prints `source` and build entry prints `dist`; every build is newer than its source.
 */
function workspace(): { root: string; file(path: string, text?: string, at?: number): string } {
  const root = tempDir('l8-bin-');
  const file = (path: string, text = '', at = T0): string => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    utimesSync(full, at, at);
    return full;
  };
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  for (const f of ['l8.js', 'entry.js']) {
    mkdirSync(join(root, 'packages/cli/bin'), { recursive: true });
    copyFileSync(join(BIN_DIR, f), join(root, 'packages/cli/bin', f));
  }
  file('packages/cli/package.json', JSON.stringify({ type: 'module', dependencies: { '@layer8/dep': '0.1.0' } }));
  file('packages/cli/src/main.ts', "process.stdout.write('source');\n");
  file('packages/cli/dist/src/main.js', "process.stdout.write('dist');\n", T0 + 10);
  file('packages/cli/dist/tsconfig.tsbuildinfo', '{}', T0 + 10);
  file('packages/dep/package.json', JSON.stringify({ type: 'module' }));
  file('packages/dep/src/nested/index.ts', 'export {};\n');
  file('packages/dep/dist/tsconfig.tsbuildinfo', '{}', T0 + 10);
  return { root, file };
}

/** Runs the fake tree's `bin/l8.js` with `L8_BIN_TRACE`: what ran, and the trace line. */
function run(root: string): { ran: string; trace: string } {
  const r = spawnSync(process.execPath, [join(root, 'packages/cli/bin/l8.js')], {
    cwd: root,
    env: { ...process.env, L8_BIN_TRACE: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return { ran: r.stdout, trace: r.stderr.trim() };
}

describe('npx l8 (bin/l8.js) never runs a stale build', () => {
  const roots: string[] = [];
  const fresh = (): ReturnType<typeof workspace> => {
    const w = workspace();
    roots.push(w.root);
    return w;
  };
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  test('runs the build while every build is newer than its sources', () => {
    const { root } = fresh();
    const r = run(root);
    assert.equal(r.ran, 'dist');
    assert.match(r.trace, /^l8: running dist \S+main\.js \(the build is newer than every source file\)$/);
  });

  test('runs the source when a CLI source file is newer than the build', () => {
    const { root, file } = fresh();
    const touched = file('packages/cli/src/commands/x.ts', 'export {};\n', T0 + 20);
    const r = run(root);
    assert.equal(r.ran, 'source');
    assert.ok(r.trace.startsWith(`l8: running source ${join(root, 'packages/cli/src/main.ts')} (`), r.trace);
    assert.ok(r.trace.endsWith(`(${touched} is newer than its build)`), r.trace);
  });

  test('runs the source when a dependency it runs on is newer than its build, or has none', () => {
    const { root, file } = fresh();
    const touched = file('packages/dep/src/nested/index.ts', 'export {};\n', T0 + 20);
    const r = run(root);
    assert.equal(r.ran, 'source');
    assert.ok(r.trace.endsWith(`(${touched} is newer than its build)`), r.trace);
    rmSync(join(root, 'packages/dep/dist'), { recursive: true });
    assert.match(run(root).trace, /\(dep has no build\)$/);
  });

  test('runs the source without a build, and the build of an installed package without sources', () => {
    const { root } = fresh();
    rmSync(join(root, 'packages/cli/src'), { recursive: true });
    assert.equal(run(root).ran, 'dist');
    const other = fresh().root;
    rmSync(join(other, 'packages/cli/dist'), { recursive: true });
    const r = run(other);
    assert.equal(r.ran, 'source');
    assert.match(r.trace, /\(no build \(dist\/src\/main\.js is missing\)\)$/);
  });
});
