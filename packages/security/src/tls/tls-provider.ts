import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { type L8Error, l8error } from '@layer8/protocol';
import { runMutualProof } from '../link/mutual-proof.ts';
import type {
  IssuedToken,
  LinkContext,
  PeerIdentity,
  RevokedToken,
  SecuredLink,
  SecurityProvider,
  UserAuthority,
  UserIdentity,
} from '../provider.ts';
import { revokeTokens, TokenDenylist } from '../tokens/token-denylist.ts';
import { createTokenIssuer, newTokenId, type TokenIssuer } from '../tokens/tokens.ts';
import { AccessRules } from '../users/access-rules.ts';
import { readUsers, verifyUser } from '../users/users.ts';
import { keyPairFromPem } from './keys.ts';
import { type CertRole, checkName, nodeFiles, roleOf, SecurityFiles } from './layout.ts';
import type { TrustAnchor } from './peer-check.ts';
import { RevocationList, type RevokedEntry, readRevokedEntries } from './revocation.ts';
import { TLS_VERSIONS, type TlsServerCredentials, tlsClient, tlsServer } from './tls-link.ts';
import { unixProofScheme } from './unix-proof.ts';

/** PEM material of a node, for a {@link TlsProvider} built without files. */
export interface TlsPemOptions {
  /** The overlay CA certificate. */
  readonly ca: string;
  /** This node's certificate. */
  readonly cert: string;
  /** This node's private key. */
  readonly key: string;
  /** The overlay's token validation key (SPKI PEM); without it tokens are refused. */
  readonly tokenPublicKey?: string;
  /** The overlay's token signing key (PKCS#8 PEM); without it this node cannot log users in. */
  readonly tokenPrivateKey?: string;
  /** Revoked certificates, when there is no security directory to read `revoked.json` from. */
  readonly revoked?: readonly Pick<RevokedEntry, 'serial' | 'fingerprint'>[];
}

/** Options of {@link TlsProvider}: a security directory and node name, PEM strings, or both (PEM wins). */
export interface TlsProviderOptions {
  /** The security directory written by `l8 security init` (docs/security.md, "Layout"). */
  readonly dir?: string;
  /** This node's name: its files are `<dir>/<node>.crt` and `<dir>/<node>.key`. */
  readonly node?: string;
  readonly pem?: TlsPemOptions;
  /** Lifetime of user tokens in seconds. Default 3600. */
  readonly tokenTtlSeconds?: number;
}

/**
 * The default security provider (DESIGN.md §8): mutual TLS 1.3 with certificates of the overlay CA on
 * TCP links, a signature proof with the same certificates on unix-socket links, JWT user tokens signed
 * with the overlay's token key, scrypt-hashed users and an optional ACL. Two components talk only when
 * both hold certificates of the same overlay CA that are valid and not revoked.
 */
export class TlsProvider implements SecurityProvider, UserAuthority {
  readonly name = 'tls';
  /** The role this node's own certificate grants: a VNet must hold a `vnet` certificate. */
  readonly certificateRole: CertRole;
  readonly #dir: string | undefined;
  readonly #ca: X509Certificate;
  readonly #context: SecureContext;
  readonly #credentials: TlsServerCredentials;
  /** Serials of certificates this provider proved, by fingerprint, so {@link recheck} also matches serial-only revocations. Bounded. */
  readonly #serials = new Map<string, string>();
  readonly #scheme: ReturnType<typeof unixProofScheme>;
  readonly #tokens: TokenIssuer | undefined;
  readonly #canSign: boolean;
  readonly #fixedRevoked: RevocationList | undefined;
  readonly #deniedTokens: TokenDenylist;
  #revoked: { mtimeMs: number; list: RevocationList } = { mtimeMs: -1, list: new RevocationList() };
  #access: AccessRules;

  /** Loads the CA, the node's certificate and key, and the token keys. @throws L8_ERR_INVALID_ARGUMENT */
  constructor(options: TlsProviderOptions) {
    const pem = options.pem ?? readNodePem(options);
    this.#dir = options.dir;
    this.#ca = new X509Certificate(pem.ca);
    const keys = keyPairFromPem(pem.key);
    this.#context = createSecureContext({ ca: pem.ca, cert: pem.cert, key: pem.key, ...TLS_VERSIONS });
    this.#credentials = { ca: pem.ca, cert: pem.cert, key: pem.key };
    this.certificateRole = roleOf(new X509Certificate(pem.cert));
    this.#scheme = unixProofScheme({ certPem: pem.cert, privateKey: keys.privateKey }, () => this.#trust());
    this.#tokens = tokenIssuer(pem, options.tokenTtlSeconds);
    this.#canSign = pem.tokenPrivateKey !== undefined;
    this.#fixedRevoked = pem.revoked === undefined ? undefined : new RevocationList(pem.revoked);
    this.#access = AccessRules.load(this.#file(SecurityFiles.ACL));
    this.#deniedTokens = new TokenDenylist(options.dir);
  }

