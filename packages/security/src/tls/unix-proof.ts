import { type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import { l8error } from '@layer8/protocol';
import type { ProofScheme } from '../link/mutual-proof.ts';
import type { PeerIdentity } from '../provider.ts';
import { algorithmOf, digestOf } from './keys.ts';
import { checkPeerCertificate, type TrustAnchor } from './peer-check.ts';

/** This node's credentials for the unix-socket proof. */
export interface NodeCredentials {
  /** The node certificate (PEM). */
  readonly certPem: string;
  readonly privateKey: KeyObject;
}

/**
 * Domain separation, so a proof signature can never be replayed as any other Layer8 signature. v2: the
 * transcript binds both node ids and the direction (link/mutual-proof.ts).
 */
const CONTEXT = 'l8-tls-unix-proof-v2|';

/**
 * The membership proof on a unix socket, where there is no TLS (the socket file's mode protects the
 * link): each side sends its certificate in its challenge and signs the transcript (direction, both node
 * ids, both nonces) with its node key; the other checks the certificate against the overlay CA, its
 * validity and the revocation list, then the signature. The proven peer has the certificate's role. `trust` is called per handshake so revocations apply at once.
 */
export function unixProofScheme(own: NodeCredentials, trust: () => TrustAnchor): ProofScheme {
  const digest = digestOf(algorithmOf(own.privateKey));
  return {
    challengeFields: () => ({ provider: 'tls', cert: own.certPem }),
    prove: (transcript) => sign(digest, Buffer.from(CONTEXT + transcript), own.privateKey).toString('base64'),
    verify: (challenge, transcript, proof) => verifyPeer(challenge, transcript, proof, trust()),
  };
}

function verifyPeer(
  challenge: Record<string, unknown>,
  transcript: string,
  proof: string,
  trust: TrustAnchor,
): PeerIdentity {
  if (challenge.provider !== 'tls')
    throw l8error('L8_ERR_AUTH', `peer uses the ${String(challenge.provider)} provider, not tls`);
  const cert = parseCert(challenge.cert);
  const peer = checkPeerCertificate(cert, trust);
  const digest = digestOf(algorithmOf(cert.publicKey));
  if (!verify(digest, Buffer.from(CONTEXT + transcript), cert.publicKey, Buffer.from(proof, 'base64'))) {
    throw l8error('L8_ERR_AUTH', `membership proof of ${peer.subject} failed: bad signature`);
  }
  return peer;
}

function parseCert(pem: unknown): X509Certificate {
  if (typeof pem !== 'string') throw l8error('L8_ERR_AUTH', 'the peer presented no certificate');
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw l8error('L8_ERR_AUTH', 'the peer presented an unreadable certificate', { cause: err });
  }
}
