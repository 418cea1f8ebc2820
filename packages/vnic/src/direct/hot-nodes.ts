/** Requests a VNic looks back on to find the nodes worth a direct link. */
export const HOT_WINDOW = 64;
/** Of those, how many must have gone to one node for it to be worth one: a quarter. */
export const HOT_COUNT = 16;

/**
 * Which destinations take a large share of a VNic's recent requests (docs/overlay.md, "Same host"). A
 * direct link saves two process wake-ups per request but writes to its own socket, while the switched
 * path batches the frames of a turn to every destination into one write: it pays for a node that gets
 * much of the traffic, and costs when requests spread over many nodes (a hundred VNics on one host
 * calling each other round-robin ran ten times slower with a link per pair). So a node is introduced
 * only once it had {@link HOT_COUNT} of the last {@link HOT_WINDOW} requests sent without a link.
 *
 * Invariant: `#counts` holds, for every key in `#ring`, how many times it is there (absent for zero).
 */
export class HotNodes {
  readonly #ring: (string | undefined)[] = new Array(HOT_WINDOW).fill(undefined);
  readonly #counts = new Map<string, number>();
  #at = 0;

  /** Counts one request to `node`; whether `node` now had at least {@link HOT_COUNT} of the last {@link HOT_WINDOW}. */
  hit(node: string): boolean {
    const old = this.#ring[this.#at];
    if (old !== undefined) this.#forget(old);
    this.#ring[this.#at] = node;
    this.#at = (this.#at + 1) % HOT_WINDOW;
    const n = (this.#counts.get(node) ?? 0) + 1;
    this.#counts.set(node, n);
    return n >= HOT_COUNT;
  }

  #forget(node: string): void {
    const n = (this.#counts.get(node) ?? 1) - 1;
    if (n === 0) this.#counts.delete(node);
    else this.#counts.set(node, n);
  }
}
