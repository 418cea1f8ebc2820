import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HOT_COUNT, HOT_WINDOW, HotNodes } from '../src/direct/hot-nodes.ts';

describe('HotNodes: which destinations are worth a direct link', () => {
  test('a node is hot once it had HOT_COUNT of the last HOT_WINDOW requests, not before', () => {
    const hot = new HotNodes();
    for (let i = 1; i < HOT_COUNT; i++) assert.equal(hot.hit('a'), false);
    assert.equal(hot.hit('a'), true);
  });

  test('requests spread round-robin over many nodes make none hot', () => {
    const hot = new HotNodes();
    const nodes = Array.from({ length: 8 }, (_, i) => `n${i}`);
    for (let i = 0; i < 10 * HOT_WINDOW; i++) assert.equal(hot.hit(nodes[i % nodes.length] as string), false);
  });

  test('matches a count over a sliding window of the last HOT_WINDOW requests (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 400 }), (seq) => {
        const hot = new HotNodes();
        seq.forEach((node, i) => {
          const window = seq.slice(Math.max(0, i + 1 - HOT_WINDOW), i + 1);
          const expected = window.filter((n) => n === node).length >= HOT_COUNT;
          assert.equal(hot.hit(node), expected);
        });
      }),
    );
  });
});
