// Which code `l8` runs: the build in dist/ only while it is current, else the TypeScript source (tsx).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * @typedef {object} Entry
 * @property {'dist' | 'source'} kind what runs: the build, or the source through tsx
 * @property {string} file the module to run
 * @property {string} reason why, for `L8_BIN_TRACE` and error messages
 */

/**
 * Chooses the entry of the `@layer8/cli` package in `cliDir`: the source when a build is missing or older
 * than a source file of the CLI or of a `@layer8/*` package it depends on (a sibling directory named after
 * the package: `packages/<name>` in the repository, `node_modules/@layer8/<name>` when installed), else the
 * build. An installed package without `src/` always runs its build.
 * @param {string} cliDir
 * @returns {Entry}
 */
export function chooseEntry(cliDir) {
  const built = join(cliDir, 'dist', 'src', 'main.js');
  const source = join(cliDir, 'src', 'main.ts');
  if (!existsSync(source)) return { kind: 'dist', file: built, reason: 'no source next to the build' };
  if (!existsSync(built)) return { kind: 'source', file: source, reason: 'no build (dist/src/main.js is missing)' };
  for (const dir of packageDirs(cliDir)) {
    const stale = staleness(dir);
    if (stale !== undefined) return { kind: 'source', file: source, reason: stale };
  }
  return { kind: 'dist', file: built, reason: 'the build is newer than every source file' };
}

/**
 * Why the build of the package in `dir` is stale (no build, or a source file newer than it), or undefined
 * when it is current or the package has no source.
 * @param {string} dir
 * @returns {string | undefined}
 */
export function staleness(dir) {
  const src = join(dir, 'src');
  if (!existsSync(src)) return undefined;
  const builtAt = buildTime(dir);
  if (builtAt === undefined) return `${basename(dir)} has no build`;
  const newer = newerFile(src, builtAt);
  return newer === undefined ? undefined : `${newer} is newer than its build`;
}

/**
 * When the package in `dir` was last built (`tsc -b` rewrites its build info on every build), in ms.
 * @param {string} dir
 * @returns {number | undefined}
 */
function buildTime(dir) {
  for (const f of ['dist/tsconfig.tsbuildinfo', 'dist/src/index.js']) {
    const file = join(dir, f);
    if (existsSync(file)) return statSync(file).mtimeMs;
  }
  return undefined;
}

/**
 * The first file under `dir` modified after `since` (ms), or undefined.
 * @param {string} dir
 * @param {number} since
 * @returns {string | undefined}
 */
function newerFile(dir, since) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    const found = e.isDirectory() ? newerFile(path, since) : statSync(path).mtimeMs > since ? path : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The CLI package and every `@layer8/*` package it depends on, directly or not, that sits next to it.
 * @param {string} cliDir
 * @returns {string[]}
 */
export function packageDirs(cliDir) {
  const seen = new Set([cliDir]);
  const queue = [cliDir];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    for (const name of layer8Dependencies(dir)) {
      const sibling = join(dirname(cliDir), name);
      if (seen.has(sibling) || !existsSync(sibling)) continue;
      seen.add(sibling);
      queue.push(sibling);
    }
  }
  return [...seen];
}

/**
 * The unscoped names of the `@layer8/*` dependencies in `dir`'s package.json.
 * @param {string} dir
 * @returns {string[]}
 */
function layer8Dependencies(dir) {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return [];
  const deps = JSON.parse(readFileSync(file, 'utf8')).dependencies ?? {};
  return Object.keys(deps)
    .filter((n) => n.startsWith('@layer8/'))
    .map((n) => n.slice('@layer8/'.length));
}

/**
 * The URL to give `node --import` to run TypeScript (tsx, resolved from this package), or undefined when
 * tsx is not installed.
 * @returns {string | undefined}
 */
export function tsxLoader() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
}
