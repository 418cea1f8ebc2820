import type { NodeId } from '@layer8/protocol';

/** The states of a circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of the circuit breakers of a VNic (`VNicOptions.breaker`). */
export interface BreakerOptions {
  /** Consecutive failures (codes of {@link UNWELL_CODES}) that open the breaker. Default 5. */
  readonly failures?: number;
  /** How long an open breaker keeps its node out of the rotation before one probe may go, ms. Default 5000. */
  readonly coolDownMs?: number;
}

/** Default consecutive failures that open a breaker. */
export const DEFAULT_BREAKER_FAILURES = 5;
/** Default cool-down of an open breaker, ms. */
export const DEFAULT_BREAKER_COOL_DOWN_MS = 5000;

/**
 * Failure codes that say the node is unwell (not the request): they count towards opening its breaker.
 * Any answer with another code (`L8_ERR_FORBIDDEN`, `L8_ERR_NOT_FOUND`, a handler's error) shows the node
 * serving, and counts as a success; a call the caller aborted, or that never left, counts as nothing.
 */
export const UNWELL_CODES: ReadonlySet<string> = new Set([
  'L8_ERR_TIMEOUT',
  'L8_ERR_UNREACHABLE',
  'L8_ERR_BACKPRESSURE',
  'L8_ERR_UNAVAILABLE',
  'L8_ERR_INTERNAL',
]);

/** Codes that say nothing about the node's health. */
const NEUTRAL_CODES: ReadonlySet<string> = new Set(['L8_ERR_ABORTED', 'L8_ERR_CLOSED', 'L8_ERR_CONNECT']);

/** What one call's outcome means for its node's breaker. */
export type Outcome = 'success' | 'failure' | 'neutral';

/** The breaker outcome of a call that succeeded (`code` undefined) or failed with `code`. */
export function outcomeOf(code: string | undefined): Outcome {
  if (code === undefined) return 'success';
  if (UNWELL_CODES.has(code)) return 'failure';
  return NEUTRAL_CODES.has(code) ? 'neutral' : 'success';
}

/** The moves a breaker may make; {@link Breaker} refuses any other. */
const MOVES: Readonly<Record<BreakerState, readonly BreakerState[]>> = {
  closed: ['open'],
  open: ['half-open'],
  'half-open': ['closed', 'open'],
};

/**
 * The circuit breaker of one (service, node): `closed` lets every call through and counts consecutive
 * failures; at `failures` it opens, and an `open` breaker lets none through for `coolDownMs` (a timer,
 * unref'd); then `half-open` lets exactly one probe through, whose success closes it and whose failure
 * opens it again. {@link to} is the one transition.
 *
 * Invariants: `#failures` is 0 outside `closed`; `#probing` is true only in `half-open`, while its probe
 * has no outcome; `#timer` is set exactly while `open`.
 */
