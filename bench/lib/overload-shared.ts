/** What the overload benchmark's parent (bench/overload.ts) and its workers (overload-worker.ts) share. */

/** The responder's two services: one with the responder's protections, one with all of them off. */
export const SERVICES = { protected: 'ovl-protected', unprotected: 'ovl-unprotected' } as const;

/** What a requester counts since it started; the parent takes the difference of two marks. */
export interface OverloadMark {
  readonly sent: number;
  /** Replies within the deadline. */
  readonly good: number;
  /** Replies after the deadline (the pending table's sweep is coarse). */
  readonly late: number;
  readonly refused: number;
  readonly timedOut: number;
  /** Failures with any other code (none expected). */
  readonly other: number;
  readonly lastError?: string;
  /** Latency of the good replies since the previous mark, µs. */
  readonly p50Us?: number;
  readonly p99Us?: number;
}
