import { connect, type Socket } from 'node:net';
import { formatAddress, type LinkAddress, type LinkTransport, type NodeHello } from '@layer8/link';
import { DEFAULT_HANDSHAKE_MS, type L8Error, l8error, toL8Error } from '@layer8/protocol';
import type { PeerIdentity, SecurityProvider } from '../provider.ts';
import { exchangeHello, type HelloCheck } from './hello.ts';
import { namePeer } from './provider-mismatch.ts';

/** A link that passed the membership proof and the hello: ready for a FramedLink. */
export interface OpenedLink {
  readonly stream: import('node:stream').Duplex;
  readonly peer: PeerIdentity;
  readonly hello: NodeHello;
  readonly head: Buffer;
  readonly transport: LinkTransport;
}

/** Default deadline of the whole link setup (proof and hello), ms (shared with the VNet and VNic). */
export { DEFAULT_HANDSHAKE_MS };

function connectSocket(address: LinkAddress, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      'path' in address ? connect({ path: address.path }) : connect({ host: address.host, port: address.port });
    const fail = (e: Error): void => {
      socket.destroy();
      reject(l8error('L8_ERR_CONNECT', `cannot connect to ${formatAddress(address)}: ${e.message}`, { cause: e }));
    };
    const onAbort = (): void => fail(new Error('connect deadline passed'));
    socket.once('error', fail);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      socket.off('error', fail);
      signal.removeEventListener('abort', onAbort);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/**
 * Dials `address`, runs the provider's membership proof and the overlay hello within `timeoutMs`.
 * @throws L8_ERR_CONNECT, L8_ERR_AUTH (and other security codes; a VNet of another provider is named
 *   with the fix, such as `the VNet at HOST:PORT uses the TLS provider: pass --security …`),
 *   L8_ERR_VERSION, L8_ERR_HANDSHAKE
 */
export async function dialLink(
  provider: SecurityProvider,
  address: LinkAddress,
  own: NodeHello,
  timeoutMs = DEFAULT_HANDSHAKE_MS,
): Promise<OpenedLink> {
  const signal = AbortSignal.timeout(timeoutMs);
  const transport: LinkTransport = 'path' in address ? 'unix' : 'tcp';
  if (!('path' in address)) provider.checkAddress(address.host);
  const socket = await connectSocket(address, signal);
  const ctx =
    'path' in address
      ? { transport, signal, nodeId: own.nodeId }
      : { transport, signal, nodeId: own.nodeId, host: address.host };
  const secured = await provider.secureClient(socket, ctx).catch((err: unknown) => {
    // a VNet of another provider: say which VNet, so the fix (--security or --dev) is plain
    throw namePeer(toL8Error(err, 'L8_ERR_HANDSHAKE'), `the VNet at ${formatAddress(address)}`);
  });
  const { hello, head } = await exchangeHello(secured, own, signal);
  return { stream: secured.stream, peer: secured.peer, hello, head, transport };
}

/**
 * Runs the server side of link setup on an accepted socket. On failure the socket is destroyed and the
 * coded error returned through the rejection; nothing else is affected.
 */
export async function acceptLink(
  provider: SecurityProvider,
  socket: Socket,
  transport: LinkTransport,
  own: NodeHello,
  timeoutMs = DEFAULT_HANDSHAKE_MS,
  check?: HelloCheck,
): Promise<OpenedLink> {
  const signal = AbortSignal.timeout(timeoutMs);
  socket.setNoDelay?.(true);
  try {
    const secured = await provider.secureServer(socket, { transport, signal, nodeId: own.nodeId });
    const { hello, head } = await exchangeHello(secured, own, signal, check === undefined ? {} : { check });
    return { stream: secured.stream, peer: secured.peer, hello, head, transport };
  } catch (err) {
    socket.destroy();
    throw toL8Error(err, 'L8_ERR_HANDSHAKE') as L8Error;
  }
}
