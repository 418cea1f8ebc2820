import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Action,
  ContentType,
  decodeMessage,
  encodeData,
  encodeMessage,
  Flag,
  Kind,
  type L8Error,
  Mode,
  newNodeId,
  nodeIdToBytes,
  Offset,
  payloadOffset,
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

test('an idempotency key travels in its own block, before the payload, both encoders agree', () => {
  const id = nodeIdToBytes(newNodeId());
  const base = {
    kind: Kind.REQUEST,
    mode: 0,
    priority: 4,
    hops: 4,
    area: 0,
    sequence: 7,
    deadlineMs: 0,
    source: id,
    origin: id,
    destination: id,
    contentType: 1,
    action: 1,
    service: Buffer.from('orders'),
    traceparent: '',
    aaa: 'alice',
    payload: Buffer.from('body'),
  } as const;
  for (const key of ['k-1', 'clé-ünïcode', 'x'.repeat(255)]) {
    const frame = encodeData({ ...base, idempotencyKey: key }).subarray(4);
    const m = decodeMessage(frame);
    assert.equal(m.idempotencyKey, key);
    assert.equal(Buffer.from(m.payload).toString(), 'body');
    assert.equal(frame.subarray(payloadOffset(frame)).toString(), 'body');
    assert.ok(((frame[Offset.FLAGS] as number) & Flag.IDEMPOTENCY) !== 0);
    const again = encodeMessage({ ...m, payload: Buffer.from('body') }).subarray(4);
    assert.ok(again.equals(frame), 'encodeMessage writes the same bytes');
  }
  assert.equal(decodeMessage(encodeData(base).subarray(4)).idempotencyKey, undefined);
  assert.throws(
    () => encodeData({ ...base, idempotencyKey: 'x'.repeat(256) }),
    (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
  );
});
