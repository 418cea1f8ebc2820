/** Largest batch buffer a link writes frames into, bytes. */
export const BATCH_BYTES = 64 * 1024;

/** First batch buffer of a link, bytes: an idle link keeps a small one, a busy one doubles up to BATCH_BYTES. */
const FIRST_BATCH_BYTES = 4 * 1024;

/**
 * The frames a link has queued but not yet written, kept in one growing region of a reusable buffer:
 * frames are written (or encoded) straight into it, and a flush hands the stream a view of the region
 * written since the last flush. A buffer is replaced only when full, so one allocation serves many
 * flushes. Regions already handed to the stream are never written again.
 *
 * Invariants: `#start <= #end <= #buf.length`; `[#start, #end)` holds whole queued frames; `#full`
 * holds regions of earlier buffers not yet written; `bytes` counts both.
 */
export class SendBatch {
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  #full: Buffer[] = [];
  #fullBytes = 0;
  #nextSize = FIRST_BATCH_BYTES;
  /** Frames queued. */
  frames = 0;

  /** Bytes queued. */
  get bytes(): number {
    return this.#fullBytes + this.#end - this.#start;
  }

  /** The buffer that {@link reserve}'s offset points into. */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** Makes room for `size` bytes; returns the offset in {@link buffer} to write them at. */
  reserve(size: number): number {
    if (this.#end + size > this.#buf.length) this.#grow(size);
    return this.#end;
  }

  /** Queues the `size` bytes written at the last reserved offset as one frame. */
  commit(size: number): void {
    this.#end += size;
    this.frames++;
  }

  /** Takes every queued region, oldest first, and empties the batch. */
  take(): Buffer[] {
    const out = this.#full;
    if (this.#end > this.#start) out.push(this.#buf.subarray(this.#start, this.#end));
    this.#start = this.#end;
    this.#full = [];
    this.#fullBytes = 0;
    this.frames = 0;
    return out;
  }

  /** Drops everything queued. */
  clear(): void {
    this.take();
  }

  #grow(size: number): void {
    if (this.#end > this.#start) {
      this.#full.push(this.#buf.subarray(this.#start, this.#end));
      this.#fullBytes += this.#end - this.#start;
    }
    this.#buf = Buffer.allocUnsafeSlow(Math.max(size, this.#nextSize));
    this.#nextSize = Math.min(BATCH_BYTES, this.#nextSize * 2);
    this.#start = 0;
    this.#end = 0;
  }
}
