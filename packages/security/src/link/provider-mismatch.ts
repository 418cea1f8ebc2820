import { type L8Error, l8error } from '@layer8/protocol';

/**
 * Two nodes on different security providers never link, and no retry changes that (docs/security.md, "When
 * the providers differ"): both sides refuse with `L8_ERR_AUTH` and a text that says what the other side
 * uses and how to join it. The dialler's error carries a {@link ProviderMismatch} as `data`, so
 * {@link namePeer} can name the address it dialled.
 */
export interface ProviderMismatch {
  /** What the peer uses: a provider name, or `plain` for a peer that does not speak TLS where TLS was expected. */
  readonly peerProvider: string;
  /** What told it apart: an OpenSSL error code, for instance. */
  readonly detail?: string;
}

const JOIN_DEV = 'join it with --dev or --dev-passphrase-file FILE (not --security), or give it a certificate';

/** How each provider is described to a node that uses another, and what that node should do. */
const DESCRIBED: Readonly<Record<string, { readonly uses: string; readonly join: string }>> = {
  tls: { uses: 'uses the TLS provider', join: 'pass --security DIR --node NAME (not --dev) to join it' },
  dev: { uses: 'uses the dev provider', join: JOIN_DEV },
  plain: { uses: 'does not speak TLS (a dev-provider VNet?)', join: JOIN_DEV },
};

/** Provider names as a peer may send them; anything else is shown as `unknown`. */
const NAME = /^[a-z0-9-]{1,32}$/;

/** A provider name from a peer, safe to show. */
export function providerName(name: unknown): string {
  return typeof name === 'string' && NAME.test(name) ? name : 'unknown';
}

/**
 * The dialler's refusal: `who` (default `the peer`) uses another provider, and how to join it, such as
 * `the peer uses the TLS provider: pass --security DIR --node NAME (not --dev) to join it`.
 */
export function mismatchError(m: ProviderMismatch, who = 'the peer', cause?: unknown): L8Error {
  const name = providerName(m.peerProvider);
  const d = DESCRIBED[name] ?? { uses: `uses the ${shown(name)} provider`, join: 'join it with the same provider' };
  const detail = m.detail === undefined ? '' : ` (${m.detail})`;
  const data: ProviderMismatch = { peerProvider: name, ...(m.detail === undefined ? {} : { detail: m.detail }) };
  return l8error('L8_ERR_AUTH', `${who} ${d.uses}: ${d.join}${detail}`, { data, ...(cause ? { cause } : {}) });
}

/** The acceptor's refusal, for its log: a peer of `peerProvider` dialled this node of `own`. */
export function refusedMismatch(peerProvider: unknown, own: string): L8Error {
  const name = providerName(peerProvider);
  return l8error(
    'L8_ERR_AUTH',
    `refused a peer that uses the ${shown(name)} provider: this node uses the ${shown(own)} provider`,
  );
}

/** A provider's name in a sentence. */
function shown(name: string): string {
  return name === 'tls' ? 'TLS' : name;
}

/**
 * A dialler's mismatch error (its own or one read from the peer's fail frame) told again with `who`, such
 * as `the VNet at 10.0.0.1:26000`; any other error is returned as it is.
 */
export function namePeer(err: L8Error, who: string): L8Error {
  const m = mismatchOf(err);
  return m === undefined ? err : mismatchError(m, who, err);
}

/** The mismatch an error carries, checked (its data may come from the peer). */
function mismatchOf(err: L8Error): ProviderMismatch | undefined {
  if (err.code !== 'L8_ERR_AUTH' || typeof err.data !== 'object' || err.data === null) return undefined;
  const { peerProvider, detail } = err.data as Record<string, unknown>;
  if (typeof peerProvider !== 'string' || !NAME.test(peerProvider)) return undefined;
  if (typeof detail === 'string' && /^[\w .-]{1,64}$/.test(detail)) return { peerProvider, detail };
  return { peerProvider };
}
