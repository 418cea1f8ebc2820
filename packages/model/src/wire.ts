/**
 * Protobuf wire primitives for the compiled codec (compiled-codec.ts).
 *
 * The writer produces the bytes `@bufbuild/protobuf`'s `BinaryWriter` produces for valid values. Invalid values
 * (an int32 of 1.5, a string where a bigint belongs) throw {@link bail} instead of being coerced, so that the
 * caller re-encodes with `toBinary`, which either coerces them its own way or throws its own error.
 *
 * The reader is stricter than `BinaryReader`: it throws (anything, usually {@link bail}) on every truncation,
 * overlong varint or length overrun, so that the caller re-decodes with `fromBinary`. Whatever it accepts it
 * decodes as `fromBinary` does (tested with fast-check against `fromBinary` on valid and mangled bytes).
 */

/** Thrown when the compiled path cannot give exactly what `@bufbuild/protobuf` would: fall back to it. */
export const bail: Error = Object.freeze(new Error('compiled codec: fall back to @bufbuild/protobuf'));

const FLOAT32_MAX = 3.4028234663852886e38;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TWO_32 = 4294967296;
const SLAB_SIZE = 16384;
const POOL_MAX = 2048;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes of a uint32 varint. */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** A growable buffer with fork/join for length prefixes; reused across encodes (call `reset` first). */
export class WireWriter {
  #buf = new Uint8Array(512);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;
  /** Start offsets of open forks (each reserved one length byte). */
  readonly #forks: number[] = [];
  /** Low and high 32 bits of the last 64-bit value split by `#split`. */
  #lo = 0;
  #hi = 0;
  #slab = new ArrayBuffer(SLAB_SIZE);
  #slabPos = 0;

  reset(): void {
    this.#pos = 0;
    this.#forks.length = 0;
  }

  /**
   * A copy of the bytes written since `reset`. Results up to 2 KiB are views into a shared 16 KiB slab (as
   * Node's `Buffer` pool does): allocating an ArrayBuffer per message costs as much as encoding it.
   */
  finish(): Uint8Array {
    const n = this.#pos;
    if (n > POOL_MAX) return this.#buf.slice(0, n);
    if (this.#slabPos + n > SLAB_SIZE) {
      this.#slab = new ArrayBuffer(SLAB_SIZE);
      this.#slabPos = 0;
    }
    const out = new Uint8Array(this.#slab, this.#slabPos, n);
    out.set(this.#buf.subarray(0, n));
    this.#slabPos = (this.#slabPos + n + 7) & ~7;
    return out;
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const buf = new Uint8Array(size);
    buf.set(this.#buf.subarray(0, this.#pos));
    this.#buf = buf;
    this.#view = new DataView(buf.buffer);
  }

  /** A tag or a length: an unsigned varint of a value already known to be a uint32. */
  u32(n: number): void {
    this.#ensure(5);
    const buf = this.#buf;
    let pos = this.#pos;
    while (n > 0x7f) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    this.#pos = pos;
  }

  uint32(v: unknown): void {
    if (typeof v !== 'number' || v >>> 0 !== v) throw bail;
    this.u32(v);
  }

  int32(v: unknown): void {
    if (typeof v !== 'number' || (v | 0) !== v) throw bail;
    if (v >= 0) this.u32(v);
    else this.#varint64(v >>> 0, 0xffffffff);
  }

  sint32(v: unknown): void {
    if (typeof v !== 'number' || (v | 0) !== v) throw bail;
    this.u32(((v << 1) ^ (v >> 31)) >>> 0);
  }

  fixed32(v: unknown): void {
    if (typeof v !== 'number' || v >>> 0 !== v) throw bail;
    this.#ensure(4);
    this.#view.setUint32(this.#pos, v, true);
    this.#pos += 4;
  }

  sfixed32(v: unknown): void {
    if (typeof v !== 'number' || (v | 0) !== v) throw bail;
    this.#ensure(4);
    this.#view.setInt32(this.#pos, v, true);
    this.#pos += 4;
  }

  bool(v: unknown): void {
    if (typeof v !== 'boolean') throw bail;
    this.#ensure(1);
    this.#buf[this.#pos++] = v ? 1 : 0;
  }

  double(v: unknown): void {
    if (typeof v !== 'number') throw bail;
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, v, true);
    this.#pos += 8;
  }

  float(v: unknown): void {
    if (typeof v !== 'number' || ((v > FLOAT32_MAX || v < -FLOAT32_MAX) && Number.isFinite(v))) throw bail;
    this.#ensure(4);
    this.#view.setFloat32(this.#pos, v, true);
    this.#pos += 4;
  }

  int64(v: unknown): void {
    this.#split(v, INT64_MIN, INT64_MAX);
    this.#varint64(this.#lo, this.#hi);
  }

  uint64(v: unknown): void {
    this.#split(v, 0n, UINT64_MAX);
    this.#varint64(this.#lo, this.#hi);
  }

  sint64(v: unknown): void {
    this.#split(v, INT64_MIN, INT64_MAX);
    const lo = this.#lo;
    const hi = this.#hi;
    const sign = hi >> 31;
    this.#varint64(((lo << 1) ^ sign) >>> 0, (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0);
  }

  fixed64(v: unknown): void {
    this.#split(v, 0n, UINT64_MAX);
    this.#fixed64();
  }

  sfixed64(v: unknown): void {
    this.#split(v, INT64_MIN, INT64_MAX);
    this.#fixed64();
  }

  string(v: unknown): void {
    if (typeof v !== 'string') throw bail;
    const n = v.length;
    const prefix = varintSize(n);
    // room for u32's own 5-byte reserve too: a growth inside u32 would drop the text written below
    this.#ensure(Math.max(5, prefix + n));
    const buf = this.#buf;
    const start = this.#pos + prefix;
    let i = 0;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c > 0x7f) break;
      buf[start + i] = c;
    }
    if (i === n) {
      this.u32(n);
      this.#pos += n;
    } else this.#utf8(v);
  }

