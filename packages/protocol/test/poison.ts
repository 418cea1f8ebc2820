/**
 * Fills the rest of Buffer's allocUnsafe pool with `byte` (starting a fresh pool when little is left), so
 * that bytes an encoder leaves unwritten show up as that byte instead of whatever was there. Encoders'
 * results under 4 KiB come from this pool.
 */
export function poisonPool(byte: number): void {
  for (;;) {
    const probe = Buffer.allocUnsafe(1);
    const rest = probe.buffer.byteLength - probe.byteOffset - 1;
    if (rest >= 2048) {
      new Uint8Array(probe.buffer, probe.byteOffset + 1).fill(byte);
      return;
    }
    if (rest > 0) Buffer.allocUnsafe(rest);
  }
}

/** Runs `encode` under two different pool poisons and returns its result when both agree byte for byte. */
export function sameUnderPoison(encode: () => Buffer): Buffer | undefined {
  poisonPool(0xaa);
  const first = encode();
  poisonPool(0x55);
  const second = encode();
  return first.equals(second) ? first : undefined;
}
