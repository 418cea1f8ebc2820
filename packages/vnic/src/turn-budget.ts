/**
 * In-process calls (a `local` request served by this process's own handler, a local read) settle in
 * microtasks only, so a caller that makes them in a loop never lets the event loop reach its sockets:
 * its links are neither read nor flushed, and a VNet drops them at the heartbeat deadline. A turn budget
 * counts such calls per turn of the event loop; past `max` in one turn, a call first waits for the next.
 *
 * Invariants: `#used` counts the calls taken since the turn began; a reset is scheduled exactly while
 * `#resetting` is true.
 */
export class TurnBudget {
  /** Calls allowed in one turn before they wait for the next. */
  readonly max: number;
  #used = 0;
  #resetting = false;

  constructor(max = 256) {
    this.max = max;
  }

  /** Undefined within the budget; otherwise a promise of the next turn, to await before the call. */
  take(): Promise<void> | undefined {
    if (!this.#resetting) {
      this.#resetting = true;
      setImmediate(() => {
        this.#used = 0;
        this.#resetting = false;
      });
    }
    if (++this.#used <= this.max) return undefined;
    return new Promise((resolve) => setImmediate(resolve));
  }
}
