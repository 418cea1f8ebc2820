/**
 * Defaults shared by the VNet and the VNic (docs/overlay.md): one source, so both ends of a link agree
 * on heartbeats, queue sizes and back-off without repeating numbers.
 */

/** Heartbeat deadline of a link, ms: a link silent for longer is closed. */
export const DEFAULT_HEARTBEAT_MS = 3000;

/** How often a node sends its load statistics, ms. */
export const DEFAULT_STATS_MS = 10_000;

/** Bytes a link's send queue holds before a sender is refused with `L8_ERR_BACKPRESSURE`. */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** Deadline of link set-up (connect, TLS or proof, hello), ms. */
export const DEFAULT_HANDSHAKE_MS = 5000;

/** Default deadline of a request, ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Reconnect and redial back-off: first delay, cap (ms) and jitter (a fraction either way). */
export const BACKOFF = { firstMs: 100, maxMs: 5000, jitter: 0.3 } as const;

/** Back-off parameters; each defaults to {@link BACKOFF}'s. */
export interface Backoff {
  readonly firstMs?: number;
  readonly maxMs?: number;
  readonly jitter?: number;
}

/**
 * The wait before the next attempt: `delay` spread by ±jitter, never negative.
 * @param random a number in [0, 1), `Math.random()` by default (tests pass a fixed one)
 */
export function jittered(delay: number, jitter: number = BACKOFF.jitter, random: number = Math.random()): number {
  return Math.max(0, delay * (1 + jitter * (random * 2 - 1)));
}

/** The delay after `delay` failed: doubled, at most `maxMs`. */
export function nextDelay(delay: number, maxMs: number = BACKOFF.maxMs): number {
  return Math.min(maxMs, delay * 2);
}
