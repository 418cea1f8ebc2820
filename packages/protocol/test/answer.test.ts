import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type AnswerInit,
  ContentType,
  DEFAULT_HOPS,
  decodeMessage,
  encodeAnswer,
  encodeMessage,
  Kind,
  type L8Error,
  Mode,
  type NodeId,
  nodeIdToBytes,
  Offset,
  payloadOffset,
  type WireError,
} from '../src/index.ts';
import { messageArb, nodeIdArb, onlyL8Errors, wireErrorArb } from './arbitraries.ts';
import { poisonPool } from './poison.ts';

/** The error block of docs/protocol.md §4, built from zeroed buffers. */
function errorBlock(e: WireError): Buffer {
  const code = Buffer.from(e.code, 'utf8');
  const message = Buffer.from(e.message, 'utf8');
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(e.data), 'utf8');
  const lengths = Buffer.alloc(10);
  lengths.writeUInt16BE(code.length, 0);
  lengths.writeUInt32BE(message.length, 2);
  lengths.writeUInt32BE(data.length, 6);
  return Buffer.concat([lengths.subarray(0, 2), code, lengths.subarray(2, 6), message, lengths.subarray(6), data]);
}

/**
 * What encodeAnswer must return, built field by field into Buffer.alloc'd (zeroed) buffers; undefined when
 * the request's service name runs past its end.
 */
function referenceAnswer(request: Buffer, a: AnswerInit): Buffer | undefined {
  if (request.length < 67) return undefined;
  const serviceLen = request[Offset.SERVICE_LEN] as number;
  if (67 + serviceLen > request.length) return undefined;
  const fixed = Buffer.alloc(4 + 67);
  fixed[4] = 1;
  fixed[5] = a.kind;
  fixed[7] = request[Offset.PRIORITY] as number;
  fixed[8] = DEFAULT_HOPS;
  fixed[9] = a.error === undefined ? 0 : 2;
  request.copy(fixed, 4 + 6, 6, 12);
  fixed.set(a.source, 4 + 16);
  fixed.set(a.origin, 4 + 32);
  request.copy(fixed, 4 + 48, 16, 32);
  fixed[4 + 64] = a.contentType;
  fixed[4 + 66] = serviceLen;
  const service = request.subarray(67, 67 + serviceLen);
  const error = a.error === undefined ? Buffer.alloc(0) : errorBlock(a.error);
  const out = Buffer.concat([fixed, service, Buffer.alloc(3), error, a.payload]);
  out.writeUInt32BE(out.length - 4, 0);
  return out;
}

/** A request with one length field changed or the frame cut, as a hostile peer would send it. */
const hostileRequestArb = fc
  .tuple(
    messageArb,
    fc.oneof(
      fc.record({ cut: fc.nat() }),
      fc.record({ serviceLen: fc.nat(255) }),
      fc.record({ traceLen: fc.nat(255) }),
      fc.record({ aaaLen: fc.nat(0xffff) }),
      fc.record({ flags: fc.nat(7) }),
    ),
  )
  .map(([m, change]) => {
    const frame = Buffer.from(encodeMessage({ ...m, kind: Kind.REQUEST }).subarray(4));
    const traceAt = 67 + (frame[Offset.SERVICE_LEN] as number);
    const aaaAt = traceAt + 1 + (frame[traceAt] as number);
    if ('cut' in change) return frame.subarray(0, change.cut % (frame.length + 1));
    if ('serviceLen' in change) frame[Offset.SERVICE_LEN] = change.serviceLen;
    else if ('traceLen' in change) frame[traceAt] = change.traceLen;
    else if ('aaaLen' in change) frame.writeUInt16BE(change.aaaLen, aaaAt);
    else frame[Offset.FLAGS] = change.flags;
    return frame;
  });

const answerInitArb: fc.Arbitrary<AnswerInit> = fc
  .record({
    source: nodeIdArb,
    origin: nodeIdArb,
    error: fc.option(wireErrorArb, { nil: undefined }),
    payload: fc.uint8Array({ maxLength: 100 }),
  })
  .map(({ source, origin, error, payload }) => ({
    kind: error === undefined ? Kind.REPLY : Kind.FAIL,
    source: nodeIdToBytes(source),
    origin: nodeIdToBytes(origin),
    contentType: ContentType.BINARY,
    payload,
    error,
  }));

