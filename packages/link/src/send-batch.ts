/** Largest batch buffer a link writes frames into, bytes. */
export const BATCH_BYTES = 64 * 1024;

/** First batch buffer of a link, bytes: an idle link keeps a small one, a busy one doubles up to BATCH_BYTES. */
const FIRST_BATCH_BYTES = 4 * 1024;

/** Written-out full buffers a batch keeps for reuse when trimmed (see {@link SendBatch.trim}). */
export const SPARE_BUFFERS = 2;

/** How long a drained link must turn over no buffer before its buffers beyond the spares are let go, ms. */
const TRIM_AFTER_DRAIN_MS = 1000;

/**
 * The frames a link has queued but not yet written, kept in one growing region of a reusable buffer:
 * frames are written (or encoded) straight into it, and a flush hands the stream a view of the region
 * written since the last flush. A buffer is replaced only when full, so one allocation serves many
 * flushes. Regions already handed to the stream are never written again until the stream has written
 * them out.
 *
 * With `unwritten` (the bytes handed out that the stream has not written yet: a socket's
 * `writableLength`), a full buffer that was replaced is reused once the stream has written all of it,
 * instead of allocating a new one. A busy link would otherwise allocate 64 KiB outside the JS heap for
 * every 64 KiB it sends; V8 counts such memory allocated since its last full GC against the old
 * generation's limit (young buffers already dead included, until a background sweep frees them), so a
 * VNet forwarding tens of MB/s ran a full GC after nearly every scavenge once its young generation had
 * grown (bench/README.md, multicast-9 with more modules loaded).
 *
 * Invariants: `#start <= #end <= #buf.length`; `[#start, #end)` holds whole queued frames; `#full`
 * holds regions of earlier buffers not yet written; `bytes` counts both; `#committed` and `#handed`
 * are stream positions (bytes committed, bytes taken); `#retired[i]` is a full-size buffer no longer
 * written into, oldest first, whose last queued byte sits before position `#retiredEnd[i]`.
 */
export class SendBatch {
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  #full: Buffer[] = [];
  #fullBytes = 0;
  #nextSize = FIRST_BATCH_BYTES;
  #committed = 0;
  #handed = 0;
  readonly #retired: Buffer[] = [];
  readonly #retiredEnd: number[] = [];
  readonly #unwritten: (() => number) | undefined;
  #trimTimer: NodeJS.Timeout | undefined;
  /** Buffers replaced so far (a link that turns over none is quiet). */
  #grows = 0;
  /** Frames queued. */
  frames = 0;

  /**
   * @param unwritten bytes taken from this batch that the stream has not written yet, for a stream that is
   * done with a chunk once it says so (a socket); without it every buffer is new, since a stream may
   * keep the chunks it was given (a PassThrough hands them to its reader).
   */
  constructor(unwritten?: () => number) {
    this.#unwritten = unwritten;
  }

  /** Bytes queued. */
  get bytes(): number {
    return this.#fullBytes + this.#end - this.#start;
  }

  /** The buffer that {@link reserve}'s offset points into. */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** Full-size buffers kept for reuse (written out or not yet). */
  get retired(): number {
    return this.#retired.length;
  }

  /** Makes room for `size` bytes; returns the offset in {@link buffer} to write them at. */
  reserve(size: number): number {
    if (this.#end + size > this.#buf.length) this.#grow(size);
    return this.#end;
  }

  /** Queues the `size` bytes written at the last reserved offset as one frame. */
  commit(size: number): void {
    this.#end += size;
    this.#committed += size;
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
    this.#handed = this.#committed;
    return out;
  }

  /** Drops everything queued and every buffer kept for reuse. */
  clear(): void {
    this.take();
    this.#retired.length = 0;
    this.#retiredEnd.length = 0;
    clearTimeout(this.#trimTimer);
    this.#trimTimer = undefined;
  }

  /**
   * The stream drained: once the link has turned over no buffer for TRIM_AFTER_DRAIN_MS, the buffers kept
   * beyond the spares are let go ({@link trim}), so a link that went quiet after a deep queue does not
   * keep it; a busy link keeps reusing them (checked again every TRIM_AFTER_DRAIN_MS).
   */
  drained(): void {
    if (this.#trimTimer === undefined && this.#retired.length > SPARE_BUFFERS) this.#trimWhenQuiet(this.#grows);
  }

  #trimWhenQuiet(grows: number): void {
    this.#trimTimer = setTimeout(() => {
      this.#trimTimer = undefined;
      if (this.#grows === grows) this.trim();
      else if (this.#retired.length > SPARE_BUFFERS) this.#trimWhenQuiet(this.#grows);
    }, TRIM_AFTER_DRAIN_MS).unref();
  }

  /** Lets go of the buffers the stream has written out beyond {@link SPARE_BUFFERS}. */
  trim(): void {
    const written = this.#written();
    let done = 0;
    while (done < this.#retiredEnd.length && (this.#retiredEnd[done] as number) <= written) done++;
    if (done <= SPARE_BUFFERS) return;
    this.#retired.splice(0, done - SPARE_BUFFERS);
    this.#retiredEnd.splice(0, done - SPARE_BUFFERS);
  }

  #written(): number {
    return this.#unwritten === undefined ? -1 : this.#handed - this.#unwritten();
  }

  #grow(size: number): void {
    this.#grows++;
    if (this.#end > this.#start) {
      this.#full.push(this.#buf.subarray(this.#start, this.#end));
      this.#fullBytes += this.#end - this.#start;
    }
    if (this.#unwritten !== undefined && this.#buf.length === BATCH_BYTES) {
      this.#retired.push(this.#buf);
      this.#retiredEnd.push(this.#committed);
    }
    this.#buf = (size <= BATCH_BYTES ? this.#reusable() : undefined) ?? this.#allocate(size);
    this.#start = 0;
    this.#end = 0;
  }

  /** The oldest kept buffer if the stream has written all of it. */
  #reusable(): Buffer | undefined {
    const end = this.#retiredEnd[0];
    if (end === undefined || end > this.#written()) return undefined;
    this.#retiredEnd.shift();
    return this.#retired.shift();
  }

  #allocate(size: number): Buffer {
    const buf = Buffer.allocUnsafeSlow(Math.max(size, this.#nextSize));
    this.#nextSize = Math.min(BATCH_BYTES, this.#nextSize * 2);
    return buf;
  }
}
