import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  assertNodeId,
  isNodeId,
  L8Error,
  type NodeId,
  newNodeId,
  nodeIdFromBytes,
  nodeIdToBytes,
  readNodeId,
  writeNodeId,
  ZERO_NODE_ID,
} from '../src/index.ts';
import { hexId, nodeIdArb } from './arbitraries.ts';

const invalidArgument = (e: unknown): boolean => e instanceof L8Error && e.code === 'L8_ERR_INVALID_ARGUMENT';

const INVALID: unknown[] = [
  '',
  'not-a-uuid',
  '0123456789abcdef0123456789abcdef', // no dashes
  '01234567-89ab-cdef-0123-456789abcdeF', // upper case
  '01234567-89ab-cdef-0123-456789abcde', // short
  '01234567-89ab-cdef-0123-456789abcdef0', // long
  '01234567_89ab-cdef-0123-456789abcdef', // wrong separator
  '0123456g-89ab-cdef-0123-456789abcdef', // not hex
  '01234567-89ab-cdef-0123-456789abcd\u00e1f', // U+00E1 & 0x7f is 'a'
  '01234567-89ab-cdef-0123-456789abcd\u0161f', // U+0161 & 0x7f is 'a'
  '\u0130234567-89ab-cdef-0123-456789abcdef', // U+0130 & 0x7f is '0'
  undefined,
  null,
  42,
  {},
];

describe('node ids', () => {
  test('a new node id is a lower-case UUID and unique', () => {
    const a = newNodeId();
    assert.ok(isNodeId(a));
    assert.equal(a, a.toLowerCase());
    assert.notEqual(a, newNodeId());
    assert.ok(isNodeId(ZERO_NODE_ID));
  });

  test('bytes round trip through the string form', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const id = nodeIdFromBytes(bytes);
        assert.equal(id, hexId(bytes));
        assert.ok(isNodeId(id));
        assert.deepEqual(nodeIdToBytes(id), bytes);
      }),
    );
  });

  test('writeNodeId and readNodeId agree at any offset', () => {
    fc.assert(
      fc.property(nodeIdArb, fc.nat(40), (id, offset) => {
        const buf = Buffer.alloc(offset + 16 + 3, 0xee);
        writeNodeId(buf, offset, id);
        assert.equal(readNodeId(buf, offset), id);
        assert.equal(buf[offset + 16], 0xee, 'wrote past the 16 bytes');
        if (offset > 0) assert.equal(buf[offset - 1], 0xee, 'wrote before the offset');
      }),
    );
  });

  test('invalid ids are rejected with L8_ERR_INVALID_ARGUMENT', () => {
    for (const bad of INVALID) {
      assert.equal(isNodeId(bad), false, String(bad));
      assert.throws(() => assertNodeId(bad), invalidArgument);
      assert.throws(() => nodeIdToBytes(bad as NodeId), invalidArgument);
      assert.throws(() => writeNodeId(Buffer.alloc(16), 0, bad as NodeId), invalidArgument, String(bad));
    }
    assert.equal(assertNodeId(ZERO_NODE_ID), ZERO_NODE_ID);
  });

  test('writeNodeId accepts exactly what isNodeId accepts', () => {
    const mutated = fc
      .tuple(
        nodeIdArb,
        fc.nat(35),
        fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('-', 'A', 'f', 'g')),
      )
      .map(([id, at, ch]) => id.slice(0, at) + ch + id.slice(at + 1));
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 40 })), (s) => {
        let threw = false;
        try {
          writeNodeId(Buffer.alloc(16), 0, s as NodeId);
        } catch (e) {
          assert.ok(invalidArgument(e));
          threw = true;
        }
        assert.equal(threw, !isNodeId(s), s);
      }),
      { numRuns: 2000 },
    );
  });

  test('nodeIdFromBytes wants exactly 16 bytes', () => {
    assert.throws(() => nodeIdFromBytes(new Uint8Array(15)), invalidArgument);
    assert.throws(() => nodeIdFromBytes(new Uint8Array(17)), invalidArgument);
    assert.equal(nodeIdFromBytes(new Uint8Array(16)), ZERO_NODE_ID);
  });
});
