import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Action,
  ContentType,
  decodeMessage,
  encodeData,
  Kind,
  type L8Error,
  Mode,
  newNodeId,
  nodeIdToBytes,
} from '../src/index.ts';

test('encodeData frames decode to the same fields', () => {
  fc.assert(
    fc.property(
      fc.record({
        area: fc.integer({ min: 0, max: 0xffff }),
        sequence: fc.integer({ min: 0, max: 0xffffffff }),
        deadlineMs: fc.integer({ min: 0, max: 0xffffffff }),
        service: fc.string({ maxLength: 60 }),
        traceparent: fc.stringMatching(/^[0-9a-f-]{0,55}$/),
        aaa: fc.string({ maxLength: 40 }),
        payload: fc.uint8Array({ maxLength: 200 }),
      }),
      (r) => {
        const [source, origin, destination] = [newNodeId(), newNodeId(), newNodeId()];
        const frame = encodeData({
          kind: Kind.REQUEST,
          mode: Mode.ROUND_ROBIN,
          priority: 3,
          hops: 4,
          area: r.area,
          sequence: r.sequence,
          deadlineMs: r.deadlineMs,
          source: nodeIdToBytes(source),
          origin: nodeIdToBytes(origin),
          destination: nodeIdToBytes(destination),
          contentType: ContentType.BINARY,
          action: Action.GET,
          service: Buffer.from(r.service, 'utf8'),
          traceparent: r.traceparent,
          aaa: r.aaa,
          payload: r.payload,
        });
        const m = decodeMessage(frame.subarray(4));
        assert.equal(frame.readUInt32BE(0), frame.length - 4);
        assert.deepEqual(
          [m.kind, m.mode, m.priority, m.hops, m.area, m.sequence, m.deadlineMs, m.source, m.origin, m.destination],
          [Kind.REQUEST, Mode.ROUND_ROBIN, 3, 4, r.area, r.sequence, r.deadlineMs, source, origin, destination],
        );
        assert.equal(m.service, r.service);
        assert.equal(m.traceparent ?? '', r.traceparent);
        assert.equal(m.aaa, r.aaa);
        assert.deepEqual([...m.payload], [...r.payload]);
      },
    ),
  );
});

test('encodeData refuses a service name over 255 bytes', () => {
  const id = nodeIdToBytes(newNodeId());
  assert.throws(
    () =>
      encodeData({
        kind: Kind.NOTIFY,
        mode: 0,
        priority: 4,
        hops: 4,
        area: 0,
        sequence: 0,
        deadlineMs: 0,
        source: id,
        origin: id,
        destination: id,
        contentType: 0,
        action: 0,
        service: new Uint8Array(256),
        traceparent: '',
        aaa: '',
        payload: new Uint8Array(0),
      }),
    (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
  );
});
