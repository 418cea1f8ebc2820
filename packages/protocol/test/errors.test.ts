import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BackpressureError,
  ConnectionError,
  decodeMessage,
  ERROR_CODES,
  type ErrorCode,
  encodeMessage,
  errorClassOf,
  fromWire,
  HandlerError,
  isErrorCode,
  Kind,
  L8Error,
  l8error,
  ModelError,
  newNodeId,
  ProtocolError,
  RoutingError,
  SecurityError,
  TimeoutError,
  toL8Error,
} from '../src/index.ts';
import { ERROR_CODES as INTERNAL_CODES } from '../src/internal.ts';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

/** Classes the design names for some codes (DESIGN.md §4, STYLE.md); the rest are checked via errorClassOf. */
const KNOWN: Partial<Record<ErrorCode, typeof L8Error>> = {
  L8_ERR_INTERNAL: L8Error,
  L8_ERR_FRAME_TOO_LARGE: ProtocolError,
  L8_ERR_MALFORMED_FRAME: ProtocolError,
  L8_ERR_VERSION: ProtocolError,
  L8_ERR_AUTH: SecurityError,
  L8_ERR_CONNECT: ConnectionError,
  L8_ERR_UNREACHABLE: RoutingError,
  L8_ERR_NO_SERVICE: RoutingError,
  L8_ERR_TIMEOUT: TimeoutError,
  L8_ERR_HANDLER: HandlerError,
  L8_ERR_BACKPRESSURE: BackpressureError,
  L8_ERR_DECODE: ModelError,
};

describe('errors', () => {
  test('codes are L8_ERR_* and the internal export is the same table', () => {
    assert.equal(INTERNAL_CODES, ERROR_CODES);
    for (const c of codes) {
      assert.match(c, /^L8_ERR_[A-Z0-9_]+$/);
      assert.equal(typeof ERROR_CODES[c].retryable, 'boolean');
      assert.ok(ERROR_CODES[c].summary.length > 0);
    }
  });

  for (const c of codes) {
    test(`${c}: class, retryable and the wire round trip`, () => {
      const cls = errorClassOf(c);
      const cause = new Error('under');
      const e = l8error(c, 'went wrong', { cause, data: { n: 1 } });
      assert.equal(e.constructor, cls);
      if (KNOWN[c]) assert.equal(cls, KNOWN[c]);
      assert.ok(e instanceof L8Error && e instanceof Error);
      assert.equal(e.name, cls.name);
      assert.equal(e.code, c);
      assert.equal(e.retryable, ERROR_CODES[c].retryable);
      assert.equal(e.cause, cause);
      assert.equal(l8error(c, 'x', { retryable: !e.retryable }).retryable, !e.retryable);

      const wire = e.toWire();
      assert.deepEqual(wire, { code: c, message: 'went wrong', data: { n: 1 } });
      const back = fromWire(wire);
      assert.equal(back.constructor, cls);
      assert.equal(back.code, c);
      assert.equal(back.retryable, e.retryable);
      assert.deepEqual(back.data, { n: 1 });

      // And across a fail frame.
      const frame = encodeMessage({ kind: Kind.FAIL, source: newNodeId(), error: wire });
      const received = fromWire(decodeMessage(frame.subarray(4)).error as never);
      assert.equal(received.constructor, cls);
      assert.equal(received.message, 'went wrong');
    });
  }

  test('an error without data has no data on the wire', () => {
    const wire = l8error('L8_ERR_TIMEOUT', 'late').toWire();
    assert.deepEqual(wire, { code: 'L8_ERR_TIMEOUT', message: 'late' });
    assert.equal(Object.hasOwn(wire, 'data'), false);
    assert.equal(fromWire(wire).data, undefined);
  });

  test('an unknown remote code becomes L8_ERR_HANDLER with data.remoteCode', () => {
    const e = fromWire({ code: 'L8_ERR_FROM_THE_FUTURE', message: 'new', data: { x: 1 } });
    assert.ok(e instanceof HandlerError);
    assert.equal(e.code, 'L8_ERR_HANDLER');
    assert.equal(e.message, 'new');
    assert.deepEqual(e.data, { remoteCode: 'L8_ERR_FROM_THE_FUTURE', detail: { x: 1 } });
    for (const code of ['toString', '__proto__', 'constructor', '']) {
      assert.equal(fromWire({ code, message: '' }).code, 'L8_ERR_HANDLER', code);
    }
  });

  test('isErrorCode knows only own codes', () => {
    for (const c of codes) assert.ok(isErrorCode(c));
    for (const c of ['toString', 'hasOwnProperty', '__proto__', 'L8_ERR_NOPE', 42, undefined, null]) {
      assert.equal(isErrorCode(c), false, String(c));
    }
  });

  test('toL8Error keeps L8Errors and wraps anything else', () => {
    const own = l8error('L8_ERR_CLOSED', 'closed');
    assert.equal(toL8Error(own), own);
    const plain = new TypeError('boom');
    const wrapped = toL8Error(plain);
    assert.ok(wrapped instanceof HandlerError);
    assert.equal(wrapped.message, 'boom');
    assert.equal(wrapped.cause, plain);
    const thrownString = toL8Error('just a string', 'L8_ERR_INTERNAL');
    assert.equal(thrownString.code, 'L8_ERR_INTERNAL');
    assert.equal(thrownString.constructor, L8Error);
    assert.equal(thrownString.message, 'just a string');
  });

  test('an L8Error without options has no cause and the default retryable flag', () => {
    const e = new L8Error('L8_ERR_NO_LEADER', 'none');
    assert.equal(Object.hasOwn(e, 'cause'), false);
    assert.equal(e.retryable, true);
    assert.equal(e.name, 'L8Error');
  });
});
