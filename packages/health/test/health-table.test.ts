import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeId } from '@layer8/protocol';
import { type HealthEvent, type HealthRecord, HealthTable, parseDelta, StatsSampler } from '../src/index.ts';

const V1 = '11111111-1111-4111-8111-111111111111' as NodeId;
const V2 = '22222222-2222-4222-8222-222222222222' as NodeId;
const N1 = '33333333-3333-4333-8333-333333333333' as NodeId;
const N2 = '44444444-4444-4444-8444-444444444444' as NodeId;

function rec(
  id: NodeId,
  vnet: NodeId,
  services: { service: string; area: number }[] = [],
  status: 'up' | 'unreachable' = 'up',
): HealthRecord {
  return {
    id,
    vnet,
    alias: id.slice(0, 4),
    role: id === vnet ? 'vnet' : 'vnic',
    services,
    status,
    startedAt: 1,
    updatedAt: 1,
  };
}

describe('HealthTable', () => {
  test('a stats delta updates known records at its sequence only, never advances it, never adds a node', () => {
    const t = new HealthTable();
    t.applyDelta({ vnet: V1, seq: 4, full: true, upsert: [rec(V1, V1), rec(N1, V1)], remove: [] });
    const stats = {
      framesIn: 1,
      framesOut: 2,
      bytesIn: 3,
      bytesOut: 4,
      cpuUs: 5,
      rssBytes: 6,
      heapUsedBytes: 7,
      eventLoopDelayMs: 8,
    };
    const loaded = { ...rec(N1, V1), stats };
    const applied = t.applyDelta({
      vnet: V1,
      seq: 4,
      full: false,
      upsert: [loaded, { ...rec(N2, V1), stats }],
      remove: [],
      stats: true,
    });
    assert.deepEqual(applied?.upsert, [loaded], 'an unknown node is not added by a stats delta');
    assert.deepEqual(t.get(N1)?.stats, stats);
    assert.equal(t.get(N2), undefined);
    assert.equal(t.seqOf(V1), 4, 'the sequence stays');
    const stale = t.applyDelta({
      vnet: V1,
      seq: 3,
      full: false,
      upsert: [{ ...loaded, stats: { ...stats, cpuUs: 99 } }],
      remove: [],
      stats: true,
    });
    assert.deepEqual(stale?.upsert, [], 'out of step: nothing applied, and no resync asked (not undefined)');
    assert.equal(t.get(N1)?.stats?.cpuUs, 5);
    assert.ok(
      t.applyDelta({ vnet: V1, seq: 5, full: false, upsert: [rec(N2, V1)], remove: [] }),
      'the next membership delta follows',
    );
  });

  test('indexes services and lists reachable instances only', () => {
    const t = new HealthTable();
    t.upsert(rec(N1, V1, [{ service: 's', area: 1 }]));
    t.upsert(rec(N2, V2, [{ service: 's', area: 1 }], 'unreachable'));
    assert.deepEqual(t.hosts('s', 1).sort(), [N1, N2].sort());
    assert.deepEqual(
      t.instances('s', 1).map((r) => r.id),
      [N1],
    );
    assert.deepEqual(t.instances('s', 2), []);
    t.upsert(rec(N1, V1, []));
    assert.deepEqual(t.hosts('s', 1), [N2]);
  });

  test('emits added, changed, unreachable and removed', () => {
    const t = new HealthTable();
    const seen: HealthEvent['type'][] = [];
    const off = t.onChange((e) => seen.push(e.type));
    t.upsert(rec(N1, V1));
    t.upsert(rec(N1, V1, [{ service: 'x', area: 0 }]));
    t.upsert(rec(N1, V1, [], 'unreachable'));
    assert.equal(t.remove(N1), true);
    assert.equal(t.remove(N1), false);
    off();
    t.upsert(rec(N2, V1));
    assert.deepEqual(seen, ['added', 'changed', 'unreachable', 'removed']);
  });

  test('applies deltas in sequence, refuses gaps, full deltas replace a slice', () => {
    const t = new HealthTable();
    assert.equal(
      t.applyDelta({ vnet: V1, seq: 5, full: false, upsert: [rec(N1, V1)], remove: [] }),
      undefined,
      'no base yet',
    );
    assert.ok(t.applyDelta({ vnet: V1, seq: 5, full: true, upsert: [rec(V1, V1), rec(N1, V1)], remove: [] }));
    assert.equal(t.seqOf(V1), 5);
    assert.equal(t.applyDelta({ vnet: V1, seq: 7, full: false, upsert: [], remove: [N1] }), undefined, 'gap');
    assert.ok(t.applyDelta({ vnet: V1, seq: 6, full: false, upsert: [rec(N2, V1)], remove: [N1] }));
    assert.deepEqual(
      t
        .sliceOf(V1)
        .map((r) => r.id)
        .sort(),
      [V1, N2].sort(),
    );
    assert.ok(t.applyDelta({ vnet: V1, seq: 9, full: true, upsert: [rec(V1, V1)], remove: [] }));
    assert.deepEqual(
      t.sliceOf(V1).map((r) => r.id),
      [V1],
    );
    assert.deepEqual(t.writers(), [V1]);
    t.dropSlice(V1);
    assert.equal(t.size, 0);
    assert.equal(t.seqOf(V1), undefined);
  });

  test('a writer writes only its own slice: other writers, guarded records and foreign removals are skipped', () => {
    const t = new HealthTable();
    t.applyDelta({ vnet: V2, seq: 1, full: true, upsert: [rec(V2, V2), rec(N2, V2)], remove: [] });
    const applied = t.applyDelta(
      { vnet: V1, seq: 1, full: true, upsert: [rec(V1, V1), rec(N2, V2), rec(N1, V1)], remove: [] },
      (r) => r.id !== N1,
    );
    assert.deepEqual(
      applied?.upsert.map((r) => r.id),
      [V1],
    );
    assert.equal(t.get(N2)?.vnet, V2);
    assert.equal(t.get(N1), undefined);
    const removed = t.applyDelta({ vnet: V1, seq: 2, full: false, upsert: [], remove: [N2, V2] });
    assert.deepEqual(removed?.remove, []);
    assert.equal(t.get(N2)?.vnet, V2);
    assert.equal(t.skipped, 4);
  });

  test('a full slice in parts: the full chunk replaces, parts with the same sequence add', () => {
    const t = new HealthTable();
    t.applyDelta({ vnet: V1, seq: 3, full: true, upsert: [rec(V1, V1), rec(N2, V1)], remove: [] });
    assert.ok(t.applyDelta({ vnet: V1, seq: 4, full: true, upsert: [rec(V1, V1)], remove: [] }));
    assert.ok(t.applyDelta({ vnet: V1, seq: 4, full: true, part: true, upsert: [rec(N1, V1)], remove: [] }));
    assert.deepEqual(
      t
        .sliceOf(V1)
        .map((r) => r.id)
        .sort(),
      [V1, N1].sort(),
    );
    assert.equal(t.applyDelta({ vnet: V1, seq: 3, full: true, part: true, upsert: [], remove: [] }), undefined);
  });

  test('parseDelta accepts well-formed deltas only', () => {
    assert.ok(parseDelta({ vnet: V1, seq: 1, full: true, upsert: [rec(N1, V1)], remove: [] }));
    for (const bad of [
      null,
      1,
      { vnet: V1 },
      { vnet: V1, seq: 1, full: true, upsert: [{ id: 1 }], remove: [] },
      { vnet: V1, seq: 1, full: true, upsert: [], remove: [3] },
      { vnet: V1, seq: 1, full: true, upsert: [{ ...rec(N1, V1), services: [null] }], remove: [] },
      { vnet: V1, seq: 1, full: true, upsert: [{ ...rec(N1, V1), services: [{ service: '', area: 0 }] }], remove: [] },
      { vnet: V1, seq: 1, full: true, upsert: [{ ...rec(N1, V1), alias: 'a'.repeat(256) }], remove: [] },
      { vnet: 'not-an-id', seq: 1, full: true, upsert: [], remove: [] },
      { vnet: V1, seq: -1, full: true, upsert: [], remove: [] },
    ]) {
      assert.equal(parseDelta(bad), undefined);
    }
  });

  test('StatsSampler reports process load with the traffic counters', () => {
    const s = new StatsSampler();
    const stats = s.sample({ framesIn: 1, framesOut: 2, bytesIn: 3, bytesOut: 4 });
    s.close();
    assert.equal(stats.framesOut, 2);
    assert.ok(stats.rssBytes > 0 && stats.heapUsedBytes > 0 && stats.cpuUs > 0);
    assert.ok(stats.eventLoopDelayMs >= 0);
  });
});

test('a throwing listener does not stop the table or other listeners', () => {
  const t = new HealthTable();
  let seen = 0;
  t.onChange(() => {
    throw new Error('listener bug');
  });
  t.onChange(() => void seen++);
  t.upsert(rec(N1, V1));
  assert.equal(seen, 1);
  assert.equal(t.size, 1);
});
