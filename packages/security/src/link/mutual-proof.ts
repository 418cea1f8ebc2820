import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { type L8Error, l8error, toL8Error } from '@layer8/protocol';
import type { PeerIdentity, SecuredLink } from '../provider.ts';
import { ProofChannel } from './proof-channel.ts';

/** One side's half of a challenge-response membership proof. */
export interface ProofScheme {
  /** Extra fields for this side's challenge (a certificate chain, a provider name). */
  challengeFields(): Record<string, unknown>;
  /** Proves knowledge of the secret over the transcript. */
  prove(transcript: string): string | Promise<string>;
  /**
   * Checks the peer's challenge fields and proof over the transcript; returns the proven identity.
   * @throws L8_ERR_AUTH (or a more precise security code) when the proof fails.
   */
  verify(challenge: Record<string, unknown>, transcript: string, proof: string): PeerIdentity | Promise<PeerIdentity>;
}

/**
 * Runs a symmetric challenge-response proof (docs/protocol.md §6): both sides send a challenge with a
 * fresh 32-byte nonce, then a proof over `role|peerNonce|ownNonce`, and each verifies the other before
 * anything else is sent. Each side then sends an `accept` frame and resolves only on the peer's, so
 * neither side believes it is in when the other refused it. A failure is sent to the peer as a fail
 * frame and the stream is closed.
 */
export async function runMutualProof(
  stream: Duplex,
  isServer: boolean,
  scheme: ProofScheme,
  signal?: AbortSignal,
): Promise<SecuredLink> {
  const channel = new ProofChannel(stream, signal);
  try {
    const ownNonce = randomBytes(32).toString('hex');
    channel.send({ t: 'challenge', nonce: ownNonce, ...scheme.challengeFields() });
    const challenge = await channel.next();
    const peerNonce = nonceOf(challenge);
    const role = isServer ? 'server' : 'client';
    channel.send({ t: 'proof', proof: await scheme.prove(`${role}|${peerNonce}|${ownNonce}`) });
    const answer = await channel.next();
    const peerRole = isServer ? 'client' : 'server';
    const peer = await scheme.verify(challenge, `${peerRole}|${ownNonce}|${peerNonce}`, proofOf(answer));
    channel.send({ t: 'accept' });
    if ((await channel.next()).t !== 'accept') throw l8error('L8_ERR_HANDSHAKE', 'peer sent no acceptance');
    return { stream, peer, head: channel.release() };
  } catch (err) {
    const e: L8Error = toL8Error(err, 'L8_ERR_AUTH');
    channel.release();
    if (e.code === 'L8_ERR_HANDSHAKE') stream.destroy();
    else channel.refuse(e);
    throw e;
  }
}

function nonceOf(challenge: Record<string, unknown>): string {
  const n = challenge.nonce;
  if (challenge.t !== 'challenge' || typeof n !== 'string' || !/^[0-9a-f]{64}$/.test(n)) {
    throw l8error('L8_ERR_HANDSHAKE', 'peer sent no valid challenge');
  }
  return n;
}

function proofOf(answer: Record<string, unknown>): string {
  if (answer.t !== 'proof' || typeof answer.proof !== 'string') throw l8error('L8_ERR_HANDSHAKE', 'peer sent no proof');
  return answer.proof;
}
