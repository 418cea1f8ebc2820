import { l8error } from '@layer8/protocol';

/** Largest seed: seeds are unsigned 32-bit integers, so any seed prints and parses back exactly. */
export const MAX_SEED = 0xffff_ffff;

/**
 * A small seeded generator (mulberry32): the same seed gives the same numbers on every machine and
 * Node version, which is what makes a chaos run's fault schedule replayable. Not for cryptography.
 *
 * Invariant: `#state` is an unsigned 32-bit integer.
 */
export class Prng {
  #state: number;

  /** @throws L8_ERR_INVALID_ARGUMENT when `seed` is not an integer in [0, {@link MAX_SEED}] */
  constructor(seed: number) {
    this.#state = checkSeed(seed);
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max] (bounds rounded inwards). */
  int(min: number, max: number): number {
    const lo = Math.ceil(min);
    return lo + Math.floor(this.next() * (Math.floor(max) - lo + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)] as T;
  }

  /** A shuffled copy of `list` (Fisher-Yates). */
  shuffle<T>(list: readonly T[]): T[] {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

/** A fresh random seed for a run that was given none (printed with the report so it can be replayed). */
export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * (MAX_SEED + 1));
}

/**
 * Checks a seed given by a user. @throws L8_ERR_INVALID_ARGUMENT when it is not an integer in
 * [0, {@link MAX_SEED}]
 */
export function checkSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `seed ${seed} is not an integer from 0 to ${MAX_SEED}`);
  }
  return seed;
}
