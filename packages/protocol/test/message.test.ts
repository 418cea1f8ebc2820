import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  Action,
  ContentType,
  DEFAULT_HOPS,
  decodeMessage,
  encodeMessage,
  FIXED_HEADER_SIZE,
  Flag,
  Kind,
  L8Error,
  type MessageInit,
  Mode,
  type NodeId,
  newNodeId,
  Offset,
  PROTOCOL_VERSION,
  Priority,
  TxState,
  ZERO_NODE_ID,
} from '../src/index.ts';
import { assertSameMessage, messageArb } from './arbitraries.ts';

const invalidArgument = (e: unknown): boolean => e instanceof L8Error && e.code === 'L8_ERR_INVALID_ARGUMENT';
const source = newNodeId();

describe('encodeMessage and decodeMessage', () => {
  test('any message survives a round trip', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const wire = encodeMessage(m);
        assert.equal(wire.readUInt32BE(0), wire.length - 4, 'length prefix');
        assertSameMessage(decodeMessage(wire.subarray(4)), m);
      }),
      { numRuns: 500 },
    );
  });

  test('the fixed header sits at the documented offsets', () => {
    const destination = newNodeId();
    const wire = encodeMessage({
      kind: Kind.REQUEST,
      mode: Mode.LEADER,
      priority: Priority.HIGH,
      hops: 3,
      area: 0x1234,
      sequence: 0xdeadbeef,
      deadlineMs: 2500,
      source,
      destination,
      contentType: ContentType.JSON,
      action: Action.PATCH,
      service: 'orders',
      traceparent: 't',
      payload: Buffer.from('{}'),
    });
    const f = wire.subarray(4);
    assert.equal(f[Offset.VERSION], PROTOCOL_VERSION);
    assert.equal(f[Offset.KIND], Kind.REQUEST);
    assert.equal(f[Offset.MODE], Mode.LEADER);
    assert.equal(f[Offset.PRIORITY], Priority.HIGH);
    assert.equal(f[Offset.HOPS], 3);
    assert.equal(f[Offset.FLAGS], Flag.TRACE);
    assert.equal(f.readUInt16BE(Offset.AREA), 0x1234);
    assert.equal(f.readUInt32BE(Offset.SEQUENCE), 0xdeadbeef);
    assert.equal(f.readUInt32BE(Offset.DEADLINE), 2500);
    assert.equal(
      f.subarray(Offset.DESTINATION, Offset.DESTINATION + 16).toString('hex'),
      destination.replaceAll('-', ''),
    );
    assert.equal(f[Offset.CONTENT_TYPE], ContentType.JSON);
    assert.equal(f[Offset.ACTION], Action.PATCH);
    assert.equal(f[Offset.SERVICE_LEN], 6);
    assert.equal(f.toString('utf8', Offset.SERVICE, Offset.SERVICE + 6), 'orders');
    assert.equal(f[FIXED_HEADER_SIZE + 6], 1, 'trace length');
    assert.equal(f.length, FIXED_HEADER_SIZE + 6 + 1 + 1 + 2 + 2);
  });

  test('unset fields take their defaults', () => {
    const m = decodeMessage(encodeMessage({ kind: Kind.NOTIFY, source }).subarray(4));
    assert.deepEqual(
      { ...m, payload: Buffer.from(m.payload) },
      {
        kind: Kind.NOTIFY,
        mode: Mode.UNICAST,
        priority: Priority.NORMAL,
        hops: DEFAULT_HOPS,
        area: 0,
        sequence: 0,
        deadlineMs: 0,
        source,
        origin: ZERO_NODE_ID,
        destination: ZERO_NODE_ID,
        contentType: ContentType.NONE,
        action: Action.NONE,
        service: '',
        traceparent: undefined,
        aaa: '',
        error: undefined,
        tx: undefined,
        payload: Buffer.alloc(0),
      },
    );
    const withPayload = decodeMessage(
      encodeMessage({ kind: Kind.NOTIFY, source, payload: Buffer.from('x') }).subarray(4),
    );
    assert.equal(withPayload.contentType, ContentType.BINARY);
  });

  test('the payload is a view into the frame, not a copy', () => {
    const frame = encodeMessage({ kind: Kind.EVENT, source, payload: Buffer.from('abc') }).subarray(4);
    const m = decodeMessage(frame);
    assert.equal(m.payload.buffer, frame.buffer);
  });

  test('error data that JSON cannot carry: undefined drops it, a BigInt is refused', () => {
    const wire = encodeMessage({
      kind: Kind.FAIL,
      source,
      error: { code: 'L8_ERR_HANDLER', message: 'm', data: () => 1 },
    });
    assert.deepEqual(decodeMessage(wire.subarray(4)).error, { code: 'L8_ERR_HANDLER', message: 'm' });
    assert.throws(
      () => encodeMessage({ kind: Kind.FAIL, source, error: { code: 'L8_ERR_HANDLER', message: 'm', data: 1n } }),
      invalidArgument,
    );
  });

  const outOfRange: [string, Partial<MessageInit>][] = [
    ['kind 0', { kind: 0 as Kind }],
    ['kind 8', { kind: 8 as Kind }],
    ['kind 1.5', { kind: 1.5 as Kind }],
    ['mode 6', { mode: 6 as Mode }],
    ['priority 8', { priority: 8 }],
    ['priority -1', { priority: -1 }],
    ['hops 256', { hops: 256 }],
    ['area 65536', { area: 65536 }],
    ['sequence 2^32', { sequence: 2 ** 32 }],
    ['sequence NaN', { sequence: Number.NaN }],
    ['deadline 1.5', { deadlineMs: 1.5 }],
    ['content type 5', { contentType: 5 as ContentType }],
    ['action 256', { action: 256 as Action }],
    ['tx state 7', { tx: { id: source, state: 7 as TxState, term: 1 } }],
    ['tx term -1', { tx: { id: source, state: TxState.PREPARE, term: -1 } }],
    ['tx term 2^53', { tx: { id: source, state: TxState.PREPARE, term: 2 ** 53 } }],
    ['tx id', { tx: { id: 'nope' as NodeId, state: TxState.PREPARE, term: 1 } }],
    ['source', { source: 'NOT-AN-ID' as NodeId }],
    ['origin', { origin: source.toUpperCase() as NodeId }],
    ['destination', { destination: `${source}0` as NodeId }],
    ['service of 256 bytes', { service: 'x'.repeat(256) }],
    ['service of 128 two-byte chars', { service: 'é'.repeat(128) }],
    ['traceparent of 256 bytes', { traceparent: 't'.repeat(256) }],
    ['AAA of 65536 bytes', { aaa: 'a'.repeat(65536) }],
    ['error code of 65536 bytes', { error: { code: 'c'.repeat(65536), message: '' } }],
  ];
  for (const [what, fields] of outOfRange) {
    test(`encode refuses ${what} with L8_ERR_INVALID_ARGUMENT`, () => {
      assert.throws(() => encodeMessage({ kind: Kind.NOTIFY, source, ...fields }), invalidArgument);
    });
  }

  test('the largest values of every field still encode', () => {
    const m = {
      kind: Kind.PROGRESS,
      source,
      hops: 255,
      area: 65535,
      sequence: 2 ** 32 - 1,
      deadlineMs: 2 ** 32 - 1,
      service: `${'é'.repeat(127)}x`,
      traceparent: 't'.repeat(255),
      aaa: 'a'.repeat(65535),
      tx: { id: source, state: TxState.ABORTED, term: Number.MAX_SAFE_INTEGER },
      payload: Buffer.alloc(0),
    } as const;
    assertSameMessage(decodeMessage(encodeMessage(m).subarray(4)), {
      ...m,
      mode: Mode.UNICAST,
      priority: Priority.NORMAL,
      origin: ZERO_NODE_ID,
      destination: ZERO_NODE_ID,
      contentType: ContentType.NONE,
      action: Action.NONE,
      error: undefined,
    });
  });
});
