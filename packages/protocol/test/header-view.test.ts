import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeMessage,
  destinationKey,
  encodeMessage,
  frameServiceKey,
  hasNoDestination,
  idKeyAt,
  Kind,
  newNodeId,
  nodeKey,
  Offset,
  ServiceKeyReader,
  serviceKey,
  sourceKey,
  ZERO_NODE_ID,
} from '../src/index.ts';
import { messageArb } from './arbitraries.ts';

describe('header views', () => {
  test('agree with decodeMessage on any frame', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const frame = encodeMessage(m).subarray(4);
        const d = decodeMessage(frame);
        assert.equal(sourceKey(frame), nodeKey(d.source));
        assert.equal(destinationKey(frame), nodeKey(d.destination));
        assert.equal(idKeyAt(frame, Offset.ORIGIN), nodeKey(d.origin));
        assert.equal(hasNoDestination(frame), d.destination === ZERO_NODE_ID);
        assert.equal(frameServiceKey(frame), serviceKey(d.service, d.area));
      }),
      { numRuns: 500 },
    );
  });

  test('keys tell ids and (service, area) pairs apart', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.string({ unit: 'binary' }), fc.nat(0xffff)),
        fc.tuple(fc.string(), fc.nat(0xffff)),
        (a, b) => {
          assert.equal(serviceKey(...a) === serviceKey(...b), a[0] === b[0] && a[1] === b[1]);
        },
      ),
    );
    const [x, y] = [newNodeId(), newNodeId()];
    assert.notEqual(nodeKey(x), nodeKey(y));
    assert.equal(nodeKey(x).length, 16);
  });

  test('frameServiceKey is undefined when the name runs past the frame', () => {
    const frame = Buffer.from(encodeMessage({ kind: Kind.NOTIFY, source: newNodeId(), service: 'abc' }).subarray(4));
    frame[Offset.SERVICE_LEN] = 250;
    assert.equal(frameServiceKey(frame), undefined);
  });

  test('ServiceKeyReader agrees with frameServiceKey over any run of frames (property)', () => {
    const names = fc.constantFrom('orders', 'order', 'ordersX', 'ü', '', 'a'.repeat(255));
    const frameArb = fc
      .record({ service: names, area: fc.constantFrom(0, 1, 256, 65535) })
      .map(({ service, area }) =>
        encodeMessage({ kind: Kind.NOTIFY, source: ZERO_NODE_ID, service, area }).subarray(4),
      );
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 30 }), (frames) => {
        const reader = new ServiceKeyReader();
        for (const f of frames) assert.equal(reader.keyOf(f), frameServiceKey(f));
      }),
    );
    const reader = new ServiceKeyReader();
    const frame = encodeMessage({ kind: Kind.NOTIFY, source: ZERO_NODE_ID, service: 'orders' }).subarray(4);
    assert.equal(reader.keyOf(frame), '0/orders');
    assert.equal(reader.keyOf(frame.subarray(0, Offset.SERVICE + 2)), undefined, 'a cut name');
  });
});
