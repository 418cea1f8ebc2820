import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { isNodeId, type L8Error, l8error, type NodeId, toL8Error } from '@layer8/protocol';
import type { LinkContext, PeerIdentity, SecuredLink } from '../provider.ts';
import { ProofChannel } from './proof-channel.ts';
import { mismatchError, providerName, refusedMismatch } from './provider-mismatch.ts';

/** One side's half of a challenge-response membership proof. */
export interface ProofScheme {
  /** Extra fields for this side's challenge (a certificate chain, a provider name). */
  challengeFields(): Record<string, unknown>;
  /** Proves knowledge of the secret over the transcript (the scheme adds its own versioned prefix). */
  prove(transcript: string): string | Promise<string>;
  /**
   * Checks the peer's challenge fields and proof over the transcript; returns the proven identity
   * ({@link runMutualProof} adds the bound node id).
   * @throws L8_ERR_AUTH (or a more precise security code) when the proof fails.
   */
  verify(challenge: Record<string, unknown>, transcript: string, proof: string): PeerIdentity | Promise<PeerIdentity>;
}

/** Stands for a side that gave no node id (a provider used outside dialLink/acceptLink). */
const NO_ID = '-';

/**
 * The string a side signs (docs/protocol.md §6): who signs it (`client` or `server`), then both node ids
 * and both nonces in a fixed order, client first. Binding the ids and the direction means a proof made
 * for one connection is worthless in any other: relayed between two links it names the wrong ends, and
 * reflected back at its maker it names that node as its own peer.
 */
export function proofTranscript(
  signer: 'client' | 'server',
  ids: { readonly client?: NodeId; readonly server?: NodeId },
  nonces: { readonly client: string; readonly server: string },
): string {
  return `${signer}|${ids.client ?? NO_ID}|${ids.server ?? NO_ID}|${nonces.client}|${nonces.server}`;
}

/**
 * Runs a symmetric challenge-response proof (docs/protocol.md §6): both sides send a challenge with a
 * fresh 32-byte nonce and their node id (`ctx.nodeId`), then a proof over {@link proofTranscript}, and
 * each verifies the other before anything else is sent. A side that has an id requires one from the
 * peer, and a peer claiming this side's own id is refused with `L8_ERR_IDENTITY` before any proof is
 * made. Each side then sends an `accept` frame and resolves only on the peer's, so neither side believes
 * it is in when the other refused it. A failure is sent to the peer as a fail frame and the stream is
 * closed. The proven peer carries the peer's id as `nodeId`.
 */
export async function runMutualProof(
  stream: Duplex,
  isServer: boolean,
  scheme: ProofScheme,
  ctx: Pick<LinkContext, 'signal' | 'nodeId'> = {},
): Promise<SecuredLink> {
  const channel = new ProofChannel(stream, ctx.signal);
  try {
    const own: Side = { nonce: randomBytes(32).toString('hex'), ...(ctx.nodeId ? { id: ctx.nodeId } : {}) };
    const fields = scheme.challengeFields();
    channel.send({ ...fields, t: 'challenge', nonce: own.nonce, nodeId: own.id });
    const challenge = await channel.next();
    checkProvider(fields.provider, challenge.provider, isServer);
    const peer = parseChallenge(challenge, own.id);
    const t = transcripts(isServer, own, peer);
    channel.send({ t: 'proof', proof: await scheme.prove(t.own) });
    const proven = await scheme.verify(challenge, t.peer, proofOf(await channel.next()));
    channel.send({ t: 'accept' });
    if ((await channel.next()).t !== 'accept') throw l8error('L8_ERR_HANDSHAKE', 'peer sent no acceptance');
    return { stream, peer: peer.id ? { ...proven, nodeId: peer.id } : proven, head: channel.release() };
  } catch (err) {
    const e: L8Error = toL8Error(err, 'L8_ERR_AUTH');
    channel.release();
    if (e.code === 'L8_ERR_HANDSHAKE') stream.destroy();
    else channel.refuse(e);
    throw e;
  }
}

/**
 * Refuses a peer whose challenge names another provider before anything is proven: a passphrase proof
 * checked against a certificate proof can only fail, and the text should say why (`L8_ERR_AUTH`).
 */
function checkProvider(own: unknown, peer: unknown, isServer: boolean): void {
  if (typeof own !== 'string' || peer === undefined || peer === own) return;
  if (isServer) throw refusedMismatch(peer, own);
  throw mismatchError({ peerProvider: providerName(peer) });
}

/** One side's half of the challenge: its nonce and, when it has one, its node id. */
interface Side {
  readonly nonce: string;
  readonly id?: NodeId;
}

/** What this side signs and what it expects the peer to have signed. */
function transcripts(isServer: boolean, own: Side, peer: Side): { own: string; peer: string } {
  const [client, server] = isServer ? [peer, own] : [own, peer];
  const ids = { ...(client.id ? { client: client.id } : {}), ...(server.id ? { server: server.id } : {}) };
  const nonces = { client: client.nonce, server: server.nonce };
  const [mine, theirs] = isServer ? (['server', 'client'] as const) : (['client', 'server'] as const);
  return { own: proofTranscript(mine, ids, nonces), peer: proofTranscript(theirs, ids, nonces) };
}

/** The peer's nonce and node id. @throws L8_ERR_HANDSHAKE when malformed, L8_ERR_IDENTITY for our own id. */
function parseChallenge(challenge: Record<string, unknown>, ownId: NodeId | undefined): Side {
  const { nonce, nodeId } = challenge;
  if (challenge.t !== 'challenge' || typeof nonce !== 'string' || !/^[0-9a-f]{64}$/.test(nonce)) {
    throw l8error('L8_ERR_HANDSHAKE', 'peer sent no valid challenge');
  }
  if (nodeId === undefined && ownId === undefined) return { nonce };
  if (nodeId === undefined) throw l8error('L8_ERR_IDENTITY', 'the peer bound no node id into its challenge');
  if (!isNodeId(nodeId)) throw l8error('L8_ERR_HANDSHAKE', 'peer sent an invalid node id in its challenge');
  if (nodeId === ownId) throw l8error('L8_ERR_IDENTITY', "the peer claims this node's own id (a reflected proof)");
  return { nonce, id: nodeId };
}

function proofOf(answer: Record<string, unknown>): string {
  if (answer.t !== 'proof' || typeof answer.proof !== 'string') throw l8error('L8_ERR_HANDSHAKE', 'peer sent no proof');
  return answer.proof;
}
