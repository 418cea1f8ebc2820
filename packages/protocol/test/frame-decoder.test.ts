import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME,
  decodeMessage,
  encodeMessage,
  FIXED_HEADER_SIZE,
  FrameDecoder,
  Kind,
  type L8Error,
  newNodeId,
  ProtocolError,
} from '../src/index.ts';
import { messageArb, onlyL8Errors, splitAt } from './arbitraries.ts';

const source = newNodeId();
const code = (c: string) => (e: unknown) => e instanceof ProtocolError && e.code === c;

/** A decoder that copies out every frame it is handed. */
function collector(maxFrame?: number): { decoder: FrameDecoder; frames: Buffer[] } {
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder((f) => frames.push(Buffer.from(f)), maxFrame === undefined ? {} : { maxFrame });
  return { decoder, frames };
}

/** Sizes asked of Buffer.allocUnsafe while `fn` runs (Buffer.concat allocates through it too). */
function allocations(fn: () => void): number[] {
  const spy = mock.method(Buffer, 'allocUnsafe');
  try {
    fn();
  } finally {
    spy.mock.restore();
  }
  return spy.mock.calls.map((c) => c.arguments[0] as number);
}

const framesArb = fc.array(messageArb, { minLength: 1, maxLength: 6 }).map((ms) => ms.map((m) => encodeMessage(m)));

