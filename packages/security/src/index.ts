/** @layer8/security: providers, AAA tokens and link setup (membership proof and hello; docs/architecture.md, docs/security.md). */
export { DevProvider, type DevProviderOptions, isLoopback } from './dev/dev-provider.ts';
export { checkHelloIdentity, exchangeHello, type HelloCheck, type HelloResult } from './link/hello.ts';
export { acceptLink, DEFAULT_HANDSHAKE_MS, dialLink, type OpenedLink } from './link/link-setup.ts';
export { type ProofScheme, proofTranscript, runMutualProof } from './link/mutual-proof.ts';
export { HANDSHAKE_MAX_FRAME, ProofChannel } from './link/proof-channel.ts';
export type {
  IssuedToken,
  LinkContext,
  PeerIdentity,
  PeerRole,
  RevokedToken,
  SecuredLink,
  SecurityProvider,
  UserAuthority,
  UserIdentity,
} from './provider.ts';
export { type ExportBundleOptions, exportNodeBundle, type NodeBundle } from './tls/bundle.ts';
export {
  DEFAULT_SAN,
  type InitSecurityOptions,
  type IssuedCert,
  type IssueOptions,
  initSecurity,
  issueNodeCert,
  type SanOptions,
  type SecurityInitResult,
} from './tls/ca.ts';
export { type KeyAlgorithm, writeFileAtomic, writeSecretFile } from './tls/keys.ts';
export { type CertRole, roleOf, SecurityFiles } from './tls/layout.ts';
export { loadRevocations, RevocationList, type RevokedEntry, revoke } from './tls/revocation.ts';
export { TLS_VERSIONS } from './tls/tls-link.ts';
export { type TlsPemOptions, TlsProvider, type TlsProviderOptions } from './tls/tls-provider.ts';
export {
  MAX_REVOKED_TOKENS,
  readRevokedTokens,
  revokeTokens,
  TokenDenylist,
} from './tokens/token-denylist.ts';
export { createTokenIssuer, newTokenId, type TokenIssuer, type TokenIssuerOptions } from './tokens/tokens.ts';
export {
  type AccessFile,
  type AccessRule,
  AccessRules,
  ADMIN_ROLE,
  type HostingRule,
  type ScopeRule,
} from './users/access-rules.ts';
export {
  addUser,
  readUsers,
  removeUser,
  setPassword,
  setRoles,
  type UserRecord,
  type UserTable,
  verifyUser,
} from './users/users.ts';
