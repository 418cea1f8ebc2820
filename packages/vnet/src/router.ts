import {
  encodeMessage,
  hasNoDestination,
  Kind,
  type L8Error,
  l8error,
  Mode,
  type NodeId,
  Offset,
  PROTOCOL_VERSION,
  readNodeId,
  ServiceKeyReader,
} from '@layer8/protocol';
import { type Connection, type DropCounters, RECEIVER_HIGH_WATER } from './connection.ts';
import type { NodeIndex } from './node-index.ts';
import type { PeerFlow } from './peer-flow.ts';
import type { ServiceRoutes } from './service-routes.ts';

/** What the router needs from its VNet. */
export interface RouterContext {
  readonly id: NodeId;
  /** Local VNics by node id. */
  readonly locals: NodeIndex<Connection>;
  /** Remote nodes by node id → the peer VNet that routes them. */
  readonly routes: NodeIndex<Connection>;
  readonly services: ServiceRoutes;
  /** Whether the three tables above are behind a membership change. */
  readonly tables: { readonly stale: boolean };
  /** Rebuilds the tables when stale. */
  refreshRoutes(): void;
  readonly drops: DropCounters;
  /** Flow control with peer VNets, per destination node. */
  readonly flow: PeerFlow;
  /** Handles a CONTROL frame addressed to the VNet itself. */
  onControl(from: Connection, frame: Buffer): void;
}

const MAX_KIND = Kind.PROGRESS;

/**
 * The data plane of a VNet (DESIGN.md §3-§4): reads only the header fields it routes on and forwards
 * the frame's original bytes. Every failure is counted; a failed REQUEST is answered with a FAIL frame.
 */
