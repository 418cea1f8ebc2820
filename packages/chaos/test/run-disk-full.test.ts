import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChaosOverlay, runChaos } from '@layer8/chaos';

/**
 * The `disk-full` fault (`l8 chaos run --disk-full`): the chaos store, a stateful service of
 * @layer8/services on SQLite, runs in a VNic process of its own on a tmpfs the run mounts (this test runs
 * as root, as CI does: `mount` needs it). The fault fills that file system for its hold while a VNic of
 * the other host writes over the overlay: every write meanwhile must be refused with L8_ERR_STORAGE, every
 * acknowledged write must be read back after the free, and the store must take writes again.
 */
describe('l8 chaos run --disk-full: a full disk under a store, seen by its callers', { timeout: 60_000 }, () => {
  let overlay: ChaosOverlay;

  before(async () => {
    overlay = await ChaosOverlay.start({ vnets: 2, vnicsPerVnet: 1, diskFull: true });
  });

  after(() => overlay?.close());

  test('writes refused with L8_ERR_STORAGE while full, none acknowledged lost, recovered after the free', async (t) => {
    assert.equal(overlay.diskLeftOut, undefined, 'the tmpfs was mounted (root)');
    const r = await runChaos(overlay, {
      seed: 5,
      durationMs: 1000,
      kinds: ['disk-full'],
      onProgress: (l) => t.diagnostic(l),
    });
    t.diagnostic(JSON.stringify(r.disk));
    assert.deepEqual(
      r.faults.map((f) => [f.kind, f.error]),
      [['disk-full', undefined]],
    );
    const [fault] = r.faults;
    assert.ok((fault?.disk?.heldWrites ?? 0) > 0, 'writes were tried while the disk was full');
    assert.equal(r.disk?.refusedByCode.L8_ERR_STORAGE, fault?.disk?.heldWrites, 'each refused with L8_ERR_STORAGE');
    assert.equal(r.disk?.lostAcknowledged, 0, 'every acknowledged write read back');
    assert.equal(r.disk?.phantoms, 0, 'no refused write there after all');
    assert.ok((r.disk?.acknowledged ?? 0) >= 6, 'writes before the fill and after the free');
    assert.notEqual(r.detectMs['disk-full'], null);
    assert.notEqual(r.recoverMs['disk-full'], null);
    assert.equal(r.lost, 0);
    assert.equal(r.crashes, 0);
    assert.ok(r.health.identical, `health tables differ: ${r.health.differing.join(', ')}`);
    assert.ok(r.ok, JSON.stringify(r.checks.filter((c) => !c.ok)));
  });
});
