import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_MAX_FRAME, FrameDecoder, type L8Error, l8error, toL8Error } from '@layer8/protocol';
import { SendBatch } from './send-batch.ts';

/** Time since the last write after which a full early batch is written at once, ms. */
const EARLY_FLUSH_GAP_MS = 0.4;

/** Options of {@link FramedLink}. */
export interface FramedLinkOptions {
  /** Called with every frame (no length prefix). The buffer may alias the read chunk: copy to keep it. */
  readonly onFrame: (frame: Buffer) => void;
  /** Called once when the link closes; `error` is set when it closed because of a fault. */
  readonly onClose?: (error: L8Error | undefined) => void;
  /** Largest frame accepted. Default 16 MiB. */
  readonly maxFrame?: number;
  /**
   * Bytes that may wait to be written before `send` refuses with `L8_ERR_BACKPRESSURE`. Default 8 MiB.
   * One frame larger than this is still sent when nothing else waits.
   */
  readonly maxQueuedBytes?: number;
  /**
   * Frames after which a batch is written at once instead of at the end of the turn. Smaller batches
   * let the next process start on the first frames while this one builds the rest. Default 32.
   */
  readonly flushFrames?: number;
  /** Bytes already read from the stream (after a handshake) to decode first. */
  readonly head?: Buffer;
}

/** Counters of a link, read by health and metrics. */
export interface LinkStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Frames refused by back-pressure. */
  refused: number;
  /** Batched writes handed to the stream. */
  writes: number;
  /** Times reading this link was paused until a slow receiver drained (back-pressure, `pauseUntilDrained`). */
  pauses: number;
}

/**
 * A framed, batched connection; call {@link FramedLink.start} to begin reading (docs/protocol.md §2, §8).
 * Frames sent in one event-loop turn are joined and written with one `write` in the check phase; reading splits the
 * stream with a {@link FrameDecoder}. A decode error closes the link with its code.
 *
 * Invariants: `#batch` holds the frames not yet handed to the stream; `#scheduled` is true exactly
 * while a flush is pending; after `#closed` no frame is queued or delivered.
 */
