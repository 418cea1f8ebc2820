import type { HealthDelta, HealthRecord } from '@layer8/health';
import { type ControlBody, encodeControl, l8error, type NodeId } from '@layer8/protocol';
import type { Connection } from './connection.ts';

/** Records per chunk of a dumped slice, at most. */
export const DUMP_CHUNK_RECORDS = 128;
/**
 * JSON bytes of health per frame, about: a chunk closes before it would pass this, so with records of
 * at most 64 KiB every health frame stays under the 256 KiB every node accepts (MIN_MAX_FRAME).
 */
export const HEALTH_FRAME_BYTES = 128 * 1024;

/** One writer's slice as it stands: its records and the sequence of its last delta. */
export interface SliceSnapshot {
  readonly vnet: NodeId;
  readonly seq: number;
  readonly records: readonly HealthRecord[];
}

/**
 * Splits slices into deltas of at most {@link DUMP_CHUNK_RECORDS} records and about
 * {@link HEALTH_FRAME_BYTES}: the first of each slice is `full` (it replaces the slice), the rest are
 * `part`s with the same sequence (they add to it).
 */
export function chunkSlices(slices: readonly SliceSnapshot[]): HealthDelta[] {
  const out: HealthDelta[] = [];
  for (const s of slices) {
    for (const [i, upsert] of chunkBy(s.records, jsonBytes, HEALTH_FRAME_BYTES, DUMP_CHUNK_RECORDS).entries()) {
      out.push({ vnet: s.vnet, seq: s.seq, full: true, ...(i > 0 ? { part: true } : {}), upsert, remove: [] });
    }
  }
  return out;
}

/** UTF-8 bytes of a value as JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * Splits `items` into runs of at most `maxCount` items whose sizes sum to at most `maxBytes` (an item
 * larger than that gets a run of its own). Always returns at least one run, possibly empty.
 */
export function chunkBy<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxBytes: number,
  maxCount = Infinity,
): T[][] {
  const out: T[][] = [[]];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    const last = out[out.length - 1] as T[];
    if (last.length > 0 && (last.length >= maxCount || bytes + size > maxBytes)) {
      out.push([item]);
      bytes = size;
    } else {
      last.push(item);
      bytes += size;
    }
  }
  return out;
}

/**
 * Sends a state dump to one connection in chunks that respect its send queue, waiting for room between
 * chunks; health frames published meanwhile are held in `conn.backlog` and follow the dump in order.
 * One dump runs per connection: asking again while one runs (a `resync`) makes it take one more fresh
 * snapshot when it is done. Chunks are encoded one at a time, so a dump holds one snapshot of record
 * references, not the encoded table. A backlog over `maxBacklogBytes` closes the link with
 * `L8_ERR_BACKPRESSURE` (see {@link holdForDump}): a reader that slow reconnects and gets a fresh dump.
 *
 * `bodyOf` wraps one delta in the control body the receiver expects (`deltas` for a VNic, `delta` for a
 * peer VNet). Resolves when the dump and its backlog are sent, or the link closed; never rejects.
 */
export async function sendDump(
  conn: Connection,
  source: NodeId,
  snapshot: () => readonly SliceSnapshot[],
  bodyOf: (d: HealthDelta) => ControlBody,
): Promise<void> {
  if (conn.backlog !== undefined) {
    conn.redump = true;
    return;
  }
  conn.backlog = [];
  conn.backlogBytes = 0;
  try {
    do {
      conn.redump = false;
      for (const d of chunkSlices(snapshot())) if (!(await sendOne(conn, encodeControl(source, bodyOf(d))))) return;
      if (!(await drainBacklog(conn))) return;
    } while (conn.redump && !conn.link.closed);
  } catch {
    // a fault of this dump must not become an unhandled rejection; the link's own checks close it
  } finally {
    conn.backlog = undefined;
    conn.backlogBytes = 0;
    conn.redump = false;
  }
}

/**
 * Holds a health frame for a connection that is being dumped. Returns false when it was not dumping.
 * A backlog over `maxBytes` closes the link (`L8_ERR_BACKPRESSURE`) rather than growing without bound.
 */
export function holdForDump(conn: Connection, frame: Buffer, maxBytes: number): boolean {
  if (conn.backlog === undefined) return false;
  if (conn.backlogBytes + frame.length > maxBytes) {
    conn.backlog = [];
    conn.backlogBytes = 0;
    conn.link.close(l8error('L8_ERR_BACKPRESSURE', 'health backlog over the send queue while a state dump waits'));
    return true;
  }
  conn.backlog.push(frame);
  conn.backlogBytes += frame.length;
  return true;
}

/** Sends the backlog in order; false when the link closed. */
async function drainBacklog(conn: Connection): Promise<boolean> {
  for (;;) {
    const frame = conn.backlog?.shift();
    if (frame === undefined) return true;
    conn.backlogBytes -= frame.length;
    if (!(await sendOne(conn, frame))) return false;
  }
}

/** Waits for room, then queues; false when the link closed. */
async function sendOne(conn: Connection, frame: Buffer): Promise<boolean> {
  try {
    await conn.link.writable(frame.length);
  } catch {
    return false;
  }
  return conn.link.trySend(frame);
}
