import { randomUUID } from 'node:crypto';
import { l8error } from './errors.ts';

/** A node id: 16 bytes on the wire, a lower-case UUID string in the API. */
export type NodeId = string;

/** The all-zero node id: "no destination" on multicast and single-instance frames. */
export const ZERO_NODE_ID: NodeId = '00000000-0000-0000-0000-000000000000';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) NIBBLE[i.toString(16).charCodeAt(0)] = i;

/** A fresh random (v4) node id. */
export function newNodeId(): NodeId {
  return randomUUID();
}

/** True when `id` is a lower-case UUID string. */
export function isNodeId(id: unknown): id is NodeId {
  return typeof id === 'string' && UUID_RE.test(id);
}

/** Throws `L8_ERR_INVALID_ARGUMENT` unless `id` is a node id; returns it. */
export function assertNodeId(id: unknown): NodeId {
  if (!isNodeId(id)) throw l8error('L8_ERR_INVALID_ARGUMENT', `not a node id: ${String(id)}`);
  return id;
}

/** Writes the 16 bytes of `id` at `offset`. The id must be valid (see {@link assertNodeId}). */
export function writeNodeId(buf: Uint8Array, offset: number, id: NodeId): void {
  let o = offset;
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++;
    buf[o++] = ((NIBBLE[id.charCodeAt(i)] as number) << 4) | (NIBBLE[id.charCodeAt(i + 1)] as number);
  }
}

/** Reads 16 bytes at `offset` as a node id string. */
export function readNodeId(buf: Uint8Array, offset: number): NodeId {
  const h = (i: number): string => HEX[buf[offset + i] as number] as string;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/** The 16 bytes of a node id. */
export function nodeIdToBytes(id: NodeId): Uint8Array {
  const out = new Uint8Array(16);
  writeNodeId(out, 0, assertNodeId(id));
  return out;
}

/** A node id from its 16 bytes. */
export function nodeIdFromBytes(bytes: Uint8Array): NodeId {
  if (bytes.length !== 16) throw l8error('L8_ERR_INVALID_ARGUMENT', 'a node id has 16 bytes');
  return readNodeId(bytes, 0);
}
