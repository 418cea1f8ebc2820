import { Offset, Priority } from '@layer8/protocol';
import { HandlerQueue, type Queued } from './handler-queue.ts';

/** Priority lanes of the handler queue: one per header priority, 0 (highest) to 7 (lowest). */
const LANES = 8;

/** Default share of the handler queue that low-priority requests may fill (`VNicOptions.lowPriorityQueueShare`). */
export const DEFAULT_LOW_PRIORITY_SHARE = 0.5;

/**
 * How many messages may already wait when a message of `priority` (0 highest to 7 lowest) arrives for it
 * still to be queued: priorities 0 to 4 (NORMAL and above) may fill the whole queue (`max`); below NORMAL
 * the bound shrinks with the priority, from `share × max` for 5 to a third of that for 7, so under
 * overload the lowest priorities are refused first and the high ones keep the rest of the queue.
 * `share` 1 turns shedding by priority off (every priority gets `max`).
 */
export function queueBoundOf(priority: number, max: number, share: number): number {
  if (priority <= Priority.NORMAL || share >= 1) return max;
  const below = Math.min(priority, LANES - 1) - Priority.NORMAL; // 1..3
  return Math.floor((max * share * (4 - below)) / 3);
}

/**
 * The handler queue of a responder, by priority: one FIFO {@link HandlerQueue} per header priority
 * (docs/protocol.md §3.1 PRIORITY), and the oldest message of the highest priority goes first, so a
 * flood of low-priority requests does not delay a high-priority one behind it. Within one priority the
 * order is arrival order; each lane sweeps its own passed deadlines to `onExpired`.
 *
 * Invariants: `#lanes[p]` holds exactly the queued messages of priority p; `#size` is the sum of the
 * lanes' sizes (kept, not summed: every delivery reads it).
 */
export class PriorityQueue {
  readonly #lanes: HandlerQueue[];
  #size = 0;

  /** @param onExpired told about each message whose deadline passed in the queue (it leaves the queue) */
  constructor(onExpired: (frame: Buffer) => void) {
    const expired = (frame: Buffer): void => {
      this.#size--;
      onExpired(frame);
    };
    this.#lanes = Array.from({ length: LANES }, () => new HandlerQueue(expired));
  }

  /** Messages waiting, every priority. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the messages waiting, every priority. */
  get bytes(): number {
    let n = 0;
    for (const lane of this.#lanes) n += lane.bytes;
    return n;
  }

  /** Queues a copy of `frame` in the lane of its header priority, with its `performance.now()` deadline. */
  push(frame: Buffer, deadline: number): void {
    this.#laneOf(frame).push(frame, deadline);
    this.#size++;
  }

  /** The oldest message of the highest priority waiting, or undefined when empty. */
  shift(): Queued | undefined {
    if (this.#size === 0) return undefined;
    this.#size--;
    return this.#lanes.find((lane) => lane.size > 0)?.shift();
  }

  /** Empties every lane without telling anyone. */
  clear(): void {
    for (const lane of this.#lanes) lane.clear();
    this.#size = 0;
  }

  #laneOf(frame: Buffer): HandlerQueue {
    return this.#lanes[Math.min(frame[Offset.PRIORITY] as number, LANES - 1)] as HandlerQueue;
  }
}
