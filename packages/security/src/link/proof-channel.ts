import type { Duplex } from 'node:stream';
import {
  ContentType,
  decodeMessage,
  encodeMessage,
  FIXED_HEADER_SIZE,
  fromWire,
  Kind,
  type L8Error,
  l8error,
  ZERO_NODE_ID,
} from '@layer8/protocol';

/** Largest frame accepted during a handshake (certificates included). */
export const HANDSHAKE_MAX_FRAME = 64 * 1024;

/** The first byte of a TLS handshake record; a handshake frame's length prefix starts with 0 (under 64 KiB). */
export const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Lock-step exchange of JSON control frames on a fresh stream, used by membership proofs and the overlay
 * hello before the framed link takes over. Reads exactly the frames asked for; whatever arrives after them
 * is returned by {@link ProofChannel.release} for the next layer.
 *
 * Invariant: `#buf` holds bytes read but not yet consumed; `#waiter` is set only while `next()` waits.
 */
export class ProofChannel {
  readonly #stream: Duplex;
  #buf: Buffer = Buffer.alloc(0);
  #waiter: { resolve: () => void; reject: (e: L8Error) => void } | undefined;
  #error: L8Error | undefined;
  readonly #onData = (chunk: Buffer): void => {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#wake();
  };
  readonly #onEnd = (): void => this.#fail(l8error('L8_ERR_HANDSHAKE', 'peer closed the link during the handshake'));
  readonly #onError = (e: Error): void =>
    this.#fail(l8error('L8_ERR_HANDSHAKE', `link error during the handshake: ${e.message}`, { cause: e }));
  readonly #onAbort = (): void => this.#fail(l8error('L8_ERR_HANDSHAKE', 'handshake deadline passed'));
  readonly #signal: AbortSignal | undefined;

  /** Starts reading `stream`; `signal` aborts every wait with `L8_ERR_HANDSHAKE`. */
  constructor(stream: Duplex, signal?: AbortSignal, head?: Buffer) {
    this.#stream = stream;
    this.#signal = signal;
    if (head !== undefined && head.length > 0) this.#buf = head;
    stream.on('data', this.#onData).on('end', this.#onEnd).on('close', this.#onEnd).on('error', this.#onError);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (signal?.aborted) this.#onAbort();
    stream.resume();
  }

  /** Sends one control frame with a JSON body. */
  send(body: unknown): void {
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    this.#stream.write(
      encodeMessage({ kind: Kind.CONTROL, source: ZERO_NODE_ID, contentType: ContentType.CONTROL, payload }),
    );
  }

  /** Sends a fail frame carrying `err`, ends the stream and destroys it once flushed (or after 1 s). */
  refuse(err: L8Error): void {
    const stream = this.#stream;
    const timer = setTimeout(() => stream.destroy(), 1000).unref();
    // The peer may be gone already (EPIPE, ECONNRESET): the refusal is best effort, never a crash.
    stream.on('error', () => stream.destroy());
    stream.once('finish', () => {
      clearTimeout(timer);
      stream.destroy();
    });
    stream.end(encodeMessage({ kind: Kind.FAIL, source: ZERO_NODE_ID, error: err.toWire() }));
  }

  /**
   * {@link ProofChannel.refuse}, resolving once the fail frame is flushed or the stream closed (at most 1 s):
   * for a caller that destroys the socket as soon as it rejects (acceptLink does), which would otherwise
   * drop the frame, so the peer would see a bare close instead of the code.
   */
  refuseFlushed(err: L8Error): Promise<void> {
    const stream = this.#stream;
    const flushed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000).unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      stream.once('finish', done).once('close', done);
    });
    this.refuse(err);
    return flushed;
  }

  /**
   * Waits for the next control frame and returns its JSON body. A fail frame from the peer rejects with
   * the peer's error rebuilt; anything else rejects with `L8_ERR_HANDSHAKE`.
   */
  async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const frame = this.#take();
      if (frame !== undefined) return parseControl(frame);
      if (this.#error) throw this.#error;
      await new Promise<void>((resolve, reject) => {
        this.#waiter = { resolve, reject };
      });
    }
  }

  /** Stops reading and returns the unread bytes; the stream is paused for the next reader. */
  release(): Buffer {
    this.#stream
      .off('data', this.#onData)
      .off('end', this.#onEnd)
      .off('close', this.#onEnd)
      .off('error', this.#onError);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#stream.pause();
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }

  #take(): Buffer | undefined {
    if (this.#buf.length < 4) return undefined;
    if (this.#buf[0] === TLS_HANDSHAKE_RECORD) {
      // a TLS ClientHello: a TLS-provider node dialled a node that runs a passphrase or unix-socket proof
      this.#fail(l8error('L8_ERR_AUTH', 'refused a peer that speaks TLS (it uses the TLS provider)'));
      return undefined;
    }
    const len = this.#buf.readUInt32BE(0);
    if (len > HANDSHAKE_MAX_FRAME || len < FIXED_HEADER_SIZE) {
      this.#fail(l8error('L8_ERR_HANDSHAKE', `handshake frame of ${len} bytes is not a Layer8 handshake`));
      return undefined;
    }
    if (this.#buf.length < 4 + len) return undefined;
    const frame = this.#buf.subarray(4, 4 + len);
    this.#buf = this.#buf.subarray(4 + len);
    return frame;
  }

  #fail(err: L8Error): void {
    this.#error ??= err;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w === undefined) return;
    if (this.#error && this.#buf.length < 4) w.reject(this.#error);
    else w.resolve();
  }
}

function parseControl(frame: Buffer): Record<string, unknown> {
  const m = decodeMessage(frame);
  if (m.kind === Kind.FAIL && m.error) throw fromWire(m.error);
  if (m.kind !== Kind.CONTROL) throw l8error('L8_ERR_HANDSHAKE', `expected a handshake frame, got kind ${m.kind}`);
  try {
    const body = JSON.parse(Buffer.from(m.payload).toString('utf8')) as unknown;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // fall through to the coded error below
  }
  throw l8error('L8_ERR_HANDSHAKE', 'handshake frame body is not a JSON object');
}
