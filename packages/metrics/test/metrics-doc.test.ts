import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { devProvider } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { newRegistry, registerVNetMetrics, VNicMetrics } from '../src/index.ts';

/** The rows of docs/observability.md's metric tables: name → [type, label names] (values in brackets left out). */
function documented(): Map<string, [string, string[]]> {
  const text = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');
  const rows = new Map<string, [string, string[]]>();
  for (const m of text.matchAll(/^\| `(layer8_[a-z_]+)` \| ([a-z]+) \|([^|]*)\|/gm)) {
    const labels = [
      ...(m[3] ?? '')
        .replace(/\([^)]*\)/g, '')
        .trim()
        .matchAll(/(?:^|, )`([a-z_]+)`/g),
    ].map((l) => l[1] as string);
    rows.set(m[1] as string, [m[2] as string, labels]);
  }
  return rows;
}

test('docs/observability.md lists every metric with its type and labels, and no other', async () => {
  const registry = newRegistry();
  const vnet = new VNet({ provider: devProvider(), port: 0, socketPath: false });
  registerVNetMetrics(registry, vnet);
  vnet.counters.handshake('accepted'); // every labelled metric needs a sample to show its labels
  const metrics = new VNicMetrics(registry);
  const vnic = new VNic({ provider: devProvider(), vnet: '127.0.0.1:1' });
  metrics.track(vnic);
  metrics.called('svc', 8, 'OK', 0.001);
  const registered = new Map<string, [string, string[]]>();
  for (const m of await registry.getMetricsAsJSON()) {
    const labels = new Set(m.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le'));
    registered.set(m.name, [String(m.type), [...labels]]);
  }
  await vnic.close();
  const docs = documented();
  assert.deepEqual([...docs.keys()].sort(), [...registered.keys()].sort());
  for (const [name, [type, labels]] of registered) {
    const [docType, docLabels] = docs.get(name) ?? ['', []];
    assert.equal(docType, type, `${name}: type`);
    assert.deepEqual([...docLabels].sort(), [...labels].sort(), `${name}: labels`);
  }
});
