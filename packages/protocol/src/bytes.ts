/** Small unchecked writers for the encoders' hot paths (values are range-checked by the callers). */

/** Writes a big-endian uint32 at `at`. */
export function u32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = v >>> 16;
  buf[at + 2] = v >>> 8;
  buf[at + 3] = v;
}

/** Writes a big-endian uint16 at `at`. */
export function u16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 8;
  buf[at + 1] = v;
}

/** Copies a 16-byte id (a loop beats a native `set` call at this size). */
export function id16(buf: Uint8Array, at: number, id: Uint8Array): void {
  for (let i = 0; i < 16; i++) buf[at + i] = id[i] as number;
}
