// The `prepack` of every published package, run by npm in the package's folder: builds the package and
// the projects it references with the workspace's `tsc -b` (a type error stops the pack), then deletes
// every output under `dist/src` whose source file is gone (tsc leaves the outputs of deleted or moved
// files behind), so the tarball holds exactly the build of `src/`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUTPUT = /(\.d\.ts|\.js\.map|\.js)$/;

/** The outputs under `out` whose `.ts` source under `src` no longer exists. */
function orphans(out, src) {
  if (!existsSync(out)) return [];
  return readdirSync(out, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && OUTPUT.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !existsSync(join(src, relative(out, file).replace(OUTPUT, '.ts'))));
}

const tsc = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', 'tsc');
const r = spawnSync(tsc, ['-b'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
for (const file of orphans(join('dist', 'src'), 'src')) {
  rmSync(file);
  console.error(`prepack: removed ${file} (its source is gone)`);
}
