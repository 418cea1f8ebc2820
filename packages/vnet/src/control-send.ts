import type { Connection, DropCounters } from './connection.ts';
import { holdForDump } from './state-dump.ts';

/**
 * Queues a control frame on one connection. A frame over the receiver's announced maximum is counted
 * (`overMaxFrame`) and not sent; a full queue is counted (`backpressure`). Never throws.
 */
export function sendControlFrame(conn: Connection, frame: Buffer, drops: DropCounters): void {
  if (frame.length - 4 > conn.maxFrame) {
    drops.overMaxFrame++;
    return;
  }
  try {
    conn.link.send(frame);
  } catch {
    drops.backpressure++;
  }
}

/**
 * Sends a health frame to each of `conns`, except that a connection being sent a state dump holds it
 * (it follows the dump, see {@link holdForDump}; `maxBacklogBytes` bounds that backlog). Returns how
 * many connections it went to or waits for.
 */
export function broadcastHealth(
  conns: Iterable<Connection>,
  frame: Buffer,
  drops: DropCounters,
  maxBacklogBytes: number,
): number {
  let n = 0;
  for (const c of conns) {
    if (!holdForDump(c, frame, maxBacklogBytes)) sendControlFrame(c, frame, drops);
    n++;
  }
  return n;
}
