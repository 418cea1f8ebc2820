import { DEFAULT_MAX_FRAME, FIXED_HEADER_SIZE } from './constants.ts';
import { type L8Error, l8error } from './errors.ts';

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest accepted frame in bytes, excluding the 4-byte prefix. Default {@link DEFAULT_MAX_FRAME}. */
  readonly maxFrame?: number;
}

/**
 * Splits a byte stream into frames (docs/protocol.md §2): 4-byte big-endian length, then the frame.
 * Input may be split at any byte. Frames that sit whole in one chunk are handed out as views of that
 * chunk (no copy); a frame that spans chunks is assembled in one buffer of exactly its size, which the
 * length check bounds by `maxFrame` before anything is allocated.
 *
 * Invariants: `#partial` is set only while a frame spans chunks, and then `#filled < #partial.length`;
 * `#head` holds 0-3 bytes of a length prefix that spans chunks; after an error the decoder is failed
 * and rejects all input.
 */
export class FrameDecoder {
  readonly #maxFrame: number;
  readonly #onFrame: (frame: Buffer) => void;
  #head: Buffer | undefined;
  #partial: Buffer | undefined;
  #filled = 0;
  #failed: L8Error | undefined;

  /** `onFrame` receives each frame without its prefix; views may alias the pushed chunk. */
  constructor(onFrame: (frame: Buffer) => void, options: FrameDecoderOptions = {}) {
    this.#onFrame = onFrame;
    this.#maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return (this.#head?.length ?? 0) + this.#filled;
  }

  /**
   * Feeds bytes; calls `onFrame` for every completed frame, in order.
   * @throws L8_ERR_FRAME_TOO_LARGE, L8_ERR_MALFORMED_FRAME (the decoder then stays failed)
   */
  push(chunk: Buffer): void {
    if (this.#failed) throw this.#failed;
    let at = 0;
    if (this.#head !== undefined || this.#partial !== undefined) at = this.#continue(chunk);
    while (at >= 0 && at < chunk.length) at = this.#next(chunk, at);
  }

  /** Completes a prefix or frame that spans chunks; returns where whole frames resume, or -1. */
  #continue(chunk: Buffer): number {
    let at = 0;
    if (this.#head !== undefined) {
      const want = 4 - this.#head.length;
      if (chunk.length < want) {
        this.#head = Buffer.concat([this.#head, chunk]);
        return -1;
      }
      const len = Buffer.concat([this.#head, chunk.subarray(0, want)]).readUInt32BE(0);
      this.#head = undefined;
      this.#startPartial(this.#checkLength(len));
      at = want;
    }
    return this.#fill(chunk, at);
  }

  #fill(chunk: Buffer, at: number): number {
    const partial = this.#partial as Buffer;
    const n = Math.min(partial.length - this.#filled, chunk.length - at);
    chunk.copy(partial, this.#filled, at, at + n);
    this.#filled += n;
    if (this.#filled < partial.length) return -1;
    this.#partial = undefined;
    this.#filled = 0;
    this.#onFrame(partial);
    return at + n;
  }

  #next(chunk: Buffer, at: number): number {
    if (chunk.length - at < 4) {
      this.#head = Buffer.from(chunk.subarray(at));
      return -1;
    }
    const len = this.#checkLength(chunk.readUInt32BE(at));
    const end = at + 4 + len;
    if (end <= chunk.length) {
      this.#onFrame(chunk.subarray(at + 4, end));
      return end;
    }
    this.#startPartial(len);
    return this.#fill(chunk, at + 4);
  }

  #startPartial(len: number): void {
    this.#partial = Buffer.allocUnsafe(len);
    this.#filled = 0;
  }

  #checkLength(len: number): number {
    if (len > this.#maxFrame) {
      this.#failed = l8error(
        'L8_ERR_FRAME_TOO_LARGE',
        `frame of ${len} bytes is over the maximum of ${this.#maxFrame}`,
        {
          data: { length: len, max: this.#maxFrame },
        },
      );
    } else if (len < FIXED_HEADER_SIZE) {
      this.#failed = l8error('L8_ERR_MALFORMED_FRAME', `frame of ${len} bytes is shorter than the fixed header`);
    }
    if (this.#failed) throw this.#failed;
    return len;
  }
}
