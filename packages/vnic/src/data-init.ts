import type { FramedLink } from '@layer8/link';
import {
  Action,
  type DataInit,
  DEFAULT_HOPS,
  dataFrameSize,
  type Kind,
  l8error,
  Mode,
  type NodeId,
  writeData,
} from '@layer8/protocol';
import type { ByteCache } from './byte-cache.ts';
import { encodePayload, type Payload } from './payload.ts';
import type { SendOptions } from './target.ts';

/** Where a data frame goes and what it is. */
export interface DataTarget {
  readonly kind: Kind;
  readonly mode: Mode;
  readonly node: NodeId;
  readonly service: string;
  readonly area: number;
  /** The request's sequence; 0 for one-way messages. */
  readonly seq: number;
}

/** The sending node's ids (16 bytes each) and the cache that turns names into wire bytes. */
export interface DataSource {
  readonly source: Uint8Array;
  readonly origin: Uint8Array;
  readonly ids: ByteCache;
}

/**
 * The fields of one data frame (docs/protocol.md §3-§4) from a send call, for `writeData`.
 * @throws L8_ERR_INVALID_ARGUMENT when the area or the priority is out of range.
 */
export function dataInit(t: DataTarget, from: DataSource, payload: Payload, o: SendOptions, timeoutMs = 0): DataInit {
  const { payload: bytes, contentType } = encodePayload(payload, o.codec);
  const priority = o.priority ?? 4;
  if (!inRange(t.area, 0xffff) || !inRange(priority, 7)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `area ${t.area} or priority ${priority} out of range`);
  }
  return {
    kind: t.kind,
    mode: t.mode,
    priority,
    hops: DEFAULT_HOPS,
    area: t.area,
    sequence: t.seq,
    deadlineMs: Math.min(timeoutMs, 0xffffffff),
    source: from.source,
    origin: from.origin,
    destination: from.ids.bytes(t.node),
    contentType,
    action: o.action ?? Action.HANDLE,
    service: from.ids.service(t.service),
    traceparent: o.traceparent ?? '',
    aaa: o.identity ?? '',
    idempotencyKey: o.idempotencyKey,
    payload: bytes,
  };
}

function inRange(n: number, max: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= max;
}

/**
 * Refuses a frame of `length` bytes (without prefix) over the VNet's maximum before anything is queued.
 * @throws L8_ERR_FRAME_TOO_LARGE
 */
export function checkFrameSize(length: number, max: number): void {
  if (length <= max) return;
  throw l8error('L8_ERR_FRAME_TOO_LARGE', `a frame of ${length} bytes is over the VNet's maximum of ${max}`, {
    data: { length, max },
  });
}

/**
 * Encodes a data frame straight into the link's batch buffer.
 * @throws L8_ERR_FRAME_TOO_LARGE, L8_ERR_CLOSED, L8_ERR_BACKPRESSURE (nothing is queued)
 */
export function sendData(link: FramedLink, d: DataInit, maxFrame: number): void {
  const size = dataFrameSize(d);
  checkFrameSize(size - 4, maxFrame);
  const at = link.reserve(size);
  if (at < 0) {
    if (link.closed) throw l8error('L8_ERR_CLOSED', 'link is closed');
    throw l8error('L8_ERR_BACKPRESSURE', `link send queue is full (${link.pendingBytes} bytes waiting)`);
  }
  writeData(link.batchBuffer, at, d, size);
  link.commit(size);
}

/** The header mode byte of each mode name a caller can ask for. */
export const MODE_BYTE: Record<string, Mode> = {
  unicast: Mode.UNICAST,
  'round-robin': Mode.ROUND_ROBIN,
  proximity: Mode.PROXIMITY,
  local: Mode.LOCAL,
  leader: Mode.LEADER,
};
