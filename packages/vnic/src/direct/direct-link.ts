import type { Socket } from 'node:net';
import { FramedLink } from '@layer8/link';
import {
  controlBody,
  decodeMessage,
  encodeControl,
  Kind,
  type L8Error,
  l8error,
  type NodeId,
  nodeIdToBytes,
  Offset,
  PROTOCOL_VERSION,
} from '@layer8/protocol';
import { hasIdAt } from '../pending.ts';

/** Deadline of a direct link's handshake (the hello and its welcome), ms. */
export const DIRECT_HANDSHAKE_MS = 5000;

/** What a direct link needs from its VNic. */
export interface DirectEnds {
  /** This node. */
  readonly id: NodeId;
  /** Largest frame this node accepts. */
  readonly maxFrame: number;
  /** Send queue limit of the link, bytes. */
  readonly maxQueuedBytes: number;
  /** A data frame or an answer from the other end, checked (source, destination, kind), and the link it came on. */
  readonly onFrame: (frame: Buffer, link: FramedLink) => void;
}

/** Counters of the same-host short cut at one VNic. */
export interface DirectCounters {
  /** Direct links opened (dialled or accepted). */
  opened: number;
  /** Introductions the VNet refused, dials that failed and handshakes that did not prove the other end. */
  refused: number;
  /** Frames on a direct link that named another source or destination, or a kind it may not carry (the link is closed). */
  spoofed: number;
}

/** The handshake messages of a direct link (CONTROL frames, the only ones it carries). */
type Hello = { t: 'hello'; node: NodeId; token: string; maxFrame: number };
type Welcome = { t: 'welcome'; node: NodeId; reply: string; maxFrame: number };

/**
 * One direct link between two VNics of one host (the same-host short cut): a {@link FramedLink} over a
 * unix socket whose other end proved, with a token the VNet handed out, that it is `peer`. After the
 * handshake it carries data frames and answers only; every frame must come from `peer` and be addressed
 * to this node, or the link is closed (`spoofed`).
 */
export class DirectLink {
  readonly peer: NodeId;
  readonly link: FramedLink;
  /** Largest frame the other end accepts. */
  readonly peerMaxFrame: number;
  /** Told once when the established link closes (with the error, if by a fault). */
  onClosed: ((error: L8Error | undefined) => void) | undefined;

  constructor(peer: NodeId, link: FramedLink, peerMaxFrame: number) {
    this.peer = peer;
    this.link = link;
    this.peerMaxFrame = peerMaxFrame;
  }
}

/**
 * Whether a frame on a direct link from `peer` may be delivered to `self`: a request or an answer (one-way
 * messages and multicasts always cross the VNet, for their order, so an honest peer never sends them here).
 */
export function fitsDirect(frame: Buffer, peerBytes: Uint8Array, selfBytes: Uint8Array): boolean {
  if (frame[Offset.VERSION] !== PROTOCOL_VERSION || frame.length < Offset.SERVICE) return false;
  if (!isDirectKind(frame[Offset.KIND] as number)) return false;
  return hasIdAt(frame, Offset.SOURCE, peerBytes) && hasIdAt(frame, Offset.DESTINATION, selfBytes);
}

/** Whether a direct link may carry frames of `kind`. */
function isDirectKind(kind: number): boolean {
  return kind === Kind.REQUEST || kind === Kind.REPLY || kind === Kind.FAIL || kind === Kind.PROGRESS;
}

/** Reads the first CONTROL frame of a handshake, or undefined. */
function handshakeBody(frame: Buffer): Record<string, unknown> | undefined {
  try {
    if (frame[Offset.KIND] !== Kind.CONTROL) return undefined;
    return controlBody(decodeMessage(frame)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Runs one side of a handshake on `socket`: sends `first` (when given), waits for the other end's first
 * frame and hands it to `check`, which returns the other end's id and frame limit (and may send an answer)
 * or throws. Resolves with the established link. @throws L8_ERR_IDENTITY, L8_ERR_TIMEOUT, L8_ERR_CONNECT
 */
export function handshake(
  socket: Socket,
  ends: DirectEnds,
  first: Buffer | undefined,
  check: (body: Record<string, unknown> | undefined, link: FramedLink) => { peer: NodeId; maxFrame: number },
): Promise<DirectLink> {
  return new Promise((resolve, reject) => {
    let direct: DirectLink | undefined;
    const fail = (error: L8Error): void => {
      clearTimeout(timer);
      link.close(error);
      reject(error);
    };
    const timer = setTimeout(
      () => fail(l8error('L8_ERR_TIMEOUT', 'direct link handshake timed out')),
      DIRECT_HANDSHAKE_MS,
    );
    const selfBytes = nodeIdToBytes(ends.id);
    let peerBytes: Uint8Array | undefined;
    const link = new FramedLink(socket, {
      maxFrame: ends.maxFrame,
      maxQueuedBytes: ends.maxQueuedBytes,
      onFrame: (frame) => {
        if (direct !== undefined) return deliver(frame);
        try {
          const { peer, maxFrame } = check(handshakeBody(frame), link);
          peerBytes = nodeIdToBytes(peer);
          direct = new DirectLink(peer, link, maxFrame);
          clearTimeout(timer);
          resolve(direct);
        } catch (err) {
          fail(err as L8Error);
        }
      },
      onClose: (e) => {
        clearTimeout(timer);
        if (direct === undefined) reject(e ?? l8error('L8_ERR_CONNECT', 'direct link closed in its handshake'));
        else direct.onClosed?.(e);
      },
    });
    const deliver = (frame: Buffer): void => {
      if (fitsDirect(frame, peerBytes as Uint8Array, selfBytes)) ends.onFrame(frame, link);
      else link.close(l8error('L8_ERR_IDENTITY', 'a direct link carried a frame it may not'));
    };
    link.start();
    if (first !== undefined) link.send(first);
  });
}

/** The dialler's first frame. */
export function helloFrame(ends: DirectEnds, token: string): Buffer {
  const body: Hello = { t: 'hello', node: ends.id, token, maxFrame: ends.maxFrame };
  return encodeControl(ends.id, body);
}

/** The listener's answer. */
export function welcomeFrame(ends: DirectEnds, reply: string): Buffer {
  const body: Welcome = { t: 'welcome', node: ends.id, reply, maxFrame: ends.maxFrame };
  return encodeControl(ends.id, body);
}

/** A frame limit from a handshake body, within bounds. @throws L8_ERR_IDENTITY */
export function maxFrameOf(body: Record<string, unknown>): number {
  const m = body.maxFrame;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1024 || m > 2 ** 31) {
    throw l8error('L8_ERR_IDENTITY', 'direct link handshake without a valid frame limit');
  }
  return m;
}
