import { type NodeId, nodeIdToBytes } from '@layer8/protocol';

/** Entries kept per map before it is cleared (bounds memory under churn). */
const LIMIT = 4096;

/**
 * Node ids and service names in wire bytes, computed once and reused by the send path.
 * Invariant: each map holds at most {@link LIMIT} entries; values equal a fresh conversion of the key.
 */
export class ByteCache {
  readonly #nodes = new Map<NodeId, Uint8Array>();
  readonly #services = new Map<string, Buffer>();

  /** The 16 bytes of `id`. @throws L8_ERR_INVALID_ARGUMENT when `id` is not a node id. */
  bytes(id: NodeId): Uint8Array {
    let b = this.#nodes.get(id);
    if (b === undefined) {
      b = nodeIdToBytes(id);
      if (this.#nodes.size >= LIMIT) this.#nodes.clear();
      this.#nodes.set(id, b);
    }
    return b;
  }

  /** The UTF-8 bytes of a service name. */
  service(name: string): Buffer {
    let b = this.#services.get(name);
    if (b === undefined) {
      b = Buffer.from(name, 'utf8');
      if (this.#services.size >= LIMIT) this.#services.clear();
      this.#services.set(name, b);
    }
    return b;
  }
}
