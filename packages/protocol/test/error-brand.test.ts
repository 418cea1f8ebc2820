import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ContentType,
  decodeMessage,
  encodeAnswer,
  encodeMessage,
  fromWire,
  Kind,
  L8Error,
  l8error,
  newNodeId,
  nodeIdToBytes,
  ProtocolError,
  TimeoutError,
} from '../src/index.ts';

/** A second, separately loaded copy of the error module (as two installed copies of the package are). */
async function secondCopy(): Promise<typeof import('../src/errors.ts')> {
  return (await import(`../src/errors.ts?copy=${Math.random()}`)) as typeof import('../src/errors.ts');
}

describe('errors across installed copies', () => {
  test('instanceof recognises an error made by another copy, by family', async () => {
    const other = await secondCopy();
    assert.notEqual(other.L8Error, L8Error, 'the copy must be a distinct module');
    const e = other.l8error('L8_ERR_TIMEOUT', 'late');
    assert.ok(e instanceof L8Error);
    assert.ok(e instanceof TimeoutError);
    assert.equal(e instanceof ProtocolError, false);
    assert.ok(l8error('L8_ERR_MALFORMED_FRAME', 'x') instanceof other.ProtocolError);
    assert.equal(new Error('plain') instanceof L8Error, false);
    assert.equal((null as unknown) instanceof L8Error, false);
  });
});

describe('a thrower’s retryable override crosses the wire', () => {
  const request = encodeMessage({ kind: Kind.REQUEST, source: newNodeId(), service: 's' }).subarray(4);
  const ids = { source: nodeIdToBytes(newNodeId()), origin: nodeIdToBytes(newNodeId()) };

  for (const retryable of [true, false]) {
    test(`retryable=${retryable} against the code's default survives a fail frame`, () => {
      // L8_ERR_HANDLER defaults to not retryable, L8_ERR_BACKPRESSURE to retryable
      const code = retryable ? 'L8_ERR_HANDLER' : 'L8_ERR_BACKPRESSURE';
      const thrown = l8error(code, 'the thrower knows better', { retryable });
      assert.equal(thrown.toWire().retryable, retryable);
      const frame = encodeAnswer(request, {
        kind: Kind.FAIL,
        ...ids,
        contentType: ContentType.NONE,
        payload: new Uint8Array(0),
        error: thrown.toWire(),
      });
      const back = fromWire(decodeMessage(frame.subarray(4)).error as never);
      assert.equal(back.code, code);
      assert.equal(back.retryable, retryable);
    });
  }

  test('no override: the code’s default, and no flag on the wire', () => {
    const e = l8error('L8_ERR_TIMEOUT', 'late');
    assert.equal('retryable' in e.toWire(), false);
    const m = encodeMessage({ kind: Kind.FAIL, source: newNodeId(), error: e.toWire() }).subarray(4);
    const back = fromWire(decodeMessage(m).error as never);
    assert.equal(back.retryable, e.retryable);
  });

  test('encodeMessage carries the override too; an unknown code keeps it', () => {
    const wire = { code: 'L8_ERR_FROM_THE_FUTURE', message: 'm', retryable: true };
    const m = encodeMessage({ kind: Kind.FAIL, source: newNodeId(), error: wire }).subarray(4);
    const back = fromWire(decodeMessage(m).error as never);
    assert.equal(back.code, 'L8_ERR_HANDLER');
    assert.equal(back.retryable, true);
  });
});
