import { type NodeId, nodeIdFromBytes } from '@layer8/protocol';
import { Prng } from '../run/prng.ts';

/**
 * The seeded generator of the frame fuzzer: the chaos runner's {@link Prng} (mulberry32) with what a
 * mutator draws besides numbers: bytes, node ids, weighted choices, and forks for independent streams.
 * The same seed replays the same frames, so a finding can be reproduced with `--seed`.
 */
export class FuzzRandom extends Prng {
  /** The next uint32. */
  u32(): number {
    return Math.floor(this.next() * 0x1_0000_0000);
  }

  /** An integer in [0, n) (0 when n ≤ 1). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An index into `weights`, each picked in proportion to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A node id drawn from this generator (a v4 UUID's layout), so ids replay with the seed too. */
  nodeId(): NodeId {
    const b = this.bytes(16);
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    return nodeIdFromBytes(b);
  }

  /** A new generator seeded from this one: an independent stream (one per link) that still replays. */
  fork(): FuzzRandom {
    return new FuzzRandom(this.u32());
  }
}