describe('FrameDecoder', () => {
  test('frames come out whole and in order however the stream is cut', () => {
    fc.assert(
      fc.property(framesArb, fc.array(fc.nat(), { maxLength: 30 }), (wires, cuts) => {
        const stream = Buffer.concat(wires);
        const { decoder, frames } = collector();
        for (const chunk of splitAt(
          stream,
          cuts.map((c) => c % (stream.length + 1)),
        ))
          decoder.push(chunk);
        assert.deepEqual(
          frames,
          wires.map((w) => w.subarray(4)),
        );
        assert.equal(decoder.buffered, 0);
      }),
      { numRuns: 300 },
    );
  });

  test('one byte at a time', () => {
    fc.assert(
      fc.property(framesArb, (wires) => {
        const stream = Buffer.concat(wires);
        const { decoder, frames } = collector();
        for (let i = 0; i < stream.length; i++) {
          decoder.push(stream.subarray(i, i + 1));
          const inFlight = i + 1 - wires.slice(0, frames.length).reduce((n, w) => n + w.length, 0);
          // A prefix counts while it is incomplete; once read, only the frame bytes held count.
          assert.equal(decoder.buffered, inFlight < 4 ? inFlight : inFlight - 4);
        }
        assert.deepEqual(
          frames,
          wires.map((w) => w.subarray(4)),
        );
      }),
      { numRuns: 50 },
    );
  });

  test('frames whole in one chunk are views of it; spanning frames are copied once', () => {
    const a = encodeMessage({ kind: Kind.NOTIFY, source, payload: Buffer.alloc(10, 1) });
    const b = encodeMessage({ kind: Kind.NOTIFY, source, payload: Buffer.alloc(10, 2) });
    const seen: Buffer[] = [];
    const decoder = new FrameDecoder((f) => seen.push(f));
    const chunk = Buffer.from(new ArrayBuffer(a.length + 30)); // its own memory, not the pool's
    chunk.set(a);
    chunk.set(b.subarray(0, 30), a.length);
    decoder.push(chunk);
    decoder.push(b.subarray(30));
    assert.equal(seen.length, 2);
    assert.equal(seen[0]?.buffer, chunk.buffer, 'whole frame aliases the chunk');
    assert.equal(seen[0]?.byteOffset, 4);
    assert.notEqual(seen[1]?.buffer, chunk.buffer, 'spanning frame is assembled apart');
    assert.ok(seen[1]?.equals(b.subarray(4)));
    const allocs = allocations(() => {
      const d = new FrameDecoder(() => {});
      d.push(a.subarray(0, 50));
      d.push(a.subarray(50));
    });
    assert.deepEqual(allocs, [a.length - 4]);
  });

  test('empty chunks change nothing', () => {
    const a = encodeMessage({ kind: Kind.NOTIFY, source });
    const { decoder, frames } = collector();
    decoder.push(Buffer.alloc(0));
    decoder.push(a.subarray(0, 2));
    decoder.push(Buffer.alloc(0));
    decoder.push(a.subarray(2, 10));
    decoder.push(Buffer.alloc(0));
    decoder.push(a.subarray(10));
    assert.equal(frames.length, 1);
  });

  test('a length over maxFrame fails at once, before any allocation, and the decoder stays failed', () => {
    for (const chunking of [[4], [1, 1, 1, 1], [2, 2], [3, 1]]) {
      const { decoder, frames } = collector(1024);
      const prefix = Buffer.from([0xff, 0xff, 0xff, 0xff]);
      let at = 0;
      const sizes = allocations(() => {
        for (const n of chunking.slice(0, -1)) {
          decoder.push(prefix.subarray(at, at + n));
          at += n;
        }
        assert.throws(
          () => decoder.push(prefix.subarray(at)),
          (e: unknown) => {
            assert.ok(code('L8_ERR_FRAME_TOO_LARGE')(e));
            assert.deepEqual((e as L8Error).data, { length: 0xffffffff, max: 1024 });
            return true;
          },
        );
      });
      assert.ok(
        sizes.every((n) => n <= 4),
        `allocated ${sizes.join(',')}`,
      );
      assert.throws(() => decoder.push(encodeMessage({ kind: Kind.NOTIFY, source })), code('L8_ERR_FRAME_TOO_LARGE'));
      assert.equal(frames.length, 0);
    }
  });

  test('maxFrame is inclusive and defaults to 16 MiB', () => {
    const a = encodeMessage({ kind: Kind.NOTIFY, source, payload: Buffer.alloc(100) });
    const { decoder, frames } = collector(a.length - 4);
    decoder.push(a);
    assert.equal(frames.length, 1);
    const big = collector();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(DEFAULT_MAX_FRAME + 1);
    assert.throws(() => big.decoder.push(header), code('L8_ERR_FRAME_TOO_LARGE'));
  });

  test('a length under the fixed header is malformed', () => {
    const { decoder } = collector();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(FIXED_HEADER_SIZE - 1);
    assert.throws(() => decoder.push(header), code('L8_ERR_MALFORMED_FRAME'));
    assert.throws(() => decoder.push(Buffer.alloc(1)), code('L8_ERR_MALFORMED_FRAME'));
  });

  test('garbage in any chunking: only coded L8Errors, never an allocation over maxFrame', () => {
    const maxFrame = 1024;
    // Length-prefixed runs of random bytes reach the frame path; raw random bytes mostly hit the length check.
    const framedGarbage = fc
      .array(
        fc.tuple(fc.integer({ min: 0, max: 1100 }), fc.uint8Array({ maxLength: 1100 })).map(([len, body]) => {
          const b = Buffer.alloc(4 + body.length);
          b.writeUInt32BE(len);
          b.set(body, 4);
          return b;
        }),
        { maxLength: 4 },
      )
      .map((parts) => Buffer.concat(parts));
    const garbage = fc.oneof(
      framedGarbage,
      fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
      fc
        .integer({ min: 0, max: 0xffffffff })
        .map((n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])),
    );
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        const { decoder, frames } = collector(maxFrame);
        let failed: L8Error | undefined;
        const sizes = allocations(() => {
          for (const chunk of splitAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          )) {
            const err = onlyL8Errors(() => decoder.push(chunk), ['L8_ERR_FRAME_TOO_LARGE', 'L8_ERR_MALFORMED_FRAME']);
            if (failed !== undefined) assert.equal(err, failed, 'a failed decoder rethrows its error');
            failed ??= err;
          }
        });
        assert.ok(Math.max(0, ...sizes) <= maxFrame, `allocated ${Math.max(...sizes)}`);
        for (const f of frames) {
          assert.ok(f.length >= FIXED_HEADER_SIZE && f.length <= maxFrame);
          onlyL8Errors(() => decodeMessage(f), ['L8_ERR_MALFORMED_FRAME', 'L8_ERR_VERSION']);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
