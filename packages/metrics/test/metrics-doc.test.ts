import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { allMetrics } from './all-metrics.ts';

/** The rows of docs/operations.md's metric tables: name → [type, label names] (values in brackets left out). */
function documented(): Map<string, [string, string[]]> {
  const text = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
  const rows = new Map<string, [string, string[]]>();
  for (const m of text.matchAll(/^\| `(layer8_[a-z_]+)` \| ([a-z]+) \|([^|]*)\|/gm)) {
    const labels = [
      ...(m[3] ?? '')
        .replace(/\([^)]*\)/g, '')
        .trim()
        .matchAll(/(?:^|, )`([a-z_]+)`/g),
    ].map((l) => l[1] as string);
    assert.ok(!rows.has(m[1] as string), `${m[1]} is documented once`);
    rows.set(m[1] as string, [m[2] as string, labels]);
  }
  return rows;
}

test('docs/operations.md lists every Layer8 metric with its type and labels, and no other', async () => {
  const all = await allMetrics();
  const registered = new Map<string, [string, string[]]>();
  for (const m of await all.registry.getMetricsAsJSON()) {
    if (!m.name.startsWith('layer8_')) continue;
    const labels = new Set(m.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le'));
    registered.set(m.name, [String(m.type), [...labels]]);
  }
  await all.close();
  const docs = documented();
  assert.deepEqual([...docs.keys()].sort(), [...registered.keys()].sort());
  for (const [name, [type, labels]] of registered) {
    const [docType, docLabels] = docs.get(name) ?? ['', []];
    assert.equal(docType, type, `${name}: type`);
    assert.deepEqual([...docLabels].sort(), [...labels].sort(), `${name}: labels`);
  }
});
