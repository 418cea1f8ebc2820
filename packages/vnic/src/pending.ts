import { randomFillSync } from 'node:crypto';
import {
  decodeMessage,
  fromWire,
  Kind,
  type L8Error,
  l8error,
  type NodeId,
  nodeIdToBytes,
  Offset,
  toL8Error,
} from '@layer8/protocol';
import { headerFits, type VNicDrops } from './dispatch.ts';
import { Incoming } from './payload.ts';
import { SeqTable } from './seq-table.ts';

/** One request waiting for its reply. */
interface Waiter {
  readonly resolve: (reply: Incoming) => void;
  readonly reject: (error: L8Error) => void;
  /** The node the request went to. */
  readonly node: NodeId;
  /** Its 16 id bytes: only an answer whose source (header offset 16) is these bytes completes it. */
  readonly nodeBytes: Uint8Array;
  /** `performance.now()` after which it times out. */
  readonly deadline: number;
  readonly onProgress: ((progress: Incoming) => void) | undefined;
  readonly cleanup: (() => void) | undefined;
}

/** How often the deadline sweep runs while requests are pending, ms. */
export const SWEEP_MS = 20;

/** Random sequences drawn per refill of the pool (one randomFillSync per 4096 requests). */
const POOL_SIZE = 4096;

/** Options of {@link PendingTable}. */
export interface PendingTableOptions {
  /** The 16 bytes of a node id (the VNic passes its cache). Default `nodeIdToBytes`. */
  readonly idBytes?: (node: NodeId) => Uint8Array;
  /** Fills the pool sequences are drawn from. Default `crypto.randomFillSync`; tests pass their own. */
  readonly fill?: (pool: Uint32Array) => void;
}

/** Whether `frame`'s source (header offset 16) is the node `id` (16 bytes): an allocation-free compare. */
export function isSourceOf(id: Uint8Array, frame: Buffer): boolean {
  return hasIdAt(frame, Offset.SOURCE, id);
}

/** Whether the 16 id bytes of `frame` at `offset` are `id`'s. */
export function hasIdAt(frame: Buffer, offset: number, id: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (id[i] !== frame[offset + i]) return false;
  return true;
}

/**
 * The requester's pending table (DESIGN.md §3): keyed by sequence, deadlines swept by one coarse timer
 * that runs only while something is pending (no timer per request). Sequences are random, so another
 * member cannot guess which one is pending; each waiter keeps the node its answer must come from
 * ({@link targetOf}).
 *
 * Invariants: every key of `#waiting` is in 1..2^31-1 and unique; `#pool[#drawn..]` holds random values
 * not yet used (refilled when `#drawn` reaches its end); the sweep timer is set exactly while `#waiting`
 * is not empty.
 */
export class PendingTable {
  /** Not a Map: see {@link SeqTable} (a Map's replaced tables kept every request alive through young GCs). */
  readonly #waiting = new SeqTable<Waiter>();
  readonly #max: number;
  readonly #idBytes: (node: NodeId) => Uint8Array;
  readonly #fill: (pool: Uint32Array) => void;
  readonly #pool = new Uint32Array(POOL_SIZE);
  #drawn = POOL_SIZE;
  #timer: NodeJS.Timeout | undefined;

  constructor(max: number, options: PendingTableOptions = {}) {
    this.#max = max;
    this.#idBytes = options.idBytes ?? nodeIdToBytes;
    this.#fill = options.fill ?? randomFillSync;
  }

