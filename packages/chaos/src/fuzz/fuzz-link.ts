import { FramedLink } from '@layer8/link';
import { controlBody, decodeMessage, Kind, type L8Error, type NodeId, Offset, readNodeId } from '@layer8/protocol';
import type { OpenedLink } from '@layer8/security';
import { withDeadline } from '../run/deadline.ts';
import type { FuzzFrame } from './mutator.ts';
import { bump } from './target-config.ts';

/** Sequences of probes start here, above those of valid fuzz frames (which stay under 2^31). */
export const PROBE_BASE = 0xf000_0000;

/** What a link counts of what the target sends it, by code. */
export interface LinkCounts {
  /** Codes of the target's `close` messages. */
  readonly closeReasons: Record<string, number>;
  /** Codes of the FAIL frames the target itself answered fuzz requests with (probes left out). */
  readonly failCodes: Record<string, number>;
}

/** How a probe ended: answered, the target cut the link, or no answer within the deadline. */
export type ProbeOutcome = 'answered' | 'cut' | 'timeout';

/**
 * One established link of the fuzzer to its target: sends fuzz frames in batches (one write per batch,
 * docs/protocol.md §8), and probes with a frame the target must answer, which tells whether it read
 * everything before and is still serving. Reads whatever the target sends, counting the codes of its
 * `close` messages and of the FAIL frames it answers fuzz requests with.
 *
 * Invariants: `#probe` is set only while a probe waits; once `closed` settles nothing more is sent.
 */
export class FuzzLink {
  readonly #link: FramedLink;
  readonly #closed: Promise<L8Error | undefined>;
  readonly #counts: LinkCounts;
  readonly #target: NodeId | undefined;
  #probe: { readonly seq: number; readonly done: (o: ProbeOutcome) => void } | undefined;
  #isClosed = false;

  /**
   * Starts reading `opened`; `counts` receives the codes of what the target refuses on it: its `close`
   * messages, and the FAIL frames whose source is `target` (not those it only routed back, such as a
   * forged FAIL the fuzzer addressed to itself).
   */
  constructor(opened: OpenedLink, counts: LinkCounts, target?: NodeId) {
    this.#counts = counts;
    this.#target = target;
    let closed!: (e: L8Error | undefined) => void;
    this.#closed = new Promise((resolve) => {
      closed = resolve;
    });
    this.#link = new FramedLink(opened.stream, {
      head: opened.head,
      maxQueuedBytes: 64 * 1024 * 1024,
      onFrame: (f) => this.#received(f),
      onClose: (e) => {
        this.#isClosed = true;
        this.#probe?.done('cut');
        closed(e);
      },
    });
    this.#link.start();
  }

  /** Whether the link has closed (either end). */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Resolves once the link is closed, with the error it closed with on this side, if any. */
  closed(): Promise<L8Error | undefined> {
    return this.#closed;
  }

  /**
   * Queues `frames` and writes them as one batch; returns how many went out before the link closed, their
   * bytes, and whether the target stopped reading for `stallMs` with the queue full (`stalled`: the rest
   * was not sent).
   */
  async send(
    frames: readonly FuzzFrame[],
    stallMs: number,
  ): Promise<{ frames: number; bytes: number; stalled: boolean }> {
    let n = 0;
    let bytes = 0;
    for (const f of frames) {
      if (!this.#link.canSend(f.bytes.length) && !(await this.#room(f.bytes.length, stallMs))) {
        return { frames: n, bytes, stalled: !this.#isClosed };
      }
      if (!this.#link.trySend(f.bytes)) break;
      n++;
      bytes += f.bytes.length;
    }
    this.#link.flush();
    return { frames: n, bytes, stalled: false };
  }

  /** Writes what is queued and waits up to `ms` for room for `bytes` more; false when none came. */
  async #room(bytes: number, ms: number): Promise<boolean> {
    this.#link.flush();
    try {
      await withDeadline(this.#link.writable(bytes), ms, 'the target reading this link');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends `frame` (a request the target answers with sequence `seq`) and waits for the answer, the link's
   * close, or `timeoutMs`.
   */
  probe(frame: Buffer, seq: number, timeoutMs: number): Promise<ProbeOutcome> {
    if (this.#isClosed || !this.#link.trySend(frame)) return Promise.resolve(this.#isClosed ? 'cut' : 'timeout');
    this.#link.flush();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      const finish = (o: ProbeOutcome): void => {
        clearTimeout(timer);
        this.#probe = undefined;
        resolve(o);
      };
      this.#probe = { seq, done: finish };
    });
  }

  /** Closes this end (what was queued is written first); the target sees the stream end. */
  close(): void {
    this.#link.close();
  }

  #received(frame: Buffer): void {
    const kind = frame[Offset.KIND];
    if (kind === Kind.CONTROL) return this.#control(frame);
    if ((kind !== Kind.REPLY && kind !== Kind.FAIL) || frame.length < Offset.DEADLINE) return;
    const seq = frame.readUInt32BE(Offset.SEQUENCE);
    if (seq === this.#probe?.seq) this.#probe.done('answered');
    else if (kind === Kind.FAIL && seq < PROBE_BASE && readNodeId(frame, Offset.SOURCE) === this.#target)
      this.#fail(frame);
  }

  /** Counts the code of a FAIL frame: a fuzz request the target refused and said so. */
  #fail(frame: Buffer): void {
    try {
      bump(this.#counts.failCodes, decodeMessage(frame).error?.code ?? 'none');
    } catch {
      bump(this.#counts.failCodes, 'undecodable');
    }
  }

  /** Counts the code of a `close` message: why the target is about to close the link. */
  #control(frame: Buffer): void {
    try {
      const body = controlBody(decodeMessage(frame));
      if (body.t === 'close')
        bump(this.#counts.closeReasons, String((body.error as { code?: unknown } | undefined)?.code));
    } catch {
      // the target sent a frame this fuzzer cannot read: nothing to count
    }
  }
}
