import { createHmac, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { type L8Error, l8error } from '@layer8/protocol';
import { runMutualProof } from '../link/mutual-proof.ts';
import type { LinkContext, PeerIdentity, SecuredLink, SecurityProvider, UserIdentity } from '../provider.ts';
import { createTokenIssuer, type TokenIssuer } from '../tokens/tokens.ts';

/** Options of {@link DevProvider}. */
export interface DevProviderOptions {
  /** The shared passphrase every member knows. At least 8 characters. */
  readonly passphrase: string;
  /** Allows non-loopback addresses. Never do this outside a lab. Default false. */
  readonly force?: boolean;
  /** Where the loud warning goes. Default `console.warn`. */
  readonly warn?: (message: string) => void;
  /** Users for {@link DevProvider.authenticateUser}: name → { password, roles }. */
  readonly users?: Readonly<Record<string, { readonly password: string; readonly roles: readonly string[] }>>;
}

/** True for 127.0.0.0/8, ::1, `localhost` and unix socket paths. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.startsWith('/')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/**
 * The development provider: members prove knowledge of a shared passphrase with HMAC-SHA256 over fresh
 * nonces. No TLS, so nothing is encrypted: it refuses non-loopback addresses unless forced, and warns.
 */
export class DevProvider implements SecurityProvider {
  readonly name = 'dev';
  readonly #key: Buffer;
  readonly #force: boolean;
  readonly #warn: (message: string) => void;
  readonly #users: DevProviderOptions['users'];
  readonly #tokens: TokenIssuer;

  constructor(options: DevProviderOptions) {
    if (options.passphrase.length < 8)
      throw l8error('L8_ERR_INVALID_ARGUMENT', 'the dev passphrase needs at least 8 characters');
    this.#key = scryptSync(options.passphrase, 'layer8-dev-provider-v1', 32);
    this.#force = options.force ?? false;
    this.#warn = options.warn ?? ((m) => console.warn(m));
    this.#users = options.users;
    this.#tokens = createTokenIssuer({ secret: this.#key, issuer: 'layer8-dev' });
    this.#warn(
      'WARNING: Layer8 dev security provider in use: links are NOT encrypted; for real deployments run `npx l8 security init --dir ~/.layer8/security`, then start without --dev',
    );
  }

  checkAddress(host: string): void {
    if (isLoopback(host)) return;
    if (!this.#force) {
      throw l8error(
        'L8_ERR_INSECURE',
        `the dev provider refuses the non-loopback address ${host} (links would be cleartext); pass --force-insecure (the force option) to override`,
      );
    }
    this.#warn(`WARNING: Layer8 dev provider forced onto non-loopback address ${host}: traffic is cleartext`);
  }

  /** The passphrase proof, bound to both node ids and the direction (`ctx.nodeId`, docs/security.md). */
  secureClient(socket: Socket, ctx: LinkContext): Promise<SecuredLink> {
    return runMutualProof(socket, false, this.#scheme(), ctx);
  }

  secureServer(socket: Socket, ctx: LinkContext): Promise<SecuredLink> {
    return runMutualProof(socket, true, this.#scheme(), ctx);
  }

  async authenticateUser(user: string, password: string): Promise<string> {
    const entry = this.#users?.[user];
    if (entry === undefined || !safeEqual(entry.password, password))
      throw l8error('L8_ERR_AUTH', 'unknown user or wrong password');
    return this.#tokens.issue({ user, roles: entry.roles });
  }

  validateToken(token: string): Promise<UserIdentity> {
    return this.#tokens.validate(token);
  }

  canDoAction(): boolean {
    return true;
  }

  scope<T>(_who: UserIdentity, _service: string, items: readonly T[]): T[] {
    return [...items];
  }

  async secret(): Promise<string | undefined> {
    return undefined;
  }

  /** Nothing to re-check: a passphrase neither expires nor is revoked. */
  recheck(_peer: PeerIdentity): L8Error | undefined {
    return undefined;
  }

  /** Every passphrase holder may host anything (every member is fully trusted). */
  canHost(_peer: PeerIdentity, _service: string, _area: number): boolean {
    return true;
  }

  #scheme() {
    const mac = (transcript: string): string =>
      createHmac('sha256', this.#key).update(`${DEV_PROOF_CONTEXT}${transcript}`).digest('hex');
    return {
      challengeFields: () => ({ provider: 'dev' }),
      prove: mac,
      verify: (_c: Record<string, unknown>, transcript: string, proof: string): PeerIdentity => {
        if (!safeEqual(mac(transcript), proof))
          throw l8error('L8_ERR_AUTH', 'membership proof failed: wrong passphrase');
        return { provider: 'dev', subject: 'dev', role: 'any' };
      },
    };
  }
}

/** Domain separation of the proof MAC, versioned: v2 binds node ids and direction (mutual-proof.ts). */
const DEV_PROOF_CONTEXT = 'l8-dev-proof-v2|';

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
