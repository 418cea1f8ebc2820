import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTopology, devProvider } from '@layer8/testkit';

test('request/reply across two VNets', async () => {
  const topo = await startTopology({ vnets: 2, vnicsPerVnet: 2, provider: () => devProvider() });
  try {
    await topo.converged();
    const [a, b] = [topo.vnics[0]![0]!, topo.vnics[1]![1]!];
    b.subscribe('echo', 0, (m) => ({ got: m.json() }));
    await topo.converged();
    const { waitFor } = await import('@layer8/testkit');
    await waitFor(() => a.health.instances('echo', 0).length === 1);
    const r = await a.request({ service: 'echo' }, { x: 1 });
    assert.deepEqual(r.json(), { got: { x: 1 } });
  } finally {
    await topo.close();
  }
});
