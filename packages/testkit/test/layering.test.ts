import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One import cycle: its files and one path around it. */
interface Cycle {
  readonly files: string[];
  readonly example: string[];
}

/** What scripts/check-cycles.mjs exports (plain JavaScript, so typed here). */
interface CycleScript {
  packageNames(root: string): string[];
  scanImports(root: string): Record<string, string[]>;
  importCycles(root: string, imports: Record<string, string[]>): Cycle[];
  describeCycle(cycle: Cycle): string;
  stronglyConnected(graph: Map<string, string[]>): string[][];
}

const SCOPE = '@layer8/';

/** The repository root: the nearest ancestor holding the cycle script (from src or from dist). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'scripts', 'check-cycles.mjs'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('scripts/check-cycles.mjs not found above this test');
    dir = up;
  }
  return dir;
}

const ROOT = repositoryRoot();
const script = (await import(pathToFileURL(join(ROOT, 'scripts', 'check-cycles.mjs')).href)) as CycleScript;
const imports = script.scanImports(ROOT);

/** A package of packages/*: its directory, its name and the `@layer8/*` packages its manifest declares. */
interface Manifest {
  readonly dir: string;
  readonly name: string;
  readonly declared: ReadonlySet<string>;
}

function manifests(): Manifest[] {
  return script.packageNames(ROOT).map((dir) => {
    const json = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
    const all = { ...json.peerDependencies, ...json.optionalDependencies, ...json.dependencies };
    return { dir, name: json.name as string, declared: new Set(Object.keys(all).filter((d) => d.startsWith(SCOPE))) };
  });
}

/** The `@layer8/*` packages each source file of package `dir` imports (the package itself left out). */
function importedPackages(m: Manifest): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, specs] of Object.entries(imports)) {
    if (!file.startsWith(`packages/${m.dir}/src/`)) continue;
    for (const spec of specs.filter((s) => s.startsWith(SCOPE))) {
      const name = spec.split('/').slice(0, 2).join('/');
      if (name !== m.name && !out.has(name)) out.set(name, file);
    }
  }
  return out;
}

/**
 * The README's "Packages" table as package → the `@layer8/*` packages it may depend on. A cell holds
 * `nothing`, `everything above`, or short names separated by commas (`protocol, security`); rows that
 * are not `@layer8/*` packages (bench/) are skipped.
 */
function readmeTable(): Map<string, Set<string>> {
  const rows = tableRows(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const header = (rows.shift() ?? []).map((h) => h.toLowerCase());
  const [nameAt, depsAt] = [header.indexOf('package'), header.indexOf('may depend on')];
  assert.ok(nameAt >= 0 && depsAt >= 0, 'README "Packages" table has "package" and "may depend on" columns');
  const cells = rows
    .map((r) => ({ name: /`(@layer8\/[a-z0-9-]+)`/.exec(r[nameAt] ?? '')?.[1], deps: r[depsAt] ?? '' }))
    .filter((r): r is { name: string; deps: string } => r.name !== undefined);
  const known = new Set(cells.map((c) => c.name));
  const table = new Map<string, Set<string>>();
  for (const { name, deps } of cells) table.set(name, allowedBy(deps, [...table.keys()], known, name));
  return table;
}

/** The rows of the first table after the "## Packages" heading, split into trimmed cells. */
function tableRows(readme: string): string[][] {
  const section = readme.split(/^## Packages\s*$/m)[1] ?? '';
  const lines = section.split('\n').map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines
    .slice(start, end < 0 ? undefined : end)
    .filter((l) => !/^\|[\s|:-]+\|$/.test(l))
    .map((l) =>
      l
        .slice(1, l.endsWith('|') ? -1 : undefined)
        .split('|')
        .map((c) => c.trim()),
    );
}

function allowedBy(cell: string, above: string[], known: Set<string>, row: string): Set<string> {
  const text = cell.replaceAll('`', '').toLowerCase().trim();
  if (text === 'nothing') return new Set();
  if (text === 'everything above') return new Set(above);
  const names = text.split(/[,;]/).map((t) => {
    const word = t.trim().replace(SCOPE, '').split(/\s/)[0] ?? '';
    return `${SCOPE}${word}`;
  });
  const unknown = names.filter((n) => !known.has(n));
  assert.deepEqual(unknown, [], `README: "may depend on" of ${row} names packages without a row`);
  return new Set(names);
}

describe('package layering (README "Packages" table, package.json, imports)', () => {
  const table = readmeTable();
  const packages = manifests();

  test('every package has a row in the README table, and every row a package', () => {
    assert.deepEqual(
      packages.map((p) => p.name).filter((n) => !table.has(n)),
      [],
      'packages missing from the README table',
    );
    const names = new Set(packages.map((p) => p.name));
    assert.deepEqual(
      [...table.keys()].filter((n) => !names.has(n)),
      [],
      'README rows without a package',
    );
  });

  test('a package imports only the @layer8 packages its package.json declares', () => {
    const undeclared = packages.flatMap((p) =>
      [...importedPackages(p)].filter(([dep]) => !p.declared.has(dep)).map(([dep, file]) => `${file} imports ${dep}`),
    );
    assert.deepEqual(undeclared, [], 'imports of undeclared packages');
  });

  test('every import and declared dependency is allowed by the README table', () => {
    // a package without a row fails the test above; its edges would only repeat that here
    const forbidden = packages.flatMap((p) => {
      const allowed = table.get(p.name);
      if (allowed === undefined) return [];
      const imported = [...importedPackages(p)].map(([dep, file]) => ({ dep, where: file }));
      const declared = [...p.declared].map((dep) => ({ dep, where: `packages/${p.dir}/package.json` }));
      return [...imported, ...declared]
        .filter(({ dep }) => !allowed.has(dep))
        .map(({ dep, where }) => `${p.name} -> ${dep} (${where})`);
    });
    assert.deepEqual([...new Set(forbidden)], [], 'edges the README table does not allow');
  });

  test('no import cycle among the files of packages/*/src (scripts/check-cycles.mjs)', () => {
    const cycles = script.importCycles(ROOT, imports);
    assert.deepEqual(cycles.map(script.describeCycle), []);
  });

  test('the cycle check finds cycles, self-imports included, and nothing in a chain', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    assert.deepEqual(script.stronglyConnected(graph).sort(), [['a', 'b', 'c'], ['e']]);
    assert.deepEqual(
      script.stronglyConnected(
        new Map([
          ['x', ['y']],
          ['y', []],
        ]),
      ),
      [],
    );
  });
});
