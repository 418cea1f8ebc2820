import { X509Certificate } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { l8error } from '@layer8/protocol';
import { type CertRole, nodeFiles, roleOf, SecurityFiles } from './layout.ts';

/** Options of {@link exportNodeBundle}. */
export interface ExportBundleOptions {
  /**
   * Also copy `token.key` and `users.json`: for the one node that logs users in (the gateway). Default
   * false: the bundle can validate tokens but not sign them.
   */
  readonly tokenSigner?: boolean;
  /** Write into an `out` that already holds files (refreshing a bundle). Default false. */
  readonly overwrite?: boolean;
}

/** What {@link exportNodeBundle} wrote. */
export interface NodeBundle {
  readonly dir: string;
  readonly node: string;
  readonly role: CertRole;
  /** File names written, relative to `dir`. */
  readonly files: readonly string[];
}

/** Files every member needs; `acl.json` only when the overlay has one. */
const MEMBER_FILES = [SecurityFiles.CA_CERT, SecurityFiles.TOKEN_PUB, SecurityFiles.REVOKED] as const;
/** Files that must never be left in a bundle that was not asked for them. */
const AUTHORITY_FILES = [SecurityFiles.CA_KEY, SecurityFiles.TOKEN_KEY, SecurityFiles.USERS] as const;

/**
 * Copies what node `node` needs out of the issuing authority's directory `dir` into `out`: `ca.crt`,
 * `<node>.crt`, `<node>.key`, `token.pub`, `revoked.json`, and `acl.json` and `revoked-tokens.json` (when
 * present), never `ca.key`,
 * and `token.key` / `users.json` only with `tokenSigner`. Files are 0600, `out` is 0700. A
 * {@link TlsProvider} built on `out` links and validates tokens, but cannot issue certificates and (without
 * `tokenSigner`) cannot log users in (`L8_ERR_AUTH`). Run it again to refresh `revoked.json` and `acl.json`.
 * @throws L8_ERR_INVALID_ARGUMENT when `dir` lacks the node's files, `out` is `dir`, or `out` holds files
 * and `overwrite` is not set.
 */
export function exportNodeBundle(
  dir: string,
  node: string,
  out: string,
  options: ExportBundleOptions = {},
): NodeBundle {
  const files = nodeFiles(dir, node);
  const wanted = [...MEMBER_FILES, `${node}.crt`, `${node}.key`];
  for (const f of [SecurityFiles.ACL, SecurityFiles.REVOKED_TOKENS]) if (existsSync(join(dir, f))) wanted.push(f);
  if (options.tokenSigner === true) wanted.push(SecurityFiles.TOKEN_KEY, SecurityFiles.USERS);
  const missing = wanted.filter((f) => f !== SecurityFiles.USERS && !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${dir} lacks ${missing.join(', ')}; run l8 security init or issue`);
  }
  prepareOut(dir, out, options.overwrite === true);
  const written = wanted.filter((f) => existsSync(join(dir, f)));
  for (const f of written) {
    copyFileSync(join(dir, f), join(out, f));
    chmodSync(join(out, f), 0o600);
  }
  for (const f of AUTHORITY_FILES) if (!written.includes(f)) rmSync(join(out, f), { force: true });
  return { dir: out, node, role: roleOf(new X509Certificate(readFileSync(files.cert))), files: written };
}

/** Creates `out` (0700) or checks it may be written; never the authority's own directory. */
function prepareOut(dir: string, out: string, overwrite: boolean): void {
  if (existsSync(out)) {
    if (realpathSync(out) === realpathSync(dir) || resolve(out) === resolve(dir)) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', 'the bundle must go to another directory than the authority');
    }
    if (!overwrite && readdirSync(out).length > 0) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `${out} is not empty; pass overwrite to refresh a bundle`);
    }
  }
  mkdirSync(out, { recursive: true, mode: 0o700 });
  chmodSync(out, 0o700);
}
