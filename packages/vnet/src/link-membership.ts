import { type L8Error, l8error, type NodeId } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import type { ControlHost } from './control-host.ts';
import type { HealthSlice } from './health-slice.ts';
import type { Liveness } from './liveness.ts';

/** Socket errors that only say the other end has gone (a write raced its close): no fault of anyone's. */
const GONE_CODES: ReadonlySet<string> = new Set(['EPIPE', 'ECONNRESET']);

/** The parts of the control plane that {@link LinkMembership} drives. */
export interface MembershipParts {
  readonly slice: HealthSlice;
  readonly liveness: Liveness;
  /** Closes a link for a security or protocol reason, telling the other end why. */
  readonly refuse: (conn: Connection, error: L8Error) => void;
  /** Called after the set of links changed (the route tables must be rebuilt). */
  readonly onChange: () => void;
}

/**
 * Which links a VNet holds: attaches a new local VNic or peer VNet (one link per node, one per peer VNet:
 * of two links to the same VNet, the one dialled by the VNet with the lower id stays) and forgets closed
 * ones, telling the health slice and liveness. Logs `peer link up` and `peer link down` (info), and a
 * link closed by a fault (warn; at debug when the other end merely went away or had said goodbye).
 */
export class LinkMembership {
  readonly #host: ControlHost;
  readonly #parts: MembershipParts;

  constructor(host: ControlHost, parts: MembershipParts) {
    this.#host = host;
    this.#parts = parts;
  }

  /** Registers a new connection; false when it was refused or lost a duplicate tie-break, and was closed. */
  attached(conn: Connection): boolean {
    if (conn.dialled && !this.#admitted(conn)) return false;
    const kept = conn.isPeer ? this.#attachPeer(conn) : this.#attachLocal(conn);
    if (kept) this.#parts.onChange();
    return kept;
  }

  /** Forgets a closed connection (`error` is why it closed, if by a fault). */
  detached(conn: Connection, error: L8Error | undefined): void {
    if (error !== undefined) this.#logClosed(conn, error);
    const gone = conn.isPeer ? this.#detachPeer(conn, error) : this.#detachLocal(conn);
    if (gone) this.#parts.onChange();
  }

  /** Links this VNet dialled pass the same admission rules as accepted ones. */
  #admitted(conn: Connection): boolean {
    try {
      this.#host.admission.check(conn.hello, conn.opened.peer);
      return true;
    } catch (err) {
      this.#parts.refuse(conn, err as L8Error);
      return false;
    }
  }

  #attachLocal(conn: Connection): boolean {
    const h = this.#host;
    h.locals.get(conn.key)?.link.close(l8error('L8_ERR_CONNECT', 'replaced by a new link of the same node'));
    // queued deltas predate this node's dump: send them to the others first, not to it
    this.#parts.slice.flushLocals();
    h.locals.set(conn.key, conn);
    this.#parts.liveness.reattached(conn.id);
    this.#parts.slice.addLocal(conn);
    return true;
  }

  #attachPeer(conn: Connection): boolean {
    const h = this.#host;
    const existing = h.peers.get(conn.id);
    const live = existing !== undefined && !existing.link.closed;
    if (live && !keepsNew(h.id, conn, existing)) {
      conn.link.close();
      return false;
    }
    h.peers.set(conn.id, conn);
    if (live) existing.link.close();
    else h.log.info(describePeer(conn), 'peer link up');
    this.#parts.slice.peerUp(conn);
    return true;
  }

  #detachLocal(conn: Connection): boolean {
    const h = this.#host;
    if (h.locals.get(conn.key) !== conn) return false;
    h.locals.delete(conn.key);
    if (conn.leaving) this.#parts.slice.publish([], [conn.id]);
    else this.#parts.liveness.markUnreachable(conn.id);
    return true;
  }

  #detachPeer(conn: Connection, error: L8Error | undefined): boolean {
    const h = this.#host;
    if (h.peers.get(conn.id) !== conn) return false;
    h.peers.delete(conn.id);
    this.#parts.slice.dropPeer(conn.id);
    const why = error === undefined ? {} : { code: error.code, err: error.message };
    h.log.info({ ...describePeer(conn), ...why }, 'peer link down');
    return true;
  }

  #logClosed(conn: Connection, error: L8Error): void {
    const fields = { node: conn.id, code: error.code, err: error.message };
    if (conn.leaving || isGone(error)) this.#host.log.debug?.(fields, 'link closed by the other end');
    else this.#host.log.warn(fields, 'link closed');
  }
}

/** Whether `conn` wins over the live `existing` link to the same VNet: the link dialled by the lower id stays. */
function keepsNew(ownId: NodeId, conn: Connection, existing: Connection): boolean {
  return (conn.dialled ? ownId : conn.id) < (existing.dialled ? ownId : existing.id);
}

/** Whether a link's error only says that the other end went away (EPIPE, ECONNRESET). */
export function isGone(error: L8Error): boolean {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && GONE_CODES.has(code);
}

/** Log fields of a peer link: the VNet's id and alias, where the link goes, and which side dialled. */
function describePeer(conn: Connection): Record<string, unknown> {
  return { peer: conn.id, alias: conn.hello.alias, address: remoteOf(conn), dialled: conn.dialled };
}

function remoteOf(conn: Connection): string {
  const s = conn.opened.stream as { remoteAddress?: string; remotePort?: number };
  if (s.remoteAddress === undefined) return conn.opened.transport;
  const host = s.remoteAddress.includes(':') ? `[${s.remoteAddress}]` : s.remoteAddress;
  return `${host}:${s.remotePort ?? 0}`;
}
