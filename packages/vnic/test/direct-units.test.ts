import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newNodeId, nodeIdToBytes, Offset } from '@layer8/protocol';
import { fitsDirect } from '../src/direct/direct-link.ts';

test('a frame that names another source or destination, or a control frame, may not cross a direct link', () => {
  const peer = nodeIdToBytes(newNodeId());
  const self = nodeIdToBytes(newNodeId());
  const frame = Buffer.alloc(Offset.SERVICE + 8);
  frame[Offset.VERSION] = 1;
  frame[Offset.KIND] = 1;
  frame.set(peer, Offset.SOURCE);
  frame.set(self, Offset.DESTINATION);
  assert.equal(fitsDirect(frame, peer, self), true);
  assert.equal(fitsDirect(frame, self, self), false, 'source spoofed');
  assert.equal(fitsDirect(frame, peer, peer), false, 'not addressed here');
  frame[Offset.KIND] = 6;
  assert.equal(fitsDirect(frame, peer, self), false, 'control');
});