  /** Number of requests in flight. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Reserves a random sequence for a request to `node` with a deadline `timeoutMs` from now.
   * @throws L8_ERR_BACKPRESSURE when the table is full; L8_ERR_INVALID_ARGUMENT when `node` is not a node id.
   */
  add(
    node: NodeId,
    timeoutMs: number,
    onProgress: Waiter['onProgress'],
    signal: AbortSignal | undefined,
  ): { seq: number; promise: Promise<Incoming> } {
    if (this.#waiting.size >= this.#max)
      throw l8error('L8_ERR_BACKPRESSURE', `${this.#max} requests already in flight`);
    const nodeBytes = this.#idBytes(node);
    const seq = this.#next();
    const promise = new Promise<Incoming>((resolve, reject) => {
      const cleanup = signal === undefined ? undefined : this.#watch(seq, signal);
      const deadline = performance.now() + timeoutMs;
      this.#waiting.set(seq, { resolve, reject, node, nodeBytes, deadline, onProgress, cleanup });
    });
    // ref'd: a request in flight is work in progress; the timer stops when the table empties
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
    return { seq, promise };
  }

  /**
   * The 16 id bytes of the node request `seq` went to; undefined when `seq` is not pending. An answer
   * completes the request only when its source is this node (or a VNet: the caller decides).
   */
  targetOf(seq: number): Uint8Array | undefined {
    return this.#waiting.get(seq)?.nodeBytes;
  }

  /**
   * A REPLY, FAIL or PROGRESS frame: completes (or informs) its pending request only when it comes from
   * the node the request went to, or from a VNet (`fromVNet`: they fail requests they cannot deliver).
   * Others are counted in `drops.forgedReplies`, a frame whose header runs past its end in
   * `drops.malformed`; an unknown sequence (late, or never sent) is ignored.
   */
  answer(frame: Buffer, kind: number, fromVNet: (frame: Buffer) => boolean, drops: VNicDrops): void {
    if (!headerFits(frame)) {
      drops.malformed++;
      return;
    }
    const seq = frame.readUInt32BE(Offset.SEQUENCE);
    const target = this.targetOf(seq);
    if (target === undefined) return;
    if (!isSourceOf(target, frame) && !fromVNet(frame)) {
      drops.forgedReplies++;
      return;
    }
    if (kind === Kind.REPLY) this.resolve(seq, new Incoming(frame));
    else if (kind === Kind.PROGRESS) this.progress(seq, new Incoming(frame));
    else this.fail(seq, failureOf(frame));
  }

  /** Completes request `seq` with a reply. Unknown sequences are ignored. */
  resolve(seq: number, reply: Incoming): void {
    const w = this.#waiting.get(seq);
    if (w === undefined) return;
    this.#finish(seq, w);
    w.resolve(reply);
  }

  /** Hands an intermediate reply to request `seq`'s progress listener. */
  progress(seq: number, progress: Incoming): void {
    try {
      this.#waiting.get(seq)?.onProgress?.(progress);
    } catch {
      // a caller's progress listener must not break the link that delivered the frame
    }
  }

  /** Fails one request now. */
  fail(seq: number, error: L8Error): void {
    const w = this.#waiting.get(seq);
    if (w === undefined) return;
    this.#finish(seq, w);
    w.reject(error);
  }

  /** Fails every request to `node` (it became unreachable or was removed). */
  failNode(node: NodeId, error: L8Error): void {
    for (const seq of this.#waiting.keys()) if (this.#waiting.get(seq)?.node === node) this.fail(seq, error);
  }

  /** Fails every request. */
  failAll(error: L8Error): void {
    for (const seq of this.#waiting.keys()) this.fail(seq, error);
  }

  #finish(seq: number, w: Waiter): void {
    this.#waiting.delete(seq);
    w.cleanup?.();
    if (this.#waiting.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #watch(seq: number, signal: AbortSignal): () => void {
    const onAbort = (): void =>
      this.fail(seq, l8error('L8_ERR_ABORTED', 'request aborted by the caller', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  /** A random sequence that is neither 0 nor pending; draws from a pool refilled 4096 at a time. */
  #next(): number {
    let seq: number;
    do {
      if (this.#drawn === POOL_SIZE) {
        this.#fill(this.#pool);
        this.#drawn = 0;
      }
      // 31 bits: a small integer in V8, so the table's keys never allocate (a uint32 past 2^31 would)
      seq = (this.#pool[this.#drawn++] as number) & 0x7fffffff;
    } while (seq === 0 || this.#waiting.has(seq));
    return seq;
  }

  #sweep(): void {
    const now = performance.now();
    for (const seq of this.#waiting.keys()) {
      const w = this.#waiting.get(seq);
      if (w !== undefined && w.deadline <= now) {
        this.fail(seq, l8error('L8_ERR_TIMEOUT', `no reply from ${w.node} within the deadline`));
      }
    }
  }
}

/** The error a FAIL frame carries (a frame that does not decode is its own error). */
function failureOf(frame: Buffer): L8Error {
  try {
    const m = decodeMessage(frame);
    return fromWire(m.error ?? { code: 'L8_ERR_INTERNAL', message: 'fail frame without error' });
  } catch (err) {
    return toL8Error(err, 'L8_ERR_MALFORMED_FRAME');
  }
}
