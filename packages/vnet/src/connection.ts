import type { NodeId } from '@layer8/protocol';
import { nodeIdToBytes, nodeKey, Offset } from '@layer8/protocol';
import type { FramedLink, NodeHello, OpenedLink } from '@layer8/security';
import { NodeIndex, sameId } from './node-index.ts';

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
  /** Hop count exhausted. */
  ttl: number;
  /** Links closed because a frame was over the maximum size. */
  tooLarge: number;
  /** A receiver's queue was full. */
  backpressure: number;
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

  constructor(opened: OpenedLink, link: FramedLink, dialled: boolean) {
    this.opened = opened;
    this.hello = opened.hello;
    this.id = opened.hello.nodeId;
    this.key = nodeKey(this.id);
    this.idBytes = nodeIdToBytes(this.id);
    this.link = link;
    this.dialled = dialled;
    this.isPeer = opened.hello.role === 'vnet';
    if (this.isPeer) this.routed.set(this.idBytes, true);
  }

  /** Whether the frame's source bytes (offset 16) are this connection's node id. */
  isSourceOf(frame: Buffer): boolean {
    return sameId(this.idBytes, frame, Offset.SOURCE);
  }
}