  bytes(v: unknown): void {
    if (!(v instanceof Uint8Array)) throw bail;
    this.u32(v.byteLength);
    this.#ensure(v.byteLength);
    this.#buf.set(v, this.#pos);
    this.#pos += v.byteLength;
  }

  /** Reserves one byte for the length of what follows until `join`. */
  fork(): void {
    this.#ensure(1);
    this.#forks.push(this.#pos++);
  }

  join(): void {
    const at = this.#forks.pop() as number;
    const len = this.#pos - at - 1;
    const size = varintSize(len);
    if (size > 1) {
      this.#ensure(size - 1);
      this.#buf.copyWithin(at + size, at + 1, this.#pos);
    }
    this.#pos = at;
    this.u32(len);
    this.#pos += len;
  }

  /** Non-ASCII text: UTF-8 with lone surrogates as U+FFFD, like `TextEncoder` (and bufbuild). */
  #utf8(v: string): void {
    this.#ensure(v.length * 3 + 5);
    const guess = varintSize(v.length);
    const start = this.#pos;
    const { written } = utf8.encodeInto(v, this.#buf.subarray(start + guess));
    const size = varintSize(written);
    if (size !== guess) this.#buf.copyWithin(start + size, start + guess, start + guess + written);
    this.u32(written);
    this.#pos += written;
  }

  /** Splits a bigint in [min, max] into `#lo`/`#hi` (two's complement), else bails. */
  #split(v: unknown, min: bigint, max: bigint): void {
    if (typeof v !== 'bigint' || v < min || v > max) throw bail;
    if (v >= -9007199254740991n && v <= 9007199254740991n) {
      const n = Number(v);
      this.#lo = n >>> 0;
      this.#hi = Math.floor(n / TWO_32) >>> 0;
    } else {
      this.#lo = Number(v & 0xffffffffn);
      this.#hi = Number((v >> 32n) & 0xffffffffn);
    }
  }

  #fixed64(): void {
    this.#ensure(8);
    this.#view.setUint32(this.#pos, this.#lo, true);
    this.#view.setUint32(this.#pos + 4, this.#hi, true);
    this.#pos += 8;
  }

  #varint64(lo: number, hi: number): void {
    this.#ensure(10);
    const buf = this.#buf;
    let pos = this.#pos;
    while (hi !== 0) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.#pos = pos;
  }
}

