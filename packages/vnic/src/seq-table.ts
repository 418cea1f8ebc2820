/** Smallest capacity (slots); a power of two. */
const MIN_CAPACITY = 256;

/**
 * Sequence → value for the pending table: an open-addressing hash table (linear probing, deletion by
 * backward shift, so no tombstones) over an Int32Array of keys and an array of values.
 *
 * Why not a Map: a Map with entries coming and going replaces its backing table every few hundred
 * operations, and V8 keeps in each replaced table a link to its successor and the entries it held. Once
 * one replaced table is in the old generation (any full GC while requests flow puts the live one there),
 * each young-generation GC keeps every later table alive through that link, with every request, reply
 * frame and promise they held: all of it is promoted, full GCs follow, and the next table is tenured
 * again. CPU per request roughly doubled (req-c100-local). Here the arrays are replaced only when the
 * table grows or shrinks, and a replaced array points at nothing newer.
 *
 * Invariants: keys are 1..2^31-1 (0 marks a free slot); `#keys.length` is a power of two, at least
 * MIN_CAPACITY and more than twice `#size`; every key lies in the probe run that starts at its home slot
 * (`key & #mask`) with no free slot between; `#vals[i]` is undefined exactly where `#keys[i]` is 0.
 */
export class SeqTable<V> {
  #keys = new Int32Array(MIN_CAPACITY);
  #vals: (V | undefined)[] = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
  #mask = MIN_CAPACITY - 1;
  #size = 0;

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** The value of `key`; undefined for a key outside 1..2^31-1 (a peer's frame may carry any 32 bits). */
  get(key: number): V | undefined {
    if (!valid(key)) return undefined;
    const i = this.#slot(key);
    return this.#keys[i] === key ? this.#vals[i] : undefined;
  }

  has(key: number): boolean {
    return valid(key) && this.#keys[this.#slot(key)] === key;
  }

  /** Adds or replaces the value of `key` (1..2^31-1). */
  set(key: number, value: V): void {
    if (!valid(key)) throw new RangeError(`a sequence is 1..2^31-1, not ${key}`);
    if ((this.#size + 1) * 2 > this.#keys.length) this.#resize(this.#keys.length * 2);
    const i = this.#slot(key);
    if (this.#keys[i] !== key) {
      this.#keys[i] = key;
      this.#size++;
    }
    this.#vals[i] = value;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: number): boolean {
    const keys = this.#keys;
    const vals = this.#vals;
    const mask = this.#mask;
    if (!valid(key)) return false;
    let gap = this.#slot(key);
    if (keys[gap] !== key) return false;
    this.#size--;
    // backward shift: an entry later in the run moves into the gap unless its home lies in (gap, j]
    for (let j = (gap + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = (keys[j] as number) & mask;
      const stays = gap <= j ? gap < home && home <= j : gap < home || home <= j;
      if (stays) continue;
      keys[gap] = keys[j] as number;
      vals[gap] = vals[j];
      gap = j;
    }
    keys[gap] = 0;
    vals[gap] = undefined;
    if (this.#size * 8 < keys.length && keys.length > MIN_CAPACITY) this.#resize(keys.length / 2);
    return true;
  }

  /** The keys held, as a new array (entries may be deleted while walking it). */
  keys(): number[] {
    const out: number[] = [];
    for (const k of this.#keys) if (k !== 0) out.push(k);
    return out;
  }

  /** The slot of `key`, or the free slot that ends its probe run. */
  #slot(key: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    // sequences are random: their low bits spread well
    let i = key & mask;
    for (let k = keys[i]; k !== key && k !== 0; k = keys[i]) i = (i + 1) & mask;
    return i;
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const vals = this.#vals;
    this.#keys = new Int32Array(capacity);
    this.#vals = new Array<V | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k === 0) continue;
      const s = this.#slot(k);
      this.#keys[s] = k;
      this.#vals[s] = vals[i];
    }
  }
}

/** Whether `key` can be held: 0 marks a free slot, and slots hold signed 32-bit values. */
function valid(key: number): boolean {
  return key > 0 && key <= 0x7fffffff && Number.isInteger(key);
}
