import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SeqTable } from '../src/seq-table.ts';

type Op = { readonly op: 'set' | 'delete'; readonly key: number };

/** Keys of few distinct low bits (long probe runs, wrap-around) or any sequence. */
const key = fc.oneof(
  fc.integer({ min: 1, max: 600 }),
  fc.integer({ min: 0, max: 40 }).map((k) => ((k << 8) | 255) >>> 0 || 1),
  fc.integer({ min: 1, max: 0x7fffffff }),
);

describe('SeqTable (the pending table of sequences)', () => {
  test('agrees with a Map under any sequence of sets and deletes (growth, shrink, wrap-around)', () => {
    const ops = fc.array(fc.record<Op>({ op: fc.constantFrom<Op['op']>('set', 'set', 'delete'), key }), {
      maxLength: 3000,
    });
    fc.assert(
      fc.property(ops, (list) => {
        const t = new SeqTable<number>();
        const m = new Map<number, number>();
        list.forEach(({ op, key: k }, i) => {
          if (op === 'set') {
            t.set(k, i);
            m.set(k, i);
          } else assert.equal(t.delete(k), m.delete(k));
          assert.equal(t.size, m.size);
        });
        for (const [k, v] of m) {
          assert.equal(t.get(k), v);
          assert.equal(t.has(k), true);
        }
        assert.deepEqual(
          t.keys().sort((a, b) => a - b),
          [...m.keys()].sort((a, b) => a - b),
        );
        for (const { key: k } of list) if (!m.has(k)) assert.equal(t.get(k), undefined);
      }),
      { numRuns: 200 },
    );
  });

  test('holds 100 000 entries and empties again', () => {
    const t = new SeqTable<number>();
    for (let k = 1; k <= 100_000; k++) t.set(k * 7919, k);
    assert.equal(t.size, 100_000);
    assert.equal(t.get(500 * 7919), 500);
    for (const k of t.keys()) t.delete(k);
    assert.equal(t.size, 0);
    assert.deepEqual(t.keys(), []);
  });
});

test('keys a peer may send but a request never has (0, over 2^31-1) are absent and change nothing', () => {
  const t = new SeqTable<string>();
  t.set(5, 'five');
  for (const k of [0, -1, 0x80000000, 0xffffffff, 1.5]) {
    assert.equal(t.get(k), undefined);
    assert.equal(t.has(k), false);
    assert.equal(t.delete(k), false);
  }
  assert.deepEqual([t.size, t.get(5)], [1, 'five']);
  assert.throws(() => t.set(0, 'zero'), RangeError);
});