export class Breaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #probing = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #failuresToOpen: number;
  readonly #coolDownMs: number;
  readonly #onChange: ((from: BreakerState, to: BreakerState) => void) | undefined;

  /** @param onChange told about every state change (after it is made) */
  constructor(options: BreakerOptions = {}, onChange?: (from: BreakerState, to: BreakerState) => void) {
    this.#failuresToOpen = options.failures ?? DEFAULT_BREAKER_FAILURES;
    this.#coolDownMs = options.coolDownMs ?? DEFAULT_BREAKER_COOL_DOWN_MS;
    this.#onChange = onChange;
  }

  /** The current state. */
  get state(): BreakerState {
    return this.#state;
  }

  /** Closed with no failure counted: the same as no breaker at all (its board may forget it). */
  get idle(): boolean {
    return this.#state === 'closed' && this.#failures === 0;
  }

  /** Whether a call may go to the node now. In `half-open` this takes the one probe: true once. */
  admits(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open' || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** Counts a call's outcome: a success resets the count (closes a half-open breaker), a failure adds to it. */
  record(outcome: Outcome): void {
    if (outcome === 'neutral') this.#probing = false;
    else if (this.#state === 'half-open') this.to(outcome === 'success' ? 'closed' : 'open');
    else if (this.#state === 'closed') this.#count(outcome);
  }

  /** Stops the cool-down timer (the owner is gone); the state stays. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The one transition: checks the move, resets the counters, arms the cool-down of `open`, reports it. */
  to(next: BreakerState): void {
    const from = this.#state;
    if (!MOVES[from].includes(next)) throw new Error(`breaker cannot move from ${from} to ${next}`);
    this.#state = next;
    this.#failures = 0;
    this.#probing = false;
    this.dispose();
    if (next === 'open') this.#timer = setTimeout(() => this.to('half-open'), this.#coolDownMs).unref();
    this.#onChange?.(from, next);
  }

  #count(outcome: Outcome): void {
    if (outcome === 'success') this.#failures = 0;
    else if (++this.#failures >= this.#failuresToOpen) this.to('open');
  }
}

/** Breakers kept per VNic, at most; past it, closed ones are forgotten first. */
const MAX_BREAKERS = 4096;

/** Told about every breaker state change of a {@link BreakerBoard}. */
export type BreakerListener = (change: {
  service: string;
  area: number;
  node: NodeId;
  from: BreakerState;
  to: BreakerState;
}) => void;

/**
 * The breakers of one VNic, one per (service, area, node), made at the first failure; the instance
 * picker asks {@link admits} before it picks a node.
 *
 * Invariant: at most {@link MAX_BREAKERS} breakers; a (service, area, node) without one is closed.
 */
export class BreakerBoard {
  readonly #options: BreakerOptions;
  readonly #onChange: BreakerListener | undefined;
  readonly #breakers = new Map<string, Breaker>();

  constructor(options: BreakerOptions = {}, onChange?: BreakerListener) {
    this.#options = options;
    this.#onChange = onChange;
  }

  /** Whether a call of (service, area) may go to `node` now (takes the probe of a half-open breaker). */
  admits(service: string, area: number, node: NodeId): boolean {
    if (this.#breakers.size === 0) return true; // the healthy case: no key to build
    return this.#breakers.get(keyOf(service, area, node))?.admits() ?? true;
  }

  /**
   * Counts the outcome of a call of (service, area) to `node`: `code` undefined for a success. A breaker
   * that is idle again (closed, no failure counted) is forgotten, so a healthy overlay keeps none and a
   * success costs nothing.
   */
  record(service: string, area: number, node: NodeId, code: string | undefined): void {
    if (code === undefined && this.#breakers.size === 0) return;
    const outcome = outcomeOf(code);
    const key = keyOf(service, area, node);
    const b = this.#breakers.get(key);
    if (b === undefined) {
      if (outcome === 'failure') this.#create(key, service, area, node)?.record(outcome);
      return;
    }
    b.record(outcome);
    if (b.idle) this.#breakers.delete(key);
  }

  /** The state of the breaker of (service, area, node). */
  state(service: string, area: number, node: NodeId): BreakerState {
    return this.#breakers.get(keyOf(service, area, node))?.state ?? 'closed';
  }

  /** Stops every cool-down timer. */
  dispose(): void {
    for (const b of this.#breakers.values()) b.dispose();
  }

  #create(key: string, service: string, area: number, node: NodeId): Breaker | undefined {
    if (this.#breakers.size >= MAX_BREAKERS) this.#forgetClosed();
    if (this.#breakers.size >= MAX_BREAKERS) return undefined;
    const report = this.#onChange;
    const b = new Breaker(this.#options, report && ((from, to) => report({ service, area, node, from, to })));
    this.#breakers.set(key, b);
    return b;
  }

  #forgetClosed(): void {
    for (const [k, b] of this.#breakers) if (b.state === 'closed') this.#breakers.delete(k);
  }
}

function keyOf(service: string, area: number, node: NodeId): string {
  return `${area}/${service}/${node}`;
}
