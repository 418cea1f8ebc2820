import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ContentType,
  DEFAULT_HOPS,
  decodeMessage,
  encodeAnswer,
  encodeMessage,
  Kind,
  Mode,
  nodeIdToBytes,
  payloadOffset,
} from '../src/index.ts';
import { messageArb, nodeIdArb, onlyL8Errors, wireErrorArb } from './arbitraries.ts';

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
});
