import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type DataInit, encodeData, encodeMessage, nodeIdToBytes } from '../src/index.ts';
import { messageArb } from './arbitraries.ts';
import { sameUnderPoison } from './poison.ts';

/**
 * Every encoder that takes an allocUnsafe buffer writes each of its bytes (docs/protocol.md §2-§4; the
 * house rule on allocUnsafe): the same inputs give the same bytes whatever the pool held before.
 */
describe('allocUnsafe buffers leave the process fully written', () => {
  test('encodeMessage', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        assert.ok(sameUnderPoison(() => encodeMessage(m)) !== undefined);
      }),
      { numRuns: 500 },
    );
  });

  test('encodeData (writeData) writes what encodeMessage writes', () => {
    // writeData has no error or transaction block and writes the traceparent as latin1
    const dataLike = messageArb.map((m) => ({
      ...m,
      error: undefined,
      tx: undefined,
      traceparent: isAscii(m.traceparent ?? '') ? m.traceparent : undefined,
    }));
    fc.assert(
      fc.property(dataLike, (m) => {
        const d: DataInit = {
          ...m,
          source: nodeIdToBytes(m.source),
          origin: nodeIdToBytes(m.origin),
          destination: nodeIdToBytes(m.destination),
          service: Buffer.from(m.service, 'utf8'),
          traceparent: m.traceparent ?? '',
        };
        const data = sameUnderPoison(() => encodeData(d));
        assert.ok(data !== undefined);
        assert.deepEqual(data, encodeMessage(m));
      }),
      { numRuns: 500 },
    );
  });
});

function isAscii(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length;
}
