import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { devProvider, tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic, type VNicState } from '@layer8/vnic';

/**
 * A VNet that dies and returns under a new id (kill -9 and restart: `l8 chaos run` found both). Its VNics
 * must forget the old VNet's slice (nobody else holds it, so no `drop` ever comes), and they must be back
 * soon after it returns however long it was away.
 */
describe('a VNic whose VNet comes back as a new VNet', () => {
  test("its health table drops the old VNet's slice: exactly the new VNet and itself", async () => {
    const dir = tempDir();
    const sock = `${dir.path}/v.sock`;
    const vnet = (): VNet => new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: sock });
    const first = vnet();
    await first.start();
    const n = new VNic({ provider: devProvider(), vnet: { path: sock }, reconnect: { firstMs: 20, maxMs: 100 } });
    const second = vnet();
    try {
      await n.connect();
      assert.ok(n.health.get(first.id), 'the first VNet is in the table');
      await first.close();
      await waitFor(() => n.state !== 'connected', { what: 'the link lost' });
      await second.start();
      await waitFor(() => n.state === 'connected' && n.health.get(second.id) !== undefined, { what: 'back' });
      assert.equal(n.health.get(first.id), undefined, "the old VNet's record is gone");
      assert.deepEqual(n.health.writers(), [second.id]);
      assert.deepEqual(
        n.health
          .all()
          .map((r) => r.id)
          .sort(),
        [n.id, second.id].sort(),
      );
    } finally {
      await n.close();
      await Promise.all([first.close(), second.close()]);
      dir.remove();
    }
  });

  test('after six failed redials of its unix socket, the next one comes within 2 s (the local cap is 1 s)', async () => {
    const dir = tempDir();
    const sock = `${dir.path}/v.sock`;
    const vnet = (): VNet => new VNet({ provider: devProvider(), host: '127.0.0.2', port: 0, socketPath: sock });
    const first = vnet();
    await first.start();
    // the default back-off: 100 ms doubling; with the TCP cap of 5 s the seventh wait is 3.2 s ± 30 %
    const n = new VNic({ provider: devProvider(), vnet: { path: sock } });
    const second = vnet();
    const states: VNicState[] = [];
    try {
      await n.connect();
      const watching = (async () => {
        for await (const s of n.status()) states.push(s.state);
      })();
      await first.close();
      const failed = (): number =>
        states.filter((s, i) => s === 'disconnected' && states[i - 1] === 'reconnecting').length;
      await waitFor(() => failed() >= 6, { timeoutMs: 10_000, what: 'six failed redials' });
      const back = performance.now();
      await second.start();
      await waitFor(() => n.state === 'connected', { timeoutMs: 10_000, what: 'reconnected' });
      assert.ok(
        performance.now() - back < 2000,
        `reconnected ${Math.round(performance.now() - back)} ms after the VNet returned`,
      );
      await n.close();
      await watching;
    } finally {
      await n.close();
      await Promise.all([first.close(), second.close()]);
      dir.remove();
    }
  });
});
