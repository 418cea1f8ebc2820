import { type NodeId, nodeIdToBytes } from '@layer8/protocol';
import { boundaryValues, type FieldSpan, writeUint } from './frame-layout.ts';
import type { FuzzRandom } from './fuzz-random.ts';

/**
 * Mutations of one field of a frame, by what the field holds (frame-layout.ts): integers get bit flips,
 * boundary values and random values; node ids the zero id, all ones or an id that means something to
 * the target; lengths values that run short, long or past the end of the frame; byte strings flips,
 * random bytes, fills and invalid UTF-8.
 */

/** Ids a mutated id field may take besides random ones: the target's, this link's, the known nodes'. */
export interface IdPool {
  readonly target: NodeId;
  readonly self: NodeId;
  readonly nodes: readonly NodeId[];
}

const INT_OPS = ['flip', 'boundary', 'random', 'enum-edge'] as const;
const ID_OPS = ['flip', 'zero', 'ones', 'target', 'self', 'node', 'random'] as const;
const LENGTH_OPS = ['flip', 'boundary', 'past-end', 'one-short', 'one-long', 'zero'] as const;
const BYTES_OPS = ['flip', 'random', 'zeros', 'ones', 'bad-utf8'] as const;

/** Enum fields and the first value past their range (docs/protocol.md §7). */
const ENUM_END: Readonly<Record<string, number>> = {
  KIND: 8,
  MODE: 6,
  CONTENT_TYPE: 5,
  TX_STATE: 7,
  VERSION: 2,
  PRIORITY: 8,
};

function flip(rng: FuzzRandom, frame: Buffer, span: FieldSpan): void {
  const i = span.at + rng.below(span.size);
  frame[i] = (frame[i] as number) ^ (1 << rng.below(8));
}

function readUint(frame: Buffer, span: FieldSpan): number {
  if (span.size === 1) return frame[span.at] as number;
  if (span.size === 2) return frame.readUInt16BE(span.at);
  return frame.readUInt32BE(span.at + span.size - 4);
}

function intOp(rng: FuzzRandom, frame: Buffer, span: FieldSpan): string {
  const op = rng.pick(INT_OPS);
  if (op === 'flip') flip(rng, frame, span);
  else if (op === 'boundary') writeUint(frame, span.at, span.size, rng.pick(boundaryValues(span.size)));
  else if (op === 'random') rng.bytes(span.size).copy(frame, span.at);
  else writeUint(frame, span.at, span.size, ENUM_END[span.name] ?? 0xff);
  if (span.size === 8 && op === 'boundary' && rng.chance(0.5)) frame.fill(0xff, span.at, span.at + span.size);
  return op;
}

function idOp(rng: FuzzRandom, frame: Buffer, span: FieldSpan, ids: IdPool): string {
  const op = rng.pick(ID_OPS);
  const put = (id: NodeId): void => void frame.set(nodeIdToBytes(id), span.at);
  if (op === 'flip') flip(rng, frame, span);
  else if (op === 'zero') frame.fill(0, span.at, span.at + 16);
  else if (op === 'ones') frame.fill(0xff, span.at, span.at + 16);
  else if (op === 'target') put(ids.target);
  else if (op === 'self') put(ids.self);
  else if (op === 'node' && ids.nodes.length > 0) put(rng.pick(ids.nodes));
  else rng.bytes(16).copy(frame, span.at);
  return op;
}

function lengthOp(rng: FuzzRandom, frame: Buffer, span: FieldSpan): string {
  const op = rng.pick(LENGTH_OPS);
  const value = readUint(frame, span);
  const rest = frame.length - span.at - span.size;
  if (op === 'flip') flip(rng, frame, span);
  else if (op === 'boundary') writeUint(frame, span.at, span.size, rng.pick(boundaryValues(span.size)));
  else if (op === 'past-end') writeUint(frame, span.at, span.size, rest + 1 + rng.below(16));
  else if (op === 'one-short') writeUint(frame, span.at, span.size, Math.max(0, value - 1));
  else if (op === 'one-long') writeUint(frame, span.at, span.size, value + 1);
  else writeUint(frame, span.at, span.size, 0);
  return op;
}

function bytesOp(rng: FuzzRandom, frame: Buffer, span: FieldSpan): string {
  const op = rng.pick(BYTES_OPS);
  const end = span.at + span.size;
  if (op === 'flip') flip(rng, frame, span);
  else if (op === 'random') rng.bytes(span.size).copy(frame, span.at);
  else if (op === 'zeros') frame.fill(0, span.at, end);
  else if (op === 'ones') frame.fill(0xff, span.at, end);
  else frame.fill(rng.pick([0xc0, 0x80, 0xed, 0xf8]), span.at + rng.below(span.size), end);
  return op;
}

/** Mutates the field of `span` in `frame` (no prefix) in place; returns the operation's name. */
export function mutateField(rng: FuzzRandom, frame: Buffer, span: FieldSpan, ids: IdPool): string {
  switch (span.type) {
    case 'int':
      return intOp(rng, frame, span);
    case 'id':
      return idOp(rng, frame, span, ids);
    case 'length':
      return lengthOp(rng, frame, span);
    default:
      return bytesOp(rng, frame, span);
  }
}