export class Router {
  readonly #ctx: RouterContext;
  readonly #serviceKeys = new ServiceKeyReader();

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
  }

  /** Entry point for every frame a connection delivers. Never throws. */
  handle(from: Connection, frame: Buffer): void {
    const kind = frame[Offset.KIND] as number;
    if (
      frame[Offset.VERSION] !== PROTOCOL_VERSION ||
      kind < 1 ||
      kind > MAX_KIND ||
      (frame[Offset.MODE] as number) > Mode.LEADER ||
      Offset.SERVICE + (frame[Offset.SERVICE_LEN] as number) > frame.length
    ) {
      this.#ctx.drops.malformed++;
      return;
    }
    if (kind === Kind.CONTROL) {
      this.#ctx.onControl(from, frame);
      return;
    }
    if (this.#ctx.tables.stale) this.#ctx.refreshRoutes();
    if (from.isPeer ? !from.routed.has(frame, Offset.SOURCE) : !from.isSourceOf(frame)) {
      this.#ctx.drops.spoofed++;
      return;
    }
    if (from.isPeer && !this.#arrivedHop(frame, from)) return;
    if (hasNoDestination(frame)) this.#byService(from, frame);
    else this.#unicast(from, frame);
  }

  #unicast(from: Connection, frame: Buffer): void {
    const local = this.#ctx.locals.get(frame, Offset.DESTINATION);
    if (local !== undefined) return this.#deliver(local, frame, from);
    const peer = from.isPeer ? undefined : this.#ctx.routes.get(frame, Offset.DESTINATION);
    if (peer !== undefined) return this.#toPeer(peer, frame, from);
    this.#ctx.drops.unreachable++;
    this.#refuse(from, frame, 'L8_ERR_UNREACHABLE', `node ${readNodeId(frame, Offset.DESTINATION)} is unreachable`);
  }

  #byService(from: Connection, frame: Buffer): void {
    const key = this.#serviceKeys.keyOf(frame);
    const route = key === undefined ? undefined : this.#ctx.services.get(key);
    const mode = frame[Offset.MODE] as number;
    if (mode === Mode.MULTICAST) return this.#multicast(from, frame, route);
    if (mode === Mode.LEADER) {
      this.#ctx.drops.noLeader++;
      return this.#refuse(from, frame, 'L8_ERR_NO_LEADER', 'leader routing needs the election service');
    }
    const target = route === undefined ? undefined : this.#pick(route, from.isPeer);
    if (target === undefined) {
      this.#ctx.drops.noService++;
      return this.#refuse(from, frame, 'L8_ERR_NO_SERVICE', `no instance of ${key ?? '?'}`);
    }
    if (target.isPeer) this.#toPeer(target, frame, from);
    else this.#deliver(target, frame, from);
  }

  #multicast(from: Connection, frame: Buffer, route: ReturnType<ServiceRoutes['get']>): void {
    if (route === undefined) return;
    for (const local of route.locals) if (local !== from) this.#deliver(local, frame, undefined);
    if (from.isPeer) return;
    if (route.peers.length > 0 && this.#hopLeft(frame, undefined)) {
      for (const peer of route.peers) this.#deliver(peer, frame, undefined);
    }
    for (const to of route.locals)
      if (to.link.isBacklogged(RECEIVER_HIGH_WATER)) return from.link.pauseUntilDrained(to.link);
  }

  /** Round-robin over local instances first (proximity), then over peers that host it. */
  #pick(route: NonNullable<ReturnType<ServiceRoutes['get']>>, fromPeer: boolean): Connection | undefined {
    const n = route.locals.length;
    if (n > 0) return route.locals[route.rr++ % n];
    if (fromPeer || route.peers.length === 0) return undefined;
    return route.peers[route.rr++ % route.peers.length];
  }

  #toPeer(peer: Connection, frame: Buffer, from: Connection): void {
    if (this.#hopLeft(frame, from)) this.#deliver(peer, frame, from);
  }

  /** Whether the frame may cross one more VNet-to-VNet link (hop count above zero). */
  #hopLeft(frame: Buffer, from: Connection | undefined): boolean {
    if ((frame[Offset.HOPS] as number) > 0) return true;
    this.#ctx.drops.ttl++;
    if (from !== undefined) this.#refuse(from, frame, 'L8_ERR_TTL', 'hop count exhausted');
    return false;
  }

  /**
   * Takes the hop a frame from a peer VNet just made (in place, so local receivers see it); a request
   * that arrives with none left is answered `L8_ERR_TTL` so its sender does not wait for its deadline.
   */
  #arrivedHop(frame: Buffer, from: Connection): boolean {
    const hops = frame[Offset.HOPS] as number;
    if (hops > 0) {
      frame[Offset.HOPS] = hops - 1;
      return true;
    }
    this.#ctx.drops.ttl++;
    this.#refuse(from, frame, 'L8_ERR_TTL', 'hop count exhausted');
    return false;
  }

  #deliver(to: Connection, frame: Buffer, from: Connection | undefined): void {
    if (frame.length > to.maxFrame) {
      this.#ctx.drops.overMaxFrame++;
      if (from !== undefined)
        this.#refuse(from, frame, 'L8_ERR_FRAME_TOO_LARGE', `the receiver accepts frames up to ${to.maxFrame} bytes`);
      return;
    }
    if (to.link.tryForward(frame)) {
      to.forwarded++;
      if (from !== undefined) this.#paced(from, to, frame);
      return;
    }
    this.#ctx.drops.backpressure++;
    if (from?.isPeer === true) this.#ctx.drops.peerBackpressure++;
    if (from === undefined) return;
    if (to.link.closed) this.#refuse(from, frame, 'L8_ERR_UNREACHABLE', 'the link to the destination closed');
    else this.#refuse(from, frame, 'L8_ERR_BACKPRESSURE', 'the destination link is full');
  }

  /**
   * Back-pressure after `from` sent `frame` to `to`: a local sender waits for a slow receiver, or for a
   * node a peer asked to hold; a peer VNet is never paused (it carries everyone's traffic): it is told
   * to hold the frames for a backlogged local receiver instead (peer-flow.ts).
   */
  #paced(from: Connection, to: Connection, frame: Buffer): void {
    if (from.isPeer) {
      if (!to.isPeer) this.#ctx.flow.delivered(from, to);
    } else if (to.link.isBacklogged(RECEIVER_HIGH_WATER)) from.link.pauseUntilDrained(to.link);
    else if (to.isPeer) this.#ctx.flow.hold(from, frame);
  }

  /** Answers a REQUEST that cannot be delivered; other kinds are only counted. */
  #refuse(from: Connection, frame: Buffer, code: L8Error['code'], message: string): void {
    if (frame[Offset.KIND] !== Kind.REQUEST) return;
    const fail = encodeMessage({
      kind: Kind.FAIL,
      source: this.#ctx.id,
      origin: this.#ctx.id,
      destination: readNodeId(frame, Offset.SOURCE),
      sequence: frame.readUInt32BE(Offset.SEQUENCE),
      error: l8error(code, message).toWire(),
    });
    try {
      from.link.send(fail);
    } catch {
      this.#ctx.drops.backpressure++;
    }
  }
}