describe('answer fast paths', () => {
  test('payloadOffset agrees with decodeMessage', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const frame = encodeMessage(m).subarray(4);
        assert.equal(payloadOffset(frame), frame.length - decodeMessage(frame).payload.length);
      }),
      { numRuns: 300 },
    );
  });

  test('payloadOffset on truncated or mutated frames: an offset inside the frame or L8_ERR_MALFORMED_FRAME', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.nat(255), fc.nat(), (m, cut, value, at) => {
        const whole = Buffer.from(encodeMessage(m).subarray(4));
        whole[67 + (at % Math.max(1, whole.length - 67))] = value;
        const frame = whole.subarray(0, 67 + (cut % (whole.length - 66)));
        let offset = -1;
        onlyL8Errors(() => {
          offset = payloadOffset(frame);
        }, ['L8_ERR_MALFORMED_FRAME']);
        assert.ok(offset <= frame.length);
      }),
      { numRuns: 1000 },
    );
  });

  test('an answer decodes as the reply to its request', () => {
    fc.assert(
      fc.property(
        messageArb,
        nodeIdArb,
        nodeIdArb,
        fc.option(wireErrorArb, { nil: undefined }),
        fc.uint8Array({ maxLength: 100 }),
        (req, source, origin, error, payload) => {
          const request = encodeMessage(req).subarray(4);
          const kind = error === undefined ? Kind.REPLY : Kind.FAIL;
          const wire = encodeAnswer(request, {
            kind,
            source: nodeIdToBytes(source),
            origin: nodeIdToBytes(origin),
            contentType: ContentType.JSON,
            payload,
            error,
          });
          assert.equal(wire.readUInt32BE(0), wire.length - 4);
          const a = decodeMessage(wire.subarray(4));
          assert.equal(a.kind, kind);
          assert.equal(a.mode, Mode.UNICAST);
          assert.equal(a.priority, req.priority);
          assert.equal(a.hops, DEFAULT_HOPS);
          assert.equal(a.sequence, req.sequence);
          assert.equal(a.area, req.area);
          assert.equal(a.service, req.service);
          assert.equal(a.destination, req.source);
          assert.equal(a.source, source);
          assert.equal(a.origin, origin);
          assert.equal(a.deadlineMs, 0);
          assert.equal(a.traceparent, undefined);
          assert.equal(a.aaa, '');
          assert.equal(a.tx, undefined);
          assert.deepEqual(a.error, error === undefined ? undefined : JSON.parse(JSON.stringify(error)));
          assert.deepEqual(Buffer.from(a.payload), Buffer.from(payload));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a 67-byte request whose SERVICE_LEN says 255 is refused, not answered with 255 bytes of memory', () => {
    const request = Buffer.from(
      encodeMessage({ kind: Kind.REQUEST, source: '11111111-2222-4333-8444-555555555555' as NodeId }),
    );
    const truncated = request.subarray(4, 4 + 67);
    truncated[Offset.SERVICE_LEN] = 255;
    poisonPool(0xaa);
    assert.throws(
      () =>
        encodeAnswer(truncated, {
          kind: Kind.FAIL,
          source: new Uint8Array(16),
          origin: new Uint8Array(16),
          contentType: ContentType.NONE,
          payload: new Uint8Array(0),
          error: { code: 'L8_ERR_NO_SERVICE', message: 'no handler' },
        }),
      (e: L8Error) => e.code === 'L8_ERR_MALFORMED_FRAME',
    );
  });

  test('source and origin must be 16 bytes, an error code at most 65535 bytes', () => {
    const request = encodeMessage({
      kind: Kind.REQUEST,
      source: '11111111-2222-4333-8444-555555555555' as NodeId,
    }).subarray(4);
    const init = { kind: Kind.REPLY, contentType: ContentType.NONE, payload: new Uint8Array(0) } as const;
    for (const [source, origin] of [
      [new Uint8Array(15), new Uint8Array(16)],
      [new Uint8Array(16), new Uint8Array(17)],
    ] as const) {
      assert.throws(
        () => encodeAnswer(request, { ...init, source, origin }),
        (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
      );
    }
    const ids = { source: new Uint8Array(16), origin: new Uint8Array(16) };
    assert.throws(
      () => encodeAnswer(request, { ...init, ...ids, error: { code: 'x'.repeat(0x10000), message: '' } }),
      (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
    );
  });

  test('on truncated and inflated lengths: L8_ERR_MALFORMED_FRAME, or every byte determined by the inputs', () => {
    fc.assert(
      fc.property(hostileRequestArb, answerInitArb, (request, init) => {
        onlyL8Errors(() => assert.ok(payloadOffset(request) <= request.length), ['L8_ERR_MALFORMED_FRAME']);
        const expected = referenceAnswer(request, init);
        let first: Buffer | undefined;
        poisonPool(0xaa);
        const err = onlyL8Errors(() => {
          first = encodeAnswer(request, init);
        }, ['L8_ERR_MALFORMED_FRAME']);
        if (expected === undefined) {
          assert.ok(err !== undefined, 'a request whose service runs past its end is refused');
          return;
        }
        assert.equal(err, undefined);
        assert.deepEqual(first, expected);
        poisonPool(0x55);
        assert.deepEqual(encodeAnswer(request, init), first, 'the same inputs give the same bytes');
      }),
      { numRuns: 1000 },
    );
  });
});
