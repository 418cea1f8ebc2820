import type { Socket } from 'node:net';
import { connect, createServer, type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { type L8Error, l8error, toL8Error } from '@layer8/protocol';
import { ProofChannel } from '../link/proof-channel.ts';
import type { SecuredLink } from '../provider.ts';
import { authorizationFailure, checkPeerCertificate, notTlsPeer, type TrustAnchor, tlsFailure } from './peer-check.ts';
import { expectTlsClient } from './tls-sniff.ts';

/** TLS settings every Layer8 link uses: TLS 1.3 only. */
export const TLS_VERSIONS = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/**
 * Upgrades a connected socket to TLS 1.3 as the client, with this node's certificate, trusting only the
 * overlay CA. Host names are not checked (`checkServerIdentity` returns nothing): members are
 * authenticated by the overlay CA, not by DNS, and the CN is reported as the peer's identity instead.
 */
export async function tlsClient(
  socket: Socket,
  context: SecureContext,
  trust: TrustAnchor,
  signal?: AbortSignal,
): Promise<SecuredLink> {
  const tlsSocket = connect({
    socket,
    secureContext: context,
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
    ...TLS_VERSIONS,
  });
  try {
    await settle(tlsSocket, 'secureConnect', signal);
  } catch (err) {
    throw notTlsPeer(err as L8Error);
  }
  return confirm(tlsSocket, trust, signal);
}

/** The PEM material the server side of a link is built from. */
export interface TlsServerCredentials {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Upgrades an accepted socket to TLS 1.3 as the server, requiring a client certificate. A dialler that
 * opens with anything but TLS is refused first ({@link expectTlsClient}: a dev-provider node learns that
 * this one uses the TLS provider, with `L8_ERR_AUTH`). The socket is
 * handed to a (never listening) `tls.Server` rather than wrapped in a bare `TLSSocket`: only the server
 * path runs OpenSSL's verdict on the client certificate into `authorized` / `authorizationError` (a bare
 * server-side TLSSocket ignores `rejectUnauthorized` and leaves `authorized` false). The server does not
 * reject by itself, so {@link confirm} can send the refusal with its code.
 */
export async function tlsServer(
  socket: Socket,
  credentials: TlsServerCredentials,
  trust: TrustAnchor,
  signal?: AbortSignal,
): Promise<SecuredLink> {
  await expectTlsClient(socket, signal);
  const tlsSocket = await serverHandshake(socket, { ...credentials, ...SERVER_OPTIONS }, signal);
  return confirm(tlsSocket, trust, signal);
}

const SERVER_OPTIONS: TlsOptions = { requestCert: true, rejectUnauthorized: false, ...TLS_VERSIONS };

/**
 * Runs the server handshake on `socket` through a one-shot `tls.Server`; an error, a close or an abort
 * first rejects with a coded error and destroys the socket.
 */
function serverHandshake(socket: Socket, options: TlsOptions, signal: AbortSignal | undefined): Promise<TLSSocket> {
  const server = createServer(options);
  return new Promise((resolve, reject) => {
    const done = (err?: L8Error, tlsSocket?: TLSSocket): void => {
      server.removeAllListeners();
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined && tlsSocket !== undefined) return resolve(tlsSocket);
      socket.on('error', () => undefined).destroy();
      reject(err);
    };
    const onClose = (): void => done(l8error('L8_ERR_HANDSHAKE', 'peer closed the link during the TLS handshake'));
    const onAbort = (): void => done(l8error('L8_ERR_HANDSHAKE', 'handshake deadline passed'));
    server.once('secureConnection', (t: TLSSocket) => done(undefined, t));
    server.once('tlsClientError', (e: Error) => done(tlsFailure(e)));
    socket.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    server.emit('connection', socket);
  });
}

/**
 * Waits for `event` (the TLS handshake finished); an error, a close or an abort first rejects with a
 * coded error and destroys the socket.
 */
function settle(tlsSocket: TLSSocket, event: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: L8Error): void => {
      tlsSocket.off(event, onOk).off('error', onError).off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) return resolve();
      destroy(tlsSocket);
      reject(err);
    };
    const onOk = (): void => done();
    const onError = (e: Error): void => done(tlsFailure(e));
    const onClose = (): void => done(l8error('L8_ERR_HANDSHAKE', 'peer closed the link during the TLS handshake'));
    const onAbort = (): void => done(l8error('L8_ERR_HANDSHAKE', 'handshake deadline passed'));
    tlsSocket.once(event, onOk).on('error', onError).once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
}

/**
 * Checks the peer's certificate ourselves (overlay CA, validity, revocation), then both sides exchange an
 * `accept` control frame or a fail frame. TLS 1.3 finishes the client's handshake before the server has
 * judged the client certificate, so without this step a refused client would only see the link drop
 * later; with it, both sides learn the outcome, with its precise code, before the link is handed on.
 */
async function confirm(
  tlsSocket: TLSSocket,
  trust: TrustAnchor,
  signal: AbortSignal | undefined,
): Promise<SecuredLink> {
  const channel = new ProofChannel(tlsSocket, signal);
  let checked = false;
  try {
    // Both sides: OpenSSL's verdict (chain, signatures, key usage, validity) must be positive, then ours.
    const cert = tlsSocket.getPeerX509Certificate();
    if (tlsSocket.authorized !== true) throw authorizationFailure(tlsSocket.authorizationError, cert);
    if (cert === undefined) throw l8error('L8_ERR_AUTH', 'the peer presented no certificate');
    const peer = checkPeerCertificate(cert, trust);
    checked = true;
    channel.send({ t: 'accept', provider: 'tls' });
    const reply = await channel.next();
    if (reply.t !== 'accept') throw l8error('L8_ERR_HANDSHAKE', 'peer sent no TLS acceptance');
    return { stream: tlsSocket, peer, head: channel.release() };
  } catch (err) {
    channel.release();
    const e = causeOf(toL8Error(err, 'L8_ERR_AUTH'));
    if (checked) destroy(tlsSocket);
    else await refuseAndClose(channel, tlsSocket, e);
    throw e;
  }
}

/** A TLS alert that arrived after the handshake (the server refusing our certificate) keeps its meaning. */
function causeOf(e: L8Error): L8Error {
  const cause = e.cause as (Error & { code?: string }) | undefined;
  return e.code === 'L8_ERR_HANDSHAKE' && cause?.code !== undefined ? tlsFailure(cause) : e;
}

/**
 * Sends the refusal and resolves once it is flushed (or the socket closed, or 1 s passed); the channel then
 * closes the socket. Waiting matters: a caller that destroys the raw socket as soon as we reject (acceptLink
 * does) would otherwise drop the encrypted fail frame, and the peer would see a bare close, not the code.
 */
function refuseAndClose(channel: ProofChannel, tlsSocket: TLSSocket, e: L8Error): Promise<void> {
  tlsSocket.on('error', () => tlsSocket.destroy());
  return channel.refuseFlushed(e);
}

function destroy(tlsSocket: TLSSocket): void {
  tlsSocket.on('error', () => undefined);
  tlsSocket.destroy();
}
