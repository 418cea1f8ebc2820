import type { FramedLink, NodeHello } from '@layer8/link';
import type { NodeId } from '@layer8/protocol';
import { nodeIdToBytes, nodeKey, Offset } from '@layer8/protocol';
import type { OpenedLink } from '@layer8/security';
import { NodeIndex, sameId } from './node-index.ts';

/**
 * Bytes waiting on a local receiver's link above which its senders are held: a local sender's link stops
 * being read (router.ts), a peer VNet is told to hold its senders for that receiver (peer-flow.ts).
 */
export const RECEIVER_HIGH_WATER = 1024 * 1024;

/** Frames a VNet refused, by reason; tests read these to prove drops. */
export interface DropCounters {
  /** Source did not match the link's authenticated node (or the peer's routed nodes). */
  spoofed: number;
  /** Frames that broke the layout (bad version, kind, truncated). */
  malformed: number;
  /** Destination unknown. */
  unreachable: number;
  /** No instance of (service, area). */
  noService: number;
  /** Leader-mode frames without a destination: leader routing needs the election service. */
  noLeader: number;
  /** Hop count exhausted. */
  ttl: number;
  /** Links closed because a frame was over the maximum size. */
  tooLarge: number;
  /** A receiver's queue was full. */
  backpressure: number;
  /** Links, records or removals refused because they claimed an identity the certificate does not hold. */
  identity: number;
  /** Links or announcements refused by a per-identity bound (links per certificate, services per node). */
  limit: number;
  /** Services a certificate may not host (coarse hosting rules). */
  forbidden: number;
  /** Sockets closed before the handshake because too many handshakes were pending. */
  handshakes: number;
  /** Frames over the maximum the receiving node announced in its hello. */
  overMaxFrame: number;
  /**
   * Frames from a peer VNet refused by a full local receiver (also counted in `backpressure`): flow
   * control (`flow` messages) did not hold the senders on the other host in time.
   */
  peerBackpressure: number;
  /** `flow` messages from a peer VNet about a node it does not route (ignored). */
  flowSpoofed: number;
}

/**
 * One authenticated connection of a VNet: a local VNic or a peer VNet.
 *
 * Invariant: `key` is the latin1 map key of `id`; `idBytes` its 16 bytes; for a peer, `routed` holds
 * the nodes the peer writes in the health table (its own id included).
 */
export class Connection {
  readonly id: NodeId;
  readonly key: string;
  readonly idBytes: Uint8Array;
  readonly hello: NodeHello;
  readonly link: FramedLink;
  readonly opened: OpenedLink;
  /** Nodes routed through this peer, its own id included (peer VNets only). */
  readonly routed = new NodeIndex<true>();
  /** Frames forwarded to this connection. */
  forwarded = 0;
  /** Whether this side dialled (peer VNets only; used for the duplicate-link tie-break). */
  readonly dialled: boolean;
  /** Whether the other end is a VNet (read on every frame, so a field rather than a getter). */
  readonly isPeer: boolean;
  /** The certificate subject that proved the link (the node id is pinned to it). */
  readonly subject: string;
  /** Largest frame the other end accepts (its hello); larger frames are refused, not sent. */
  readonly maxFrame: number;
  /**
   * Health frames held back while a state dump is being sent in chunks (they follow it, in order);
   * undefined when no dump is under way. Bounded: past the link's queue size the link is closed.
   */
  backlog: Buffer[] | undefined;
  /** Bytes in {@link backlog}. */
  backlogBytes = 0;
  /** Set when a dump was asked for while one was running: it takes one more snapshot when done. */
  redump = false;
  /** Set when a local VNic said goodbye (`bye`): its record is removed at once when the link closes. */
  leaving = false;
  /**
   * Whether the other end wants load figures (`stats` deltas): a local VNic that sent `watch`, or a peer
   * VNet that has such VNics. Off by default: membership changes go to everyone, load figures only here.
   */
  wantsStats = false;
  /** Where this local VNic accepts direct links (its `direct` announcement; unix-attached VNics only). */
  directPath: string | undefined;

  constructor(opened: OpenedLink, link: FramedLink, dialled: boolean) {
    this.opened = opened;
    this.hello = opened.hello;
    this.id = opened.hello.nodeId;
    this.key = nodeKey(this.id);
    this.idBytes = nodeIdToBytes(this.id);
    this.link = link;
    this.dialled = dialled;
    this.isPeer = opened.hello.role === 'vnet';
    this.subject = opened.peer.subject;
    this.maxFrame = opened.hello.maxFrame;
    this.backlog = undefined;
    if (this.isPeer) this.routed.set(this.idBytes, true);
  }

  /** Whether the frame's source bytes (offset 16) are this connection's node id. */
  isSourceOf(frame: Buffer): boolean {
    return sameId(this.idBytes, frame, Offset.SOURCE);
  }
}
