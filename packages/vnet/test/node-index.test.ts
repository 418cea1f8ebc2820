import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newNodeId, nodeIdToBytes } from '@layer8/protocol';
import { NodeIndex } from '@layer8/vnet/internal';

test('NodeIndex finds ids inside frames and tells apart ids that share a prefix', () => {
  const index = new NodeIndex<string>();
  const a = nodeIdToBytes(newNodeId());
  const b = Uint8Array.from(a);
  b[15] = (b[15] as number) ^ 1; // same 6-byte prefix, another id
  index.set(a, 'a');
  index.set(b, 'b');
  const frame = new Uint8Array(64);
  frame.set(b, 48);
  assert.equal(index.get(frame, 48), 'b');
  frame.set(a, 48);
  assert.equal(index.get(frame, 48), 'a');
  index.set(a, 'a2');
  assert.equal(index.get(frame, 48), 'a2');
  assert.equal(index.has(nodeIdToBytes(newNodeId()), 0), false);
  index.clear();
  assert.equal(index.has(frame, 48), false);
});
