import type { Socket } from 'node:net';
import { L8Error, l8error, toL8Error } from '@layer8/protocol';
import { ProofChannel, TLS_HANDSHAKE_RECORD } from '../link/proof-channel.ts';
import { mismatchError, refusedMismatch } from '../link/provider-mismatch.ts';

/**
 * Waits for the first bytes of an accepted TCP socket and puts them back for the TLS handshake when they
 * open one (a TLS record starts with 0x16). Otherwise the dialler is no TLS client: a node of a proof-based
 * provider (a dev-provider VNic dialling a TLS VNet) sends a Layer8 challenge frame, and is answered in
 * that language, a fail frame with `L8_ERR_AUTH` saying that this node uses the TLS provider, so it stops
 * at once instead of retrying. Other bytes close the socket.
 * @throws L8_ERR_AUTH (a provider mismatch), L8_ERR_HANDSHAKE (not TLS, a close, the deadline),
 *   L8_ERR_VERSION or L8_ERR_MALFORMED_FRAME (a Layer8 frame this side cannot read)
 */
export async function expectTlsClient(socket: Socket, signal: AbortSignal | undefined): Promise<void> {
  const head = await firstChunk(socket, signal);
  if (head[0] === TLS_HANDSHAKE_RECORD) {
    socket.unshift(head);
    return;
  }
  throw await refuseNonTls(socket, head, signal);
}

/** The first chunk the peer sends; the socket is left paused. */
function firstChunk(socket: Socket, signal: AbortSignal | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: L8Error | undefined, chunk?: Buffer): void => {
      socket.pause();
      socket.off('data', onData).off('close', onClose).off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (chunk !== undefined) return resolve(chunk);
      socket.on('error', () => undefined).destroy();
      reject(err);
    };
    const onData = (chunk: Buffer): void => done(undefined, chunk);
    const onClose = (): void => done(l8error('L8_ERR_HANDSHAKE', 'peer closed the link during the TLS handshake'));
    const onError = (e: Error): void =>
      done(l8error('L8_ERR_HANDSHAKE', `link error during the TLS handshake: ${e.message}`, { cause: e }));
    const onAbort = (): void => done(l8error('L8_ERR_HANDSHAKE', 'handshake deadline passed'));
    socket.on('data', onData).once('close', onClose).once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
}

/**
 * Reads the dialler's first frame as a Layer8 handshake. A challenge gets the mismatch refusal (flushed
 * before the caller destroys the socket); anything else closes the socket. Returns the error to throw.
 */
async function refuseNonTls(socket: Socket, head: Buffer, signal: AbortSignal | undefined): Promise<L8Error> {
  const channel = new ProofChannel(socket, signal, head);
  const first = await channel.next().catch((err: unknown) => toL8Error(err, 'L8_ERR_HANDSHAKE'));
  channel.release();
  if (!(first instanceof L8Error) && first.t === 'challenge') {
    await channel.refuseFlushed(mismatchError({ peerProvider: 'tls' }));
    return refusedMismatch(first.provider, 'tls');
  }
  socket.on('error', () => undefined).destroy();
  return notTls(first);
}

/** The refusal of a dialler that neither speaks TLS nor sent a challenge: what it sent, or why it was unreadable. */
function notTls(first: Record<string, unknown> | L8Error): L8Error {
  if (!(first instanceof L8Error)) {
    return l8error('L8_ERR_HANDSHAKE', 'the peer does not speak TLS: its first frame is no challenge');
  }
  if (first.code !== 'L8_ERR_HANDSHAKE') return first;
  return l8error('L8_ERR_HANDSHAKE', `the peer does not speak TLS: ${first.message}`, { cause: first });
}
