import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkFixedHeader,
  decodeMessage,
  encodeMessage,
  FIXED_HEADER_SIZE,
  Flag,
  Kind,
  L8Error,
  newNodeId,
  Offset,
  ProtocolError,
  TxState,
} from '../src/index.ts';
import { messageArb, onlyL8Errors } from './arbitraries.ts';

const MALFORMED = ['L8_ERR_MALFORMED_FRAME'];
const source = newNodeId();
const code = (c: string) => (e: unknown) => e instanceof ProtocolError && e.code === c;

function frameOf(...fields: Parameters<typeof encodeMessage>): Buffer {
  return Buffer.from(encodeMessage(...fields).subarray(4));
}

describe('decodeMessage on bad input', () => {
  test('every prefix of a valid frame is malformed or decodes, nothing else', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const frame = frameOf(m);
        for (let len = 0; len < frame.length; len++) {
          const prefix = Buffer.from(frame.subarray(0, len));
          const err = onlyL8Errors(() => decodeMessage(prefix), MALFORMED);
          if (len < FIXED_HEADER_SIZE) assert.ok(err, `a ${len}-byte prefix decoded`);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('random bytes and mutated frames throw only coded L8Errors', () => {
    const mutated = fc
      .tuple(messageArb, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }))
      .map(([m, edits]) => {
        const frame = frameOf(m);
        frame[Offset.VERSION] = 1;
        for (const [at, v] of edits) frame[at % frame.length] = v;
        return frame;
      });
    const garbage = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(fc.oneof(mutated, garbage), (frame) => {
        onlyL8Errors(() => decodeMessage(frame), ['L8_ERR_MALFORMED_FRAME', 'L8_ERR_VERSION']);
      }),
      { numRuns: 2000 },
    );
  });

  test('version 2 is refused with L8_ERR_VERSION and the versions in data', () => {
    const frame = frameOf({ kind: Kind.NOTIFY, source });
    frame[Offset.VERSION] = 2;
    assert.throws(
      () => decodeMessage(frame),
      (e: unknown) => {
        assert.ok(e instanceof ProtocolError);
        assert.equal(e.code, 'L8_ERR_VERSION');
        assert.deepEqual(e.data, { version: 2, supported: 1 });
        return true;
      },
    );
  });

  const badBytes: [string, number, number][] = [
    ['kind 0', Offset.KIND, 0],
    ['kind 8', Offset.KIND, 8],
    ['mode 6', Offset.MODE, 6],
    ['priority 8', Offset.PRIORITY, 8],
    ['content type 5', Offset.CONTENT_TYPE, 5],
    ['content type 255', Offset.CONTENT_TYPE, 255],
  ];
  for (const [what, at, value] of badBytes) {
    test(`${what} is L8_ERR_MALFORMED_FRAME`, () => {
      const frame = frameOf({ kind: Kind.NOTIFY, source });
      frame[at] = value;
      assert.throws(() => decodeMessage(frame), code('L8_ERR_MALFORMED_FRAME'));
      assert.throws(() => checkFixedHeader(frame), code('L8_ERR_MALFORMED_FRAME'));
    });
  }

  test('checkFixedHeader accepts a valid frame and refuses a short one', () => {
    checkFixedHeader(frameOf({ kind: Kind.NOTIFY, source }));
    assert.throws(() => checkFixedHeader(Buffer.alloc(FIXED_HEADER_SIZE - 1, 1)), code('L8_ERR_MALFORMED_FRAME'));
  });

  test('a service name longer than the frame is malformed', () => {
    const frame = frameOf({ kind: Kind.NOTIFY, source, service: 'abc' });
    frame[Offset.SERVICE_LEN] = 200;
    assert.throws(() => decodeMessage(frame), code('L8_ERR_MALFORMED_FRAME'));
  });

  test('error data that is not JSON is malformed', () => {
    const frame = frameOf({ kind: Kind.FAIL, source, error: { code: 'L8_ERR_HANDLER', message: '', data: 'xyz' } });
    frame[frame.length - 5] = 0x7b; // the opening quote of "xyz" becomes '{'
    assert.throws(() => decodeMessage(frame), code('L8_ERR_MALFORMED_FRAME'));
  });

  test('an error flag without an error block is malformed', () => {
    const frame = frameOf({ kind: Kind.FAIL, source });
    frame[Offset.FLAGS] = Flag.ERROR;
    assert.throws(() => decodeMessage(frame), code('L8_ERR_MALFORMED_FRAME'));
  });

  test('a transaction state over 6 or a term over 2^53 is malformed', () => {
    const tx = { id: source, state: TxState.COMMIT, term: 7 };
    const frame = frameOf({ kind: Kind.REQUEST, source, tx });
    const txAt = frame.length - 25;
    assert.deepEqual(decodeMessage(frame).tx, tx);
    frame[txAt + 16] = 7;
    assert.throws(() => decodeMessage(frame), code('L8_ERR_MALFORMED_FRAME'));
    frame[txAt + 16] = TxState.COMMIT;
    frame.writeBigUInt64BE(2n ** 53n, txAt + 17);
    assert.throws(() => decodeMessage(frame), code('L8_ERR_MALFORMED_FRAME'));
  });

  test('invalid UTF-8 in text fields decodes with replacement characters, not an exception', () => {
    const frame = frameOf({ kind: Kind.NOTIFY, source, service: 'ab' });
    frame[Offset.SERVICE] = 0xff;
    assert.equal(decodeMessage(frame).service, '\ufffdb');
  });

  test('errors thrown are ProtocolErrors and not retryable', () => {
    const err = onlyL8Errors(() => decodeMessage(Buffer.alloc(3)));
    assert.ok(err instanceof L8Error && err instanceof ProtocolError);
    assert.equal(err.retryable, false);
  });
});
