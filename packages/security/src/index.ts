/** @layer8/security: providers, AAA tokens and the framed link (DESIGN.md §8, docs/security.md). */
export { DevProvider, type DevProviderOptions, isLoopback } from './dev/dev-provider.ts';
export { type ProofScheme, runMutualProof } from './link/mutual-proof.ts';
export { HANDSHAKE_MAX_FRAME, ProofChannel } from './link/proof-channel.ts';
export type {
  LinkContext,
  LinkTransport,
  NodeHello,
  PeerIdentity,
  SecuredLink,
  SecurityProvider,
  UserIdentity,
} from './provider.ts';
export { createTokenIssuer, type TokenIssuer, type TokenIssuerOptions } from './tokens/tokens.ts';
