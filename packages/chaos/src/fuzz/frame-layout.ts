import { FIXED_HEADER_SIZE, Flag, Offset } from '@layer8/protocol';

/**
 * The fields of a v1 frame as the fuzzer sees them (docs/protocol.md §2-§4): where each lies in a
 * well-formed frame, so a mutation can aim at one field and leave the others valid.
 */

/** What a field holds, which decides the boundary values a mutation tries. */
export type FieldType = 'int' | 'id' | 'length' | 'bytes';

/** One field of one frame: its name, where it starts (after the 4-byte prefix) and its size in bytes. */
export interface FieldSpan {
  readonly name: FieldName;
  readonly at: number;
  readonly size: number;
  readonly type: FieldType;
}

/** The fixed header (§3.1): name, offset, size, type. */
const FIXED: readonly (readonly [FieldName, number, number, FieldType])[] = [
  ['VERSION', Offset.VERSION, 1, 'int'],
  ['KIND', Offset.KIND, 1, 'int'],
  ['MODE', Offset.MODE, 1, 'int'],
  ['PRIORITY', Offset.PRIORITY, 1, 'int'],
  ['HOPS', Offset.HOPS, 1, 'int'],
  ['FLAGS', Offset.FLAGS, 1, 'int'],
  ['AREA', Offset.AREA, 2, 'int'],
  ['SEQUENCE', Offset.SEQUENCE, 4, 'int'],
  ['DEADLINE', Offset.DEADLINE, 4, 'int'],
  ['SOURCE', Offset.SOURCE, 16, 'id'],
  ['ORIGIN', Offset.ORIGIN, 16, 'id'],
  ['DESTINATION', Offset.DESTINATION, 16, 'id'],
  ['CONTENT_TYPE', Offset.CONTENT_TYPE, 1, 'int'],
  ['ACTION', Offset.ACTION, 1, 'int'],
  ['SERVICE_LEN', Offset.SERVICE_LEN, 1, 'length'],
];

/** Every field name the fuzzer aims at: the length prefix, the fixed header, the variable part and the body. */
export const FIELD_NAMES = [
  'PREFIX',
  'VERSION',
  'KIND',
  'MODE',
  'PRIORITY',
  'HOPS',
  'FLAGS',
  'AREA',
  'SEQUENCE',
  'DEADLINE',
  'SOURCE',
  'ORIGIN',
  'DESTINATION',
  'CONTENT_TYPE',
  'ACTION',
  'SERVICE_LEN',
  'SERVICE',
  'TRACE_LEN',
  'TRACEPARENT',
  'AAA_LEN',
  'AAA',
  'ERROR_CODE_LEN',
  'ERROR_CODE',
  'ERROR_MESSAGE_LEN',
  'ERROR_MESSAGE',
  'ERROR_DATA_LEN',
  'ERROR_DATA',
  'TX_ID',
  'TX_STATE',
  'TX_TERM',
  'IDEMPOTENCY_LEN',
  'IDEMPOTENCY_KEY',
  'PAYLOAD',
] as const;

/** A field of {@link FIELD_NAMES}. */
export type FieldName = (typeof FIELD_NAMES)[number];

/** Appends spans while walking a frame; a block that would run past the end stops the walk. */
class Walk {
  readonly spans: FieldSpan[] = [];
  readonly frame: Buffer;
  at: number;

  constructor(frame: Buffer, at: number) {
    this.frame = frame;
    this.at = at;
  }

  /** Adds a field of `size` bytes at the cursor; false (nothing added) when it would run past the end. */
  add(name: FieldName, size: number, type: FieldType): boolean {
    if (this.at + size > this.frame.length) return false;
    if (size > 0) this.spans.push({ name, at: this.at, size, type });
    this.at += size;
    return true;
  }

  /** A length field of `size` bytes, then the `name` bytes it counts. */
  counted(lenName: FieldName, size: number, name: FieldName): boolean {
    if (!this.add(lenName, size, 'length')) return false;
    const at = this.at - size;
    const n =
      size === 1 ? (this.frame[at] as number) : size === 2 ? this.frame.readUInt16BE(at) : this.frame.readUInt32BE(at);
    return this.add(name, n, 'bytes');
  }
}

/**
 * The fields of a well-formed frame (no prefix), in wire order. Empty fields are left out (there is
 * nothing to flip in them; the length before them still is). A frame whose lengths run past its end
 * yields the fields up to there.
 */
export function layoutOf(frame: Buffer): FieldSpan[] {
  const w = new Walk(frame, FIXED_HEADER_SIZE);
  if (frame.length < FIXED_HEADER_SIZE) return [];
  for (const [name, at, size, type] of FIXED) w.spans.push({ name, at, size, type });
  const flags = frame[Offset.FLAGS] as number;
  const ok =
    w.add('SERVICE', frame[Offset.SERVICE_LEN] as number, 'bytes') &&
    w.counted('TRACE_LEN', 1, 'TRACEPARENT') &&
    w.counted('AAA_LEN', 2, 'AAA') &&
    ((flags & Flag.ERROR) === 0 || errorBlock(w)) &&
    ((flags & Flag.TX) === 0 ||
      (w.add('TX_ID', 16, 'id') && w.add('TX_STATE', 1, 'int') && w.add('TX_TERM', 8, 'int'))) &&
    ((flags & Flag.IDEMPOTENCY) === 0 || w.counted('IDEMPOTENCY_LEN', 1, 'IDEMPOTENCY_KEY'));
  if (ok) w.add('PAYLOAD', frame.length - w.at, 'bytes');
  return w.spans;
}

function errorBlock(w: Walk): boolean {
  return (
    w.counted('ERROR_CODE_LEN', 2, 'ERROR_CODE') &&
    w.counted('ERROR_MESSAGE_LEN', 4, 'ERROR_MESSAGE') &&
    w.counted('ERROR_DATA_LEN', 4, 'ERROR_DATA')
  );
}

/** The largest value a field of `size` bytes holds as an unsigned integer (sizes over 4 bytes: 2^32 - 1). */
function maxOf(size: number): number {
  return size >= 4 ? 0xffff_ffff : 2 ** (8 * size) - 1;
}

/**
 * Boundary values for an integer field of `size` bytes: 0, 1, the largest, one below it, the sign bit
 * (a negative number read as unsigned) and one below that.
 */
export function boundaryValues(size: number): number[] {
  const max = maxOf(size);
  const sign = 2 ** (Math.min(size, 4) * 8 - 1);
  return [0, 1, max, max - 1, sign, sign - 1];
}

/** Writes `value` big-endian into the `size` bytes at `at` (the low 32 bits, zero-extended, for wider fields). */
export function writeUint(buf: Buffer, at: number, size: number, value: number): void {
  if (size === 1) buf[at] = value & 0xff;
  else if (size === 2) buf.writeUInt16BE(value & 0xffff, at);
  else if (size === 4) buf.writeUInt32BE(value >>> 0, at);
  else {
    buf.fill(0, at, at + size - 4);
    buf.writeUInt32BE(value >>> 0, at + size - 4);
  }
}
