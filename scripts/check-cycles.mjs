// Finds import cycles among the source files of packages/*/src (type-only imports included: a cycle of
// types is still a cycle of layers). Relative specifiers are followed to files; `@layer8/<name>` and
// `@layer8/<name>/<subpath>` to the file their package.json `exports` give under the `source` condition,
// so a cycle that crosses packages is found too. Imports are read with TypeScript's own pre-processor,
// which skips comments and strings. Exits 1 and prints every cycle when there is one.
//
//   node scripts/check-cycles.mjs          # prints cycles, exit 1 if any
//   node scripts/check-cycles.mjs --json   # prints {"imports": {file: [specifier]}, "cycles": [{files, example}]}
//
// Also imported by packages/testkit/test/layering.test.ts (scanImports, importCycles).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SOURCE = /\.(ts|mts|cts|tsx|js|mjs)$/;
const SCOPE = '@layer8/';

/** The repository root (the parent of this script's directory). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every source file under `dir`, recursively, as absolute paths (generated `gen` folders included). */
function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Package directory names under packages/ that have a `src` folder. */
export function packageNames(root = ROOT) {
  return readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'src')));
}

/** The specifiers a file imports or re-exports (static, dynamic, side-effect and type-only imports). */
export function specifiersOf(path) {
  return ts.preProcessFile(readFileSync(path, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/**
 * Every source file of packages/*\/src with the specifiers it imports, keyed by the path relative to
 * `root` (forward slashes).
 */
export function scanImports(root = ROOT) {
  const imports = {};
  for (const pkg of packageNames(root)) {
    for (const file of sourceFiles(join(root, 'packages', pkg, 'src'))) {
      imports[toKey(root, file)] = specifiersOf(file);
    }
  }
  return imports;
}

function toKey(root, path) {
  return relative(root, path).split('\\').join('/');
}

/** The file a relative specifier names: as written, or a `.js` spelling of a `.ts` file, or a folder's index. */
function resolveRelative(fromKey, spec, imports) {
  const base = join(dirname(fromKey), spec).split('\\').join('/');
  const candidates = [base, base.replace(/\.(m?)js$/, '.$1ts'), `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => c in imports);
}

/** The source file `@layer8/<name>[/<subpath>]` resolves to, from the package's `exports`. */
function resolvePackage(root, spec) {
  const [name, ...rest] = spec.slice(SCOPE.length).split('/');
  const manifest = join(root, 'packages', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  const entry = JSON.parse(readFileSync(manifest, 'utf8')).exports?.[rest.length ? `./${rest.join('/')}` : '.'];
  const source = typeof entry === 'object' && entry !== null ? entry.source : undefined;
  return source === undefined ? undefined : toKey(root, join(root, 'packages', name, source));
}

/** The file-level import graph: file → files it imports (within packages/*\/src). */
export function importGraph(imports, root = ROOT) {
  const graph = new Map();
  for (const [file, specs] of Object.entries(imports)) {
    const targets = specs.map((s) =>
      s.startsWith('.') ? resolveRelative(file, s, imports) : s.startsWith(SCOPE) ? resolvePackage(root, s) : undefined,
    );
    graph.set(file, [...new Set(targets.filter((t) => t !== undefined && t in imports))]);
  }
  return graph;
}

/**
 * The strongly connected components of `graph` with more than one file or a file importing itself
 * (Tarjan's algorithm, iterative so deep graphs cannot overflow the stack), each sorted.
 */
export function stronglyConnected(graph) {
  const state = { index: 0, order: new Map(), low: new Map(), stack: [], onStack: new Set(), out: [] };
  for (const v of graph.keys()) if (!state.order.has(v)) strongConnect(graph, v, state);
  return state.out.filter((c) => c.length > 1 || graph.get(c[0])?.includes(c[0])).map((c) => c.sort());
}

function strongConnect(graph, start, s) {
  const work = [[start, 0]];
  visit(start, s);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const [v, i] = frame;
    const next = (graph.get(v) ?? [])[i];
    if (next !== undefined) {
      frame[1] = i + 1;
      if (!s.order.has(next)) {
        visit(next, s);
        work.push([next, 0]);
      } else if (s.onStack.has(next)) s.low.set(v, Math.min(s.low.get(v), s.order.get(next)));
      continue;
    }
    work.pop();
    if (work.length > 0) {
      const parent = work[work.length - 1][0];
      s.low.set(parent, Math.min(s.low.get(parent), s.low.get(v)));
    }
    if (s.low.get(v) === s.order.get(v)) s.out.push(popComponent(v, s));
  }
}

function visit(v, s) {
  s.order.set(v, s.index);
  s.low.set(v, s.index++);
  s.stack.push(v);
  s.onStack.add(v);
}

function popComponent(v, s) {
  const component = [];
  let w;
  do {
    w = s.stack.pop();
    s.onStack.delete(w);
    component.push(w);
  } while (w !== v);
  return component;
}

/** One cycle through the first file of `component`, as a path that ends where it starts. */
export function cyclePath(graph, component) {
  const inside = new Set(component);
  const start = component[0];
  const seen = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (w === start) return [...pathTo(v, seen), start];
      if (inside.has(w) && !seen.has(w)) {
        seen.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

function pathTo(v, seen) {
  const path = [];
  for (let at = v; at !== undefined; at = seen.get(at)) path.unshift(at);
  return path;
}

/**
 * The import cycles among the files of packages/*\/src: per strongly connected component, its `files`
 * and an `example` cycle through them.
 */
export function importCycles(root = ROOT, imports = scanImports(root)) {
  const graph = importGraph(imports, root);
  return stronglyConnected(graph).map((files) => ({ files, example: cyclePath(graph, files) }));
}

/** One line per cycle, for people. */
export function describeCycle({ files, example }) {
  return `import cycle among ${files.length} files (${files.join(', ')}), e.g. ${example.join(' -> ')}`;
}

function main() {
  const imports = scanImports();
  const cycles = importCycles(ROOT, imports);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ imports, cycles }));
  else if (cycles.length === 0) console.log(`no import cycles among ${Object.keys(imports).length} files`);
  else for (const c of cycles) console.error(describeCycle(c));
  process.exitCode = cycles.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
