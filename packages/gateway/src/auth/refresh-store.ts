import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RevokedToken } from '@layer8/security';
import { StateFile } from './state-file.ts';

/** The refresh-token file in the state directory (0600). */
export const REFRESH_FILE = 'refresh-tokens.json';
/** Sessions (refresh families) one user may hold; a login beyond it ends the oldest. */
export const MAX_FAMILIES_PER_USER = 32;
/** Rotated tokens remembered per family for reuse detection; an older one is just unknown. */
export const MAX_USED_PER_FAMILY = 64;

/**
 * One login session: a chain of refresh tokens where each use replaces the token (rotation). Tokens are
 * kept as SHA-256 hashes only (they are 256-bit random, so a fast hash suffices).
 */
interface Family {
  readonly user: string;
  /** End of the session, epoch ms: no rotation extends it. */
  readonly expiresAt: number;
  /** Hash of the one token that may be used now. */
  current: string;
  /** Hashes of tokens already used: presenting one again is a reuse. */
  used: string[];
  /** Access tokens issued in this session and not yet expired: revoked with it. */
  access: RevokedToken[];
}

interface RefreshFile {
  families: Record<string, Family>;
}

/** What using a refresh token gave. */
export type Rotation =
  | {
      readonly ok: true;
      readonly user: string;
      readonly family: string;
      readonly token: string;
      /** End of the session, epoch ms. */
      readonly expiresAt: number;
    }
  /** Unknown or expired (`revoked` empty), or a reuse that ended the session (`revoked`: its access tokens). */
  | { readonly ok: false; readonly reused: boolean; readonly revoked: readonly RevokedToken[] };

/** A new session's refresh token. */
export interface OpenedFamily {
  readonly family: string;
  readonly token: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** Access tokens of sessions this one pushed out ({@link MAX_FAMILIES_PER_USER}): to revoke. */
  readonly revoked: readonly RevokedToken[];
}

/**
 * Refresh tokens with rotation and reuse detection (docs/gateway.md, "Refresh"): a login opens a family;
 * each refresh swaps the family's current token for a new one; presenting a token the family already
 * swapped out means it was stolen (or replayed), so the whole family ends and its access tokens are
 * handed back for revocation. Kept in `<dir>/refresh-tokens.json` (0600) through a {@link StateFile}.
 */
export class RefreshStore {
  readonly #file: StateFile<RefreshFile>;
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** A store in `dir`; sessions last `ttlSeconds`; `now` is the clock (epoch ms). */
  constructor(dir: string, ttlSeconds: number, now: () => number = Date.now) {
    this.#file = new StateFile(join(dir, REFRESH_FILE), () => ({ families: {} }));
    this.#ttlMs = ttlSeconds * 1000;
    this.#now = now;
  }

  /** Opens a session for `user` whose first access token is `access`. */
  open(user: string, access: RevokedToken): Promise<OpenedFamily> {
    return this.#file.update((s) => {
      this.#prune(s);
      const revoked = evictOldest(s, user);
      const family = randomBytes(16).toString('base64url');
      const token = newToken();
      const expiresAt = this.#now() + this.#ttlMs;
      s.families[family] = { user, expiresAt, current: hashOf(token), used: [], access: [access] };
      return { family, token, expiresAt, revoked };
    });
  }

  /** Uses refresh token `token`: a new one on success, else why not (see {@link Rotation}). */
  rotate(token: string): Promise<Rotation> {
    const hash = hashOf(token);
    return this.#file.update((s): Rotation => {
      this.#prune(s);
      for (const [id, f] of Object.entries(s.families)) {
        if (f.current === hash) return rotated(f, id);
        if (f.used.includes(hash)) return { ok: false, reused: true, revoked: end(s, id) };
      }
      return { ok: false, reused: false, revoked: [] };
    });
  }

  /** Notes an access token issued in session `family` (revoked with it). */
  addAccess(family: string, access: RevokedToken): Promise<void> {
    return this.#file.update((s) => {
      s.families[family]?.access.push(access);
    });
  }

  /** Ends the session of refresh token `token` and of access token id `accessId`; returns their access tokens. */
  revoke(token: string | undefined, accessId: string | undefined): Promise<RevokedToken[]> {
    const hash = token === undefined ? undefined : hashOf(token);
    return this.#file.update((s) =>
      Object.entries(s.families)
        .filter(
          ([, f]) => f.current === hash || f.used.includes(hash ?? '') || f.access.some((a) => a.tokenId === accessId),
        )
        .flatMap(([id]) => end(s, id)),
    );
  }

  /** Ends every session of `user` (a removed user, a new password); returns their access tokens. */
  revokeUser(user: string): Promise<RevokedToken[]> {
    return this.#file.update((s) =>
      Object.entries(s.families)
        .filter(([, f]) => f.user === user)
        .flatMap(([id]) => end(s, id)),
    );
  }

  /** Drops ended sessions and access tokens past their expiry. */
  #prune(s: RefreshFile): void {
    const now = this.#now();
    for (const [id, f] of Object.entries(s.families)) {
      if (f.expiresAt <= now) delete s.families[id];
      else f.access = f.access.filter((a) => a.expiresAt * 1000 > now);
    }
  }
}

function rotated(f: Family, family: string): Rotation {
  const token = newToken();
  f.used = [...f.used, f.current].slice(-MAX_USED_PER_FAMILY);
  f.current = hashOf(token);
  return { ok: true, user: f.user, family, token, expiresAt: f.expiresAt };
}

/** Removes session `id`; returns its live access tokens. */
function end(s: RefreshFile, id: string): RevokedToken[] {
  const access = s.families[id]?.access ?? [];
  delete s.families[id];
  return access;
}

/** Ends the oldest sessions of `user` beyond {@link MAX_FAMILIES_PER_USER} - 1; returns their access tokens. */
function evictOldest(s: RefreshFile, user: string): RevokedToken[] {
  const mine = Object.entries(s.families)
    .filter(([, f]) => f.user === user)
    .sort((a, b) => a[1].expiresAt - b[1].expiresAt);
  return mine.slice(0, Math.max(0, mine.length - MAX_FAMILIES_PER_USER + 1)).flatMap(([id]) => end(s, id));
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
