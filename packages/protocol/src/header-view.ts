import { Offset } from './constants.ts';
import { type NodeId, nodeIdToBytes } from './node-id.ts';

/**
 * Zero-copy readers of the fixed header for the switch's hot path (docs/protocol.md §3). They assume
 * {@link checkFixedHeader} passed and do no allocation beyond the returned key strings.
 */

/** The 16 id bytes at `offset` as a compact map key (16 latin1 chars). */
export function idKeyAt(frame: Buffer, offset: number): string {
  return frame.toString('latin1', offset, offset + 16);
}

/** The source node as a map key. */
export function sourceKey(frame: Buffer): string {
  return idKeyAt(frame, Offset.SOURCE);
}

/** The destination node as a map key. */
export function destinationKey(frame: Buffer): string {
  return idKeyAt(frame, Offset.DESTINATION);
}

/** True when the destination is the zero id (mode picks the receivers). */
export function hasNoDestination(frame: Uint8Array): boolean {
  for (let i = Offset.DESTINATION; i < Offset.DESTINATION + 16; i++) if (frame[i] !== 0) return false;
  return true;
}

/**
 * The (service, area) of a frame as the key that {@link serviceKey} makes from names.
 * Returns undefined when the service name runs past the frame.
 */
export function frameServiceKey(frame: Buffer): string | undefined {
  const len = frame[Offset.SERVICE_LEN] as number;
  if (Offset.SERVICE + len > frame.length) return undefined;
  return `${frame.readUInt16BE(Offset.AREA)}/${frame.toString('latin1', Offset.SERVICE, Offset.SERVICE + len)}`;
}

/**
 * {@link frameServiceKey} with a one-entry memo, for the switch's hot path: a run of frames of one
 * (service, area) (a multicast stream, a request stream) reuses the last key instead of building two
 * strings per frame; another service costs a compare of its name bytes more than the plain function.
 *
 * Invariant: when `#len >= 0`, `#bytes[0..2)` are the area and `#bytes[2..2+#len)` the name bytes that
 * `#key` was made from.
 */
export class ServiceKeyReader {
  readonly #bytes = Buffer.alloc(2 + 255);
  #len = -1;
  #key: string | undefined;

  /** The service key of `frame` (as {@link frameServiceKey}); undefined when its name runs past its end. */
  keyOf(frame: Buffer): string | undefined {
    const len = frame[Offset.SERVICE_LEN] as number;
    if (Offset.SERVICE + len > frame.length) return undefined;
    if (this.#same(frame, len)) return this.#key;
    frame.copy(this.#bytes, 0, Offset.AREA, Offset.AREA + 2);
    frame.copy(this.#bytes, 2, Offset.SERVICE, Offset.SERVICE + len);
    this.#len = len;
    this.#key = frameServiceKey(frame);
    return this.#key;
  }

  #same(frame: Buffer, len: number): boolean {
    const b = this.#bytes;
    if (len !== this.#len || b[0] !== frame[Offset.AREA] || b[1] !== frame[Offset.AREA + 1]) return false;
    for (let i = 0; i < len; i++) if (b[2 + i] !== frame[Offset.SERVICE + i]) return false;
    return true;
  }
}

/** The key of a (service, area) pair, the same as {@link frameServiceKey} for a frame that carries it. */
export function serviceKey(service: string, area: number): string {
  return `${area}/${Buffer.from(service, 'utf8').toString('latin1')}`;
}

/** A node id as its map key (see {@link idKeyAt}). */
export function nodeKey(id: NodeId): string {
  return Buffer.from(nodeIdToBytes(id)).toString('latin1');
}
