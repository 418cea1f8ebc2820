import { type NodeHello, parseHello } from '@layer8/link';
import { l8error, toL8Error } from '@layer8/protocol';
import type { PeerIdentity, SecuredLink } from '../provider.ts';
import { ProofChannel } from './proof-channel.ts';

/** A secured link after the overlay hello: ready for a {@link FramedLink}. */
export interface HelloResult {
  /** What the peer said about itself. */
  readonly hello: NodeHello;
  /** Bytes read past the hello. */
  readonly head: Buffer;
}

/**
 * Checks a peer's hello against what the provider proved (role and bound node id) and, on the accepting
 * side, against the acceptor's own rules (node id pinned to another certificate, limits). Throws the
 * coded error the link is refused with.
 */
export type HelloCheck = (hello: NodeHello, peer: PeerIdentity) => void;

/**
 * Exchanges {@link NodeHello}s on a secured link (docs/protocol.md §6.2). The dialling side sends first;
 * the accepting side reads the peer's hello, checks it ({@link checkHelloIdentity}, then `check`) and only
 * then answers with its own, so a refused dialler receives the refusal with its code (a fail frame)
 * instead of a hello followed by a dropped link. A version mismatch or a malformed hello is refused too.
 */
export async function exchangeHello(
  link: SecuredLink,
  own: NodeHello,
  signal?: AbortSignal,
  accepting?: { readonly check?: HelloCheck },
): Promise<HelloResult> {
  const channel = new ProofChannel(link.stream, signal, link.head);
  let refusable = false;
  try {
    if (accepting === undefined) channel.send({ t: 'hello', ...own });
    const hello = parseHello(await channel.next());
    refusable = true;
    checkHelloIdentity(hello, link.peer, own);
    accepting?.check?.(hello, link.peer);
    if (accepting !== undefined) channel.send({ t: 'hello', ...own });
    return { hello, head: channel.release() };
  } catch (err) {
    const e = toL8Error(err, 'L8_ERR_HANDSHAKE');
    channel.release();
    if (e.code === 'L8_ERR_VERSION' || (refusable && accepting !== undefined)) channel.refuse(e);
    else link.stream.destroy();
    throw e;
  }
}

/**
 * The identity rules every link enforces on both ends: the role comes from the credential, not the hello
 * (a VNic certificate cannot claim `vnet`); a proof that bound a node id must see the same id in the hello;
 * a link to oneself (a relayed or reflected proof) is refused.
 * @throws L8_ERR_IDENTITY
 */
export function checkHelloIdentity(hello: NodeHello, peer: PeerIdentity, own: NodeHello): void {
  if (hello.role === 'vnet' && peer.role === 'vnic') {
    throw l8error('L8_ERR_IDENTITY', `${peer.subject} holds a VNic certificate and cannot join as a VNet`);
  }
  if (hello.role === 'vnic' && peer.role === 'vnet') {
    throw l8error('L8_ERR_IDENTITY', `${peer.subject} holds a VNet certificate and cannot join as a VNic`);
  }
  if (peer.nodeId !== undefined && peer.nodeId !== hello.nodeId) {
    throw l8error('L8_ERR_IDENTITY', `the proof bound node ${peer.nodeId} but the hello claims ${hello.nodeId}`);
  }
  if (hello.nodeId === own.nodeId) throw l8error('L8_ERR_IDENTITY', "the peer claims this node's own id");
}
