/**
 * Node ids → values, looked up straight from a frame's id bytes without building a string key (the
 * switch's per-frame path, DESIGN.md §3). Keyed by the id's first 6 bytes (random in a v4 UUID) as a
 * number; entries sharing a prefix sit in a short list and are told apart by all 16 bytes.
 *
 * Invariant: every entry's `id` has 16 bytes and its prefix is the key of the list it is in.
 */
export class NodeIndex<T> {
  #byPrefix = new Map<number, { readonly id: Uint8Array; readonly value: T }[]>();

  /** Maps the 16-byte `id` to `value` (replacing an earlier value). */
  set(id: Uint8Array, value: T): void {
    const key = prefixOf(id, 0);
    const list = (this.#byPrefix.get(key) ?? []).filter((e) => !sameId(e.id, id, 0));
    list.push({ id, value });
    this.#byPrefix.set(key, list);
  }

  /** The value of the id stored at `at` in `buf`, if any. */
  get(buf: Uint8Array, at: number): T | undefined {
    const list = this.#byPrefix.get(prefixOf(buf, at));
    if (list === undefined) return undefined;
    for (const e of list) if (sameId(e.id, buf, at)) return e.value;
    return undefined;
  }

  /** Whether the id at `at` in `buf` is present. */
  has(buf: Uint8Array, at: number): boolean {
    return this.get(buf, at) !== undefined;
  }

  /** Removes the 16-byte `id`, if present. */
  delete(id: Uint8Array): void {
    const key = prefixOf(id, 0);
    const list = this.#byPrefix.get(key)?.filter((e) => !sameId(e.id, id, 0));
    if (list === undefined) return;
    if (list.length === 0) this.#byPrefix.delete(key);
    else this.#byPrefix.set(key, list);
  }

  /** Removes every id. */
  clear(): void {
    this.#byPrefix = new Map();
  }
}

function prefixOf(b: Uint8Array, at: number): number {
  const hi = (b[at] as number) * 0x10000000000 + (b[at + 1] as number) * 0x100000000;
  return (
    hi +
    ((((b[at + 2] as number) << 24) |
      ((b[at + 3] as number) << 16) |
      ((b[at + 4] as number) << 8) |
      (b[at + 5] as number)) >>>
      0)
  );
}

/** Whether the 16 bytes of `id` equal those at `at` in `buf`. */
export function sameId(id: Uint8Array, buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < 16; i++) if (id[i] !== buf[at + i]) return false;
  return true;
}
