import { type KeyObject, randomBytes } from 'node:crypto';
import { l8error } from '@layer8/protocol';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { UserIdentity } from '../provider.ts';

/** Options of {@link createTokenIssuer}. Either a shared `secret` (HS256) or a key pair (ES256/EdDSA). */
export interface TokenIssuerOptions {
  /** HMAC secret, at least 32 bytes (HS256). */
  readonly secret?: Uint8Array;
  /** Private key to sign with (ES256 for P-256, EdDSA for Ed25519). */
  readonly privateKey?: KeyObject;
  /** Public key to verify with. */
  readonly publicKey?: KeyObject;
  /** `iss` claim. Default `layer8`. */
  readonly issuer?: string;
  /** Lifetime of issued tokens in seconds. Default 3600. */
  readonly ttlSeconds?: number;
}

/**
 * Issues and validates user tokens (JWT) with a `roles` claim and a random token id (`jti`, 128 bits),
 * which revocation names (docs/security.md, "Revoked tokens").
 */
export interface TokenIssuer {
  /** A signed token for `who`, expiring after the issuer's ttl (or `ttlSeconds`), with id `tokenId` (default random). */
  issue(who: { user: string; roles: readonly string[] }, ttlSeconds?: number, tokenId?: string): Promise<string>;
  /** The identity of a valid token. @throws L8_ERR_AUTH, L8_ERR_TOKEN_EXPIRED */
  validate(token: string): Promise<UserIdentity>;
}

function algorithmOf(options: TokenIssuerOptions): string {
  if (options.secret) return 'HS256';
  const type = options.privateKey?.asymmetricKeyType ?? options.publicKey?.asymmetricKeyType;
  if (type === 'ec') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  throw l8error('L8_ERR_INVALID_ARGUMENT', 'a token issuer needs a secret or a P-256/Ed25519 key');
}

/** Makes a {@link TokenIssuer} over `jose`. */
export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  const alg = algorithmOf(options);
  const issuer = options.issuer ?? 'layer8';
  const ttl = options.ttlSeconds ?? 3600;
  const signKey = options.secret ?? options.privateKey;
  const verifyKey = options.secret ?? options.publicKey;
  return {
    async issue(who, ttlSeconds = ttl, tokenId = newTokenId()) {
      if (signKey === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', 'this token issuer has no signing key');
      return new SignJWT({ roles: [...who.roles] })
        .setProtectedHeader({ alg })
        .setSubject(who.user)
        .setJti(tokenId)
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(signKey);
    },
    async validate(token) {
      if (verifyKey === undefined)
        throw l8error('L8_ERR_INVALID_ARGUMENT', 'this token issuer has no verification key');
      try {
        const { payload } = await jwtVerify(token, verifyKey, { issuer, algorithms: [alg] });
        const roles = Array.isArray(payload.roles)
          ? payload.roles.filter((r): r is string => typeof r === 'string')
          : [];
        const id = typeof payload.jti === 'string' ? { tokenId: payload.jti } : {};
        return {
          user: payload.sub ?? '',
          roles,
          ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
          ...id,
        };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired)
          throw l8error('L8_ERR_TOKEN_EXPIRED', 'user token expired', { cause: err });
        throw l8error('L8_ERR_AUTH', `invalid user token: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

/** A new random token id: 16 bytes, base64url. */
export function newTokenId(): string {
  return randomBytes(16).toString('base64url');
}