export class FramedLink {
  readonly stats: LinkStats = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    refused: 0,
    writes: 0,
    pauses: 0,
  };
  /** `performance.now()` of the last bytes received, for heartbeat deadlines. */
  lastReceivedAt = performance.now();
  /** `performance.now()` of the last batched write, for heartbeat suppression. */
  lastSentAt = performance.now();
  readonly #stream: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #maxQueued: number;
  readonly #flushFrames: number;
  readonly #onClose: ((error: L8Error | undefined) => void) | undefined;
  readonly #batch: SendBatch;
  #scheduled = false;
  #closed = false;
  #drainWaiters: (() => void)[] = [];
  #paused = false;
  #head: Buffer | undefined;

  constructor(stream: Duplex, options: FramedLinkOptions) {
    this.#stream = stream;
    // a socket is done with a chunk once its writableLength no longer counts it: batch buffers can be reused
    this.#batch = new SendBatch(stream instanceof Socket ? () => stream.writableLength : undefined);
    this.#maxQueued = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.#flushFrames = options.flushFrames ?? 32;
    this.#onClose = options.onClose;
    const onFrame = options.onFrame;
    const stats = this.stats;
    this.#decoder = new FrameDecoder(
      (frame) => {
        // a link closed mid-chunk (refused, revoked) delivers nothing more of what was already read
        if (this.#closed) return;
        stats.framesIn++;
        try {
          onFrame(frame);
        } catch (err) {
          // the owner's fault, not the peer's: close with an internal error rather than blame the frame
          this.close(
            l8error('L8_ERR_INTERNAL', `a frame handler of this process threw: ${String(err)}`, { cause: err }),
          );
        }
      },
      { maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME },
    );
    this.#head = options.head;
  }

  /**
   * Starts reading: decodes the head bytes, then the stream. Separate from the constructor so that the
   * owner can finish wiring before the first frame arrives.
   */
  start(): this {
    const stream = this.#stream;
    stream.on('data', (chunk: Buffer) => this.#read(chunk));
    stream.on('drain', () => this.#drained());
    stream.on('error', (e) => this.close(l8error('L8_ERR_CONNECT', `link error: ${e.message}`, { cause: e })));
    stream.on('close', () => this.close());
    const head = this.#head;
    this.#head = undefined;
    if (head !== undefined && head.length > 0) this.#read(head);
    if (!this.#closed) stream.resume();
    return this;
  }

  /** Whether the link is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting to be written (queued here and buffered in the stream). */
  get pendingBytes(): number {
    return this.#batch.bytes + this.#stream.writableLength;
  }

  /** Whether `bytes` more can be queued without refusal. */
  canSend(bytes: number): boolean {
    return !this.#closed && this.#fits(bytes);
  }

  /**
   * Whether `size` more bytes fit the queue. The bound is on what waits, not on one frame: a frame
   * larger than the queue (up to the frame maximum) goes when nothing else waits.
   */
  #fits(size: number): boolean {
    const pending = this.pendingBytes;
    return pending === 0 || pending + size <= this.#maxQueued;
  }

  /**
   * Queues one length-prefixed frame (as `encodeMessage` makes it) for the next batched write.
   * @throws L8_ERR_CLOSED after close; L8_ERR_BACKPRESSURE when the queue is full (nothing is queued).
   */
  send(prefixed: Buffer): void {
    if (!this.trySend(prefixed)) this.#refuse();
  }

  /**
   * Queues one frame without its prefix (a frame as `onFrame` delivered it: the switch forwards the
   * original bytes). Returns false, queueing nothing, when the link is closed or full: the switch's
   * hot path counts a drop without building an error.
   */
  tryForward(frame: Buffer): boolean {
    const at = this.reserve(frame.length + 4);
    if (at < 0) return false;
    const buf = this.#batch.buffer;
    buf.writeUInt32BE(frame.length, at);
    frame.copy(buf, at + 4);
    this.commit(frame.length + 4);
    return true;
  }

  /** As {@link send}, returning false instead of throwing when the link is closed or full. */
  trySend(prefixed: Buffer): boolean {
    const at = this.reserve(prefixed.length);
    if (at < 0) return false;
    prefixed.copy(this.#batch.buffer, at);
    this.commit(prefixed.length);
    return true;
  }

  /**
   * Reserves `size` bytes for one length-prefixed frame that the caller encodes in place at the
   * returned offset of {@link batchBuffer}, then queues with {@link commit}. Returns -1 (nothing
   * reserved) when the link is closed or full.
   */
  reserve(size: number): number {
    if (this.#closed || !this.#fits(size)) {
      if (!this.#closed) this.stats.refused++;
      return -1;
    }
    return this.#batch.reserve(size);
  }

  /** The buffer {@link reserve}'s offset points into (valid until the next reserve). */
  get batchBuffer(): Buffer {
    return this.#batch.buffer;
  }

  /** Queues the frame of `size` bytes written at the last reserved offset. */
  commit(size: number): void {
    this.#batch.commit(size);
    // judged at every flushFrames-th frame only: reading the clock per frame costs a forwarding switch ~7 %
    const frames = this.#batch.frames;
    if (frames >= this.#flushFrames && frames % this.#flushFrames === 0 && this.#earlyFlushDue()) {
      this.#flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  /**
   * Whether a batch that reached `flushFrames` goes out now: when the last write is older than
   * EARLY_FLUSH_GAP_MS (a receiver may be idle, waiting for it: pipelining), or when it holds 8 times
   * as many frames. A sender that produces frames back to back (a stream) thus writes big batches.
   */
  #earlyFlushDue(): boolean {
    return this.#batch.frames >= 8 * this.#flushFrames || performance.now() - this.lastSentAt >= EARLY_FLUSH_GAP_MS;
  }

  #refuse(): never {
    if (this.#closed) throw l8error('L8_ERR_CLOSED', 'link is closed');
    throw l8error('L8_ERR_BACKPRESSURE', `link send queue is full (${this.pendingBytes} bytes waiting)`);
  }

  /** Resolves when the queue has room for `bytes` more (immediately if it has now). */
  async writable(bytes = 0): Promise<void> {
    while (!this.#closed && !this.canSend(bytes)) {
      await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    }
    if (this.#closed) throw l8error('L8_ERR_CLOSED', 'link is closed');
  }

  /** Whether more than `bytes` wait to be written (a slow reader on the other end). */
  isBacklogged(bytes: number): boolean {
    return this.#batch.bytes + this.#stream.writableLength > bytes;
  }

  /**
   * Stops reading this link until `other` has drained (or closes): back-pressure from a slow receiver
   * to its sender, so a one-way stream slows down instead of being dropped. Idempotent while paused.
   */
  pauseUntilDrained(other: FramedLink): void {
    this.pauseUntil((resume) => other.onDrained(resume));
  }

  /**
   * Stops reading this link until `wait` calls the resume function it is given (or the link closes):
   * back-pressure on a condition of the caller's, such as a peer VNet's flow control. Idempotent while
   * paused: a second call does not register another wait.
   */
  pauseUntil(wait: (resume: () => void) => void): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.stats.pauses++;
    this.#stream.pause();
    let resumed = false;
    wait(() => {
      if (resumed) return;
      resumed = true;
      this.#paused = false;
      if (!this.#closed) this.#stream.resume();
    });
  }

  /** Whether reading is paused by {@link pauseUntil}. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Calls `done` once when everything queued now has been written (at once when nothing is), or the link closes. */
  onDrained(done: () => void): void {
    if (this.#closed || this.pendingBytes === 0) done();
    else this.#drainWaiters.push(done);
  }

  /** Writes whatever is queued now, without waiting for the end of the turn. */
  flush(): void {
    this.#flush();
  }

  /** Closes the link (idempotent). Queued frames are flushed first when closing without error. */
  close(error?: L8Error): void {
    if (this.#closed) return;
    if (error === undefined) this.#flush();
    this.#closed = true;
    this.#batch.clear();
    this.#endStream(error === undefined);
    this.#drained();
    try {
      this.#onClose?.(error);
    } catch {
      // the owner's close handler must never turn a closing link into a process crash
    }
  }

  /**
   * Ends the stream: gracefully (what was written still reaches the peer, a last `close` message
   * included; destroyed once flushed, or after 1 s) or at once.
   */
  #endStream(graceful: boolean): void {
    const stream = this.#stream;
    stream.on('error', () => stream.destroy());
    if (!graceful || stream.destroyed) {
      stream.destroy();
      return;
    }
    const timer = setTimeout(() => stream.destroy(), 1000).unref();
    stream.once('finish', () => {
      clearTimeout(timer);
      stream.destroy();
    });
    stream.end();
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#closed || this.#batch.frames === 0) return;
    this.stats.framesOut += this.#batch.frames;
    this.lastSentAt = performance.now();
    for (const region of this.#batch.take()) {
      this.stats.writes++;
      this.stats.bytesOut += region.length;
      this.#stream.write(region);
    }
    if (this.#stream.writableLength === 0 && this.#drainWaiters.length > 0) this.#drained();
  };

  #read(chunk: Buffer): void {
    this.stats.bytesIn += chunk.length;
    this.lastReceivedAt = performance.now();
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.close(toL8Error(err, 'L8_ERR_MALFORMED_FRAME'));
    }
  }

  #drained(): void {
    this.#batch.drained();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}
