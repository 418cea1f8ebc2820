import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { l8error } from '@layer8/protocol';
import type { RevokedToken } from '../provider.ts';
import { writeFileAtomic } from '../tls/keys.ts';
import { SecurityFiles } from '../tls/layout.ts';

/** The contents of `revoked-tokens.json`. */
interface DenylistFile {
  readonly revoked?: readonly RevokedToken[];
}

/** Most ids the file keeps: beyond it the entries that expire first go (they are short-lived tokens). */
export const MAX_REVOKED_TOKENS = 100_000;

/**
 * The overlay's token denylist (`<dir>/revoked-tokens.json`, docs/security.md "Revoked tokens"): ids of
 * user tokens revoked before their expiry (a logout, a refresh-token reuse). Every provider that
 * validates tokens reads it, so a revoked token is refused at the service as well as at the gateway.
 * The file is re-read when it changes (a new file replaces it on each write, so its inode changes).
 */
export class TokenDenylist {
  readonly #file: string | undefined;
  #seen = '';
  #ids: ReadonlyMap<string, number> = new Map();

  /** The denylist of `dir`; none (nothing revoked) without a directory. */
  constructor(dir: string | undefined) {
    this.#file = dir === undefined ? undefined : join(dir, SecurityFiles.REVOKED_TOKENS);
  }

  /** Whether token `id` is revoked (its entry not yet past `now`, epoch seconds). */
  has(id: string, now = Date.now() / 1000): boolean {
    const exp = this.#current().get(id);
    return exp !== undefined && exp >= now;
  }

  #current(): ReadonlyMap<string, number> {
    const file = this.#file;
    if (file === undefined || !existsSync(file)) return this.#ids;
    const st = statSync(file);
    const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (stamp !== this.#seen) {
      this.#ids = new Map(readRevokedTokens(file).map((e) => [e.tokenId, e.expiresAt]));
      this.#seen = stamp;
    }
    return this.#ids;
  }
}

/** The entries of a `revoked-tokens.json`; an absent file is none. @throws L8_ERR_INVALID_ARGUMENT */
export function readRevokedTokens(file: string): RevokedToken[] {
  if (!existsSync(file)) return [];
  try {
    const body = JSON.parse(readFileSync(file, 'utf8')) as DenylistFile;
    const list = Array.isArray(body.revoked) ? body.revoked : [];
    return list.filter((e) => typeof e?.tokenId === 'string' && typeof e.expiresAt === 'number');
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `token denylist ${file} is not valid JSON`, { cause: err });
  }
}

/**
 * Adds `tokens` to `<dir>/revoked-tokens.json` (0644: it holds ids, no secrets), dropping entries whose
 * token has expired anyway (`now`, epoch seconds). The write is atomic; concurrent writers in several
 * processes may lose one another's entries (docs/security.md says to run one writer per directory).
 */
export function revokeTokens(dir: string, tokens: readonly RevokedToken[], now = Date.now() / 1000): void {
  const file = join(dir, SecurityFiles.REVOKED_TOKENS);
  const byId = new Map<string, number>();
  for (const e of [...readRevokedTokens(file), ...tokens]) {
    if (e.expiresAt >= now) byId.set(e.tokenId, Math.max(e.expiresAt, byId.get(e.tokenId) ?? 0));
  }
  const kept = [...byId].sort((a, b) => b[1] - a[1]).slice(0, MAX_REVOKED_TOKENS);
  const revoked = kept.map(([tokenId, expiresAt]) => ({ tokenId, expiresAt }));
  writeFileAtomic(file, `${JSON.stringify({ revoked }, null, 1)}\n`);
}
