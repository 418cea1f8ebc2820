/** What a VNic agent under chaos load reports to its controller, in batches (agent push `load`). */

/** The code of an answered request in {@link SettledRequest}. */
export const ANSWERED = 'OK';

/** One request that ended: when it was sent (epoch ms), how long it took (ms) and how ("OK" or an L8_ERR code). */
export type SettledRequest = readonly [sentAt: number, ms: number, code: string];

/** A change of a node's status as one observer's health table shows it. */
export type HealthChange = readonly [at: number, node: string, status: 'up' | 'unreachable' | 'removed'];

/** A change of the observer's own connection state, with the VNet it is attached to. */
export type StateChange = readonly [at: number, state: string, vnet: string];

/**
 * One batch. Counters are totals since the load started (so a lost batch loses no count, and the last
 * batch of a killed process says what it had done); lists hold what happened since the previous batch.
 */
export interface LoadBatch {
  /** Requests sent. */
  readonly sent: number;
  /** Requests settled since the previous batch. */
  readonly settled: readonly SettledRequest[];
  /** Multicasts sent. */
  readonly mcastSent: number;
  /** Multicasts refused at once by the VNic, by code. */
  readonly mcastRefused: Readonly<Record<string, number>>;
  /** Multicast copies this node received. */
  readonly delivered: number;
  /** Requests this node's handler served. */
  readonly handled: number;
  /** Requests this node's handler saw a second time (same requester and request id). */
  readonly dupRequests: number;
  /** Multicast copies this node received a second time (same sender and sequence). */
  readonly dupDeliveries: number;
  /** Replies whose payload was not the answer to their request. */
  readonly mismatched: number;
  /** Health status changes since the previous batch. */
  readonly health: readonly HealthChange[];
  /** Connection state changes since the previous batch. */
  readonly states: readonly StateChange[];
  /** Largest event-loop delay since the previous batch, ms. */
  readonly lagMs: number;
  /**
   * Windows since the previous batch when this process did not run (epoch ms): stopped, or starved of CPU
   * (its load's 20 ms tick came over 100 ms late). A request's lateness in them is its own, not the overlay's.
   */
  readonly stalls: readonly (readonly [number, number])[];
}

/** What `chaos.stop` answers: requests still unsettled after their deadline and the grace (their send times). */
export interface LoadFinal {
  readonly unsettled: readonly number[];
}

/** What a VNic agent's load does (`chaos.start` arguments). */
export interface LoadOptions {
  /** Requests per second this node sends. */
  readonly rate: number;
  /** Multicasts per second this node sends. */
  readonly mcastRate: number;
  /** Deadline of each request, ms. */
  readonly timeoutMs: number;
  /** Requests in flight at most; a tick with that many waiting sends nothing. */
  readonly maxInFlight: number;
  /** Seed of the choice between round-robin and a named node. */
  readonly seed: number;
}

/** The request/reply service every chaos VNic serves. */
export const ECHO_SERVICE = 'chaos.echo';
/** The multicast service every chaos VNic subscribes to. */
export const NEWS_SERVICE = 'chaos.news';
