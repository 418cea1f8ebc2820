import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LinkTransport } from '@layer8/link';
import type { L8Error, NodeId } from '@layer8/protocol';

/** What the provider is told about a link it secures. */
export interface LinkContext {
  readonly transport: LinkTransport;
  /** Host name or address dialled (client side), for TLS server-name checks and logs. */
  readonly host?: string;
  /** Aborts the membership proof (the handshake deadline). */
  readonly signal?: AbortSignal;
  /**
   * This side's node id. Proof-based providers (dev, the TLS provider's unix-socket proof) bind both
   * ends' ids and the direction into the signed transcript, so a proof cannot be relayed into another
   * connection; the proven peer id comes back as {@link PeerIdentity.nodeId}.
   */
  readonly nodeId?: NodeId;
}

/** What a proven identity may act as on the overlay: a VNic only, a VNet (switch), or either (dev provider). */
export type PeerRole = 'vnic' | 'vnet' | 'any';

/** Who is at the other end of a secured link, as the provider proved it. */
export interface PeerIdentity {
  /** The provider that proved it (`tls`, `dev`, …). */
  readonly provider: string;
  /** The proven subject: the certificate's common name, or `dev` for the passphrase provider. */
  readonly subject: string;
  /** Certificate fingerprint (SHA-256, hex) where the provider has one. */
  readonly fingerprint?: string;
  /**
   * The role the credential grants, never the hello's: the TLS provider reads it from the certificate
   * (`l8 security init` writes OU=vnet or OU=vnic); the dev provider grants `any` (every passphrase holder
   * is fully trusted, see docs/security.md). A link whose hello claims a role its identity lacks is refused.
   */
  readonly role: PeerRole;
  /** The peer's node id when the proof bound one into its transcript; the hello must then claim the same id. */
  readonly nodeId?: NodeId;
  /** End of the credential's validity (epoch ms) where it has one: {@link SecurityProvider.recheck} refuses it after. */
  readonly notAfter?: number;
}

/** A link after the membership proof: the stream to frame on, and the proven peer. */
export interface SecuredLink {
  /** The authenticated (and, for TLS, encrypted) stream. */
  readonly stream: Duplex;
  readonly peer: PeerIdentity;
  /** Bytes already read from `stream` past the proof; the framing layer consumes them first. */
  readonly head: Buffer;
}

/** A user identity carried in message bodies (docs/protocol.md §4, AAA). */
export interface UserIdentity {
  readonly user: string;
  readonly roles: readonly string[];
  /** Expiry as epoch seconds, when the identity came from a token. */
  readonly expiresAt?: number;
  /** The token's id (`jti`), when the identity came from a token that has one: what revocation names. */
  readonly tokenId?: string;
}

/** A token just issued by a {@link UserAuthority}. */
export interface IssuedToken {
  readonly token: string;
  /** Its id (`jti`). */
  readonly tokenId: string;
  /** Its expiry, epoch seconds. */
  readonly expiresAt: number;
}

/** A token id to refuse until the token would expire anyway. */
export interface RevokedToken {
  readonly tokenId: string;
  /** The token's expiry, epoch seconds: the entry is dropped after it. */
  readonly expiresAt: number;
}

/**
 * What a login front end (the gateway's `/auth` endpoints, docs/gateway.md "AAA") needs of a provider
 * beyond {@link SecurityProvider}: check a password without issuing, issue a token of a chosen lifetime
 * for a user whose roles it re-reads, and revoke tokens so that every member that validates them (the
 * services included) refuses them. The TLS provider implements it.
 */
export interface UserAuthority {
  /** The security directory the authority reads users from and writes revocations to, when it has one. */
  readonly directory: string | undefined;
  /** The roles of `user` when `password` is right. Same work and error for an unknown user. @throws L8_ERR_AUTH */
  verifyPassword(user: string, password: string): Promise<readonly string[]>;
  /** The current roles of `user`; undefined when the user no longer exists. */
  userRoles(user: string): Promise<readonly string[] | undefined>;
  /** A signed token for `who` that expires after `ttlSeconds`. @throws L8_ERR_AUTH without a signing key */
  issueToken(who: { user: string; roles: readonly string[] }, ttlSeconds: number): Promise<IssuedToken>;
  /** Validates a token, refusing revoked ones. @throws L8_ERR_AUTH, L8_ERR_TOKEN_EXPIRED */
  validateToken(token: string): Promise<UserIdentity>;
  /** Adds token ids to the overlay's token denylist. @throws L8_ERR_INVALID_ARGUMENT without a directory */
  revokeTokens(tokens: readonly RevokedToken[]): Promise<void>;
}

/**
 * The security provider seam (DESIGN.md §8). Two processes talk only when they share one: the
 * provider proves membership on every link, authenticates users and authorises actions.
 * Every method that fails rejects with an L8Error (`L8_ERR_AUTH`, `L8_ERR_FORBIDDEN`, …).
 */
export interface SecurityProvider {
  /** Short name, such as `tls` or `dev`. */
  readonly name: string;
  /**
   * Checks that listening or dialling on `host` is allowed.
   * @throws L8_ERR_INSECURE when an insecure provider is asked for a non-loopback address.
   */
  checkAddress(host: string): void;
  /** Runs the client side of the membership proof on a connected socket. */
  secureClient(socket: Socket, ctx: LinkContext): Promise<SecuredLink>;
  /** Runs the server side of the membership proof on an accepted socket. */
  secureServer(socket: Socket, ctx: LinkContext): Promise<SecuredLink>;
  /** Checks a user's password and returns a signed token. @throws L8_ERR_AUTH */
  authenticateUser(user: string, password: string): Promise<string>;
  /** Validates a token and returns its identity. @throws L8_ERR_AUTH, L8_ERR_TOKEN_EXPIRED */
  validateToken(token: string): Promise<UserIdentity>;
  /** Whether `who` may do `action` on (service, area). */
  canDoAction(who: UserIdentity, action: number, service: string, area: number): boolean;
  /** Filters the items of a result down to what `who` may see: a subset of the same objects, in order. */
  scope<T>(who: UserIdentity, service: string, items: readonly T[]): T[];
  /** Looks up a named secret; undefined when the provider has none by that name. */
  secret(name: string): Promise<string | undefined>;
  /**
   * Re-checks the identity of an open link (the revocation list may have changed since it was proven).
   * Returns the error to close the link with (`L8_ERR_CERT_REVOKED`, `L8_ERR_CERT_EXPIRED`), or undefined.
   */
  recheck(peer: PeerIdentity): L8Error | undefined;
  /**
   * Whether the proven identity `peer` may host (service, area): coarse per-certificate rules enforced
   * by the VNet on subscriptions (`acl.json` `hosting`); per-user rules are enforced at the service.
   */
  canHost(peer: PeerIdentity, service: string, area: number): boolean;
}