  /** The security directory this provider reads (users, ACL, revocations), when built from one. */
  get directory(): string | undefined {
    return this.#dir;
  }

  /** Allows every address: links are encrypted and mutually authenticated wherever they run. */
  checkAddress(_host: string): void {}

  /**
   * TLS 1.3 client handshake on TCP, the certificate signature proof on a unix socket (bound to both node
   * ids, `ctx.nodeId`). The proven peer carries its certificate's role.
   */
  secureClient(socket: Socket, ctx: LinkContext): Promise<SecuredLink> {
    if (ctx.transport === 'unix') return runMutualProof(socket, false, this.#scheme, ctx);
    return tlsClient(socket, this.#context, this.#trust(), ctx.signal);
  }

  /** TLS 1.3 server handshake (client certificate required) on TCP, the signature proof on a unix socket. */
  secureServer(socket: Socket, ctx: LinkContext): Promise<SecuredLink> {
    if (ctx.transport === 'unix') return runMutualProof(socket, true, this.#scheme, ctx);
    return tlsServer(socket, this.#credentials, this.#trust(), ctx.signal);
  }

  /**
   * Re-checks a peer proven earlier: `L8_ERR_CERT_REVOKED` once its certificate (fingerprint, or serial
   * when this provider proved it) is on the revocation list, re-read when `revoked.json` changes;
   * `L8_ERR_CERT_EXPIRED` once `now` (epoch ms, default the clock) is past its `notAfter`; else undefined.
   */
  recheck(peer: PeerIdentity, now = Date.now()): L8Error | undefined {
    const fp = peer.fingerprint;
    if (fp !== undefined && this.#trust().revoked.matches(fp, this.#serials.get(fp))) {
      return l8error('L8_ERR_CERT_REVOKED', `certificate of ${peer.subject} is revoked`);
    }
    if (peer.notAfter !== undefined && now > peer.notAfter) {
      return l8error(
        'L8_ERR_CERT_EXPIRED',
        `certificate of ${peer.subject} expired at ${new Date(peer.notAfter).toISOString()}`,
      );
    }
    return undefined;
  }

  /** Per-certificate hosting rules from `acl.json` (`hosting`); a VNet certificate never hosts. */
  canHost(peer: PeerIdentity, service: string, area: number): boolean {
    return this.#access.canHost(peer, service, area);
  }

  /**
   * Checks a password against `<dir>/users.json` (read on every call, so `addUser` applies at once) and
   * returns a token. @throws L8_ERR_AUTH, also when this node holds no token signing key.
   */
  async authenticateUser(user: string, password: string): Promise<string> {
    const roles = await this.verifyPassword(user, password);
    return this.#issuer('sign').issue({ user, roles });
  }

  /** The roles of `user` when `password` is right (`users.json`, re-read). @throws L8_ERR_AUTH */
  async verifyPassword(user: string, password: string): Promise<readonly string[]> {
    return verifyUser(this.#dir === undefined ? {} : await readUsers(this.#dir), user, password);
  }

  /** The roles of `user` in `users.json` now; undefined for an unknown user. */
  async userRoles(user: string): Promise<readonly string[] | undefined> {
    const table = this.#dir === undefined ? {} : await readUsers(this.#dir);
    const record = Object.hasOwn(table, user) ? table[user] : undefined;
    return record === undefined ? undefined : Array.isArray(record.roles) ? record.roles : [];
  }

  /** A token for `who` with a new id, expiring after `ttlSeconds`. @throws L8_ERR_AUTH without token.key */
  async issueToken(who: { user: string; roles: readonly string[] }, ttlSeconds: number): Promise<IssuedToken> {
    const tokenId = newTokenId();
    const token = await this.#issuer('sign').issue(who, ttlSeconds, tokenId);
    return { token, tokenId, expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds };
  }

  /**
   * The identity of a valid token; a token whose id is in `revoked-tokens.json` (re-read when it changes)
   * is refused like a forged one. @throws L8_ERR_AUTH, L8_ERR_TOKEN_EXPIRED
   */
  async validateToken(token: string): Promise<UserIdentity> {
    const who = await this.#issuer('validate').validate(token);
    if (who.tokenId !== undefined && this.#deniedTokens.has(who.tokenId))
      throw l8error('L8_ERR_AUTH', 'user token revoked');
    return who;
  }

  /** Adds tokens to `<dir>/revoked-tokens.json`. @throws L8_ERR_INVALID_ARGUMENT without a directory */
  async revokeTokens(tokens: readonly RevokedToken[]): Promise<void> {
    if (this.#dir === undefined)
      throw l8error('L8_ERR_INVALID_ARGUMENT', 'this provider has no security directory to revoke tokens in');
    revokeTokens(this.#dir, tokens);
  }

  /** Role-based, from `acl.json` (read at construction and by {@link TlsProvider.reload}). */
  canDoAction(who: UserIdentity, action: number, service: string, area: number): boolean {
    return this.#access.allows(who, action, service, area);
  }

  /** Passes items through unless `acl.json` has a scope rule for `service`. */
  scope<T>(who: UserIdentity, service: string, items: readonly T[]): T[] {
    return this.#access.scope(who, service, items);
  }

  /** The contents of `<dir>/secrets/<name>` without a final newline; undefined when absent. */
  async secret(name: string): Promise<string | undefined> {
    checkName(name, 'secret');
    const file = this.#file(join(SecurityFiles.SECRETS, name));
    if (file === undefined || !existsSync(file)) return undefined;
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  }

  /** Re-reads `acl.json`. The revocation list is re-read by itself whenever the file changes. */
  reload(): void {
    this.#access = AccessRules.load(this.#file(SecurityFiles.ACL));
  }

  #file(name: string): string | undefined {
    return this.#dir === undefined ? undefined : join(this.#dir, name);
  }

  #trust(): TrustAnchor {
    return { ca: this.#ca, revoked: this.#fixedRevoked ?? this.#revocations(), accepted: this.#accepted };
  }

  /** Notes the serial of each certificate proven, for {@link TlsProvider.recheck}; the oldest go first. */
  readonly #accepted = (fingerprint: string, serial: string): void => {
    if (this.#serials.has(fingerprint)) return;
    if (this.#serials.size >= MAX_REMEMBERED) this.#serials.delete(this.#serials.keys().next().value as string);
    this.#serials.set(fingerprint, serial);
  };

  /** The revocation list of the directory, re-read when `revoked.json` changes. */
  #revocations(): RevocationList {
    const file = this.#file(SecurityFiles.REVOKED);
    if (file === undefined || !existsSync(file)) return this.#revoked.list;
    const { mtimeMs } = statSync(file);
    if (mtimeMs !== this.#revoked.mtimeMs)
      this.#revoked = { mtimeMs, list: new RevocationList(readRevokedEntries(file)) };
    return this.#revoked.list;
  }

  #issuer(use: 'sign' | 'validate'): TokenIssuer {
    if (this.#tokens === undefined || (use === 'sign' && !this.#canSign))
      throw l8error('L8_ERR_AUTH', `this node holds no token key to ${use} user tokens`);
    return this.#tokens;
  }
}

/** How many proven certificates' serials a provider remembers for {@link TlsProvider.recheck}. */
const MAX_REMEMBERED = 4096;

function readNodePem(options: TlsProviderOptions): TlsPemOptions {
  const { dir, node } = options;
  if (dir === undefined || node === undefined) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'the tls provider needs either dir and node, or pem');
  }
  const files = nodeFiles(dir, node);
  const read = (f: string): string | undefined => (existsSync(f) ? readFileSync(f, 'utf8') : undefined);
  const [ca, cert, key] = [read(join(dir, SecurityFiles.CA_CERT)), read(files.cert), read(files.key)];
  if (ca === undefined) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${dir} holds no overlay CA (ca.crt); run l8 security init --dir ${dir}`);
  }
  if (cert === undefined || key === undefined) {
    const names = existsSync(dir)
      ? readdirSync(dir).filter(
          (f) => f.endsWith('.key') && f !== SecurityFiles.CA_KEY && f !== SecurityFiles.TOKEN_KEY,
        )
      : [];
    const have = names.map((f) => f.slice(0, -4)).join(', ') || 'none';
    throw l8error(
      'L8_ERR_INVALID_ARGUMENT',
      `${dir} holds no certificate and key for node ${node} (certificates here: ${have}); pass --node NAME, or issue one with l8 security issue --dir ${dir} --node ${node}`,
    );
  }
  const tokenPublicKey = read(join(dir, SecurityFiles.TOKEN_PUB));
  const tokenPrivateKey = read(join(dir, SecurityFiles.TOKEN_KEY));
  return {
    ca,
    cert,
    key,
    ...(tokenPublicKey ? { tokenPublicKey } : {}),
    ...(tokenPrivateKey ? { tokenPrivateKey } : {}),
  };
}

function tokenIssuer(pem: TlsPemOptions, ttlSeconds: number | undefined): TokenIssuer | undefined {
  const privateKey: KeyObject | undefined = pem.tokenPrivateKey
    ? keyPairFromPem(pem.tokenPrivateKey).privateKey
    : undefined;
  const publicKey = pem.tokenPublicKey ? createPublicKey(pem.tokenPublicKey) : undefined;
  if (publicKey === undefined) return undefined;
  return createTokenIssuer({
    publicKey,
    issuer: 'layer8-overlay',
    ...(privateKey ? { privateKey } : {}),
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
  });
}