/** Reads one message from a byte array; every method throws when the bytes run out or are malformed. */
export class WireReader {
  readonly buf: Uint8Array;
  pos = 0;
  readonly #len: number;
  #view: DataView | undefined;
  /** Low and high 32 bits of the last 64-bit varint. */
  #lo = 0;
  #hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.#len = buf.length;
  }

  /** A tag: a varint of at most 5 bytes, as bufbuild (the compiled switch rejects field 0 and bad wire types). */
  tag(): number {
    const buf = this.buf;
    let pos = this.pos;
    const first = buf[pos] as number;
    if (first < 0x80) {
      this.pos = pos + 1;
      return first;
    }
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= this.#len || shift > 28) throw bail;
      const b = buf[pos++] as number;
      if (shift === 28 && b > 0x0f) throw bail;
      n |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    this.pos = pos;
    return n >>> 0;
  }

  /** An unsigned varint of up to 10 bytes, keeping its low 32 bits (as bufbuild's `uint32()`). */
  u32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos + 10 > this.#len) return this.#u32Slow();
    let b = buf[pos++] as number;
    let n = b & 0x7f;
    for (let shift = 7; b > 0x7f; shift += 7) {
      if (shift > 63) throw bail;
      b = buf[pos++] as number;
      if (shift < 32) n |= (b & 0x7f) << shift;
    }
    this.pos = pos;
    return n >>> 0;
  }

  #u32Slow(): number {
    this.#varint64();
    return this.#lo;
  }

  /** The end offset of a length-delimited record that must fit in `[pos, limit]`. */
  end(limit: number): number {
    const n = this.u32();
    const end = this.pos + n;
    if (end > limit) throw bail;
    return end;
  }

  uint32(): number {
    return this.u32();
  }

  int32(): number {
    return this.u32() | 0;
  }

  sint32(): number {
    const n = this.u32();
    return (n >>> 1) ^ -(n & 1);
  }

  bool(): boolean {
    this.#varint64();
    return (this.#lo | this.#hi) !== 0;
  }

  fixed32(): number {
    return this.#dv(4).getUint32(this.pos - 4, true);
  }

  sfixed32(): number {
    return this.#dv(4).getInt32(this.pos - 4, true);
  }

  float(): number {
    return this.#dv(4).getFloat32(this.pos - 4, true);
  }

  double(): number {
    return this.#dv(8).getFloat64(this.pos - 8, true);
  }

  int64(): bigint {
    this.#varint64();
    return toInt64(this.#lo, this.#hi);
  }

  uint64(): bigint {
    this.#varint64();
    return toUint64(this.#lo, this.#hi);
  }

  sint64(): bigint {
    this.#varint64();
    const lo = this.#lo;
    const hi = this.#hi;
    const sign = -(lo & 1);
    return toInt64((((lo >>> 1) | (hi << 31)) ^ sign) >>> 0, ((hi >>> 1) ^ sign) >>> 0);
  }

  fixed64(): bigint {
    const view = this.#dv(8);
    return toUint64(view.getUint32(this.pos - 8, true), view.getUint32(this.pos - 4, true));
  }

  sfixed64(): bigint {
    const view = this.#dv(8);
    return toInt64(view.getUint32(this.pos - 8, true), view.getUint32(this.pos - 4, true));
  }

  bytes(): Uint8Array {
    const start = this.#span();
    return this.buf.subarray(start, this.pos);
  }

  /** UTF-8 text that must be valid (proto3 strings); a BOM is kept as text. */
  string(): string {
    const start = this.#span();
    const buf = this.buf;
    const end = this.pos;
    let text = '';
    let i = start;
    for (; i + 7 < end; i += 8) {
      const c1 = buf[i] as number;
      const c2 = buf[i + 1] as number;
      const c3 = buf[i + 2] as number;
      const c4 = buf[i + 3] as number;
      const c5 = buf[i + 4] as number;
      const c6 = buf[i + 5] as number;
      const c7 = buf[i + 6] as number;
      const c8 = buf[i + 7] as number;
      if ((c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8) & 0x80) return text + strictUtf8.decode(buf.subarray(i, end));
      text += String.fromCharCode(c1, c2, c3, c4, c5, c6, c7, c8);
    }
    for (; i < end; i++) {
      const c = buf[i] as number;
      if (c & 0x80) return text + strictUtf8.decode(buf.subarray(i, end));
      text += String.fromCharCode(c);
    }
    return text;
  }

  /** Reads a length; returns the start of the span and moves past it. */
  #span(): number {
    const n = this.u32();
    const start = this.pos;
    if (start + n > this.#len) throw bail;
    this.pos = start + n;
    return start;
  }

  /** The view over the buffer, after moving past `n` bytes that must be there. */
  #dv(n: number): DataView {
    if (this.pos + n > this.#len) throw bail;
    this.pos += n;
    this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.#view;
  }

  #varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= this.#len || shift > 63) throw bail;
      const b = buf[pos++] as number;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x70) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
    }
    this.pos = pos;
    this.#lo = lo >>> 0;
    this.#hi = hi >>> 0;
  }
}

/** A signed 64-bit value from its two's complement halves. */
function toInt64(lo: number, hi: number): bigint {
  if (hi < 0x200000) return BigInt(hi * TWO_32 + lo);
  if (hi >= 0xffe00000) return BigInt((hi - TWO_32) * TWO_32 + lo);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

/** An unsigned 64-bit value from its halves. */
function toUint64(lo: number, hi: number): bigint {
  if (hi < 0x200000) return BigInt(hi * TWO_32 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}
