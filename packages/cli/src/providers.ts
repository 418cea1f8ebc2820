import { hostname } from 'node:os';
import { l8error } from '@layer8/protocol';
import { DevProvider, type SecurityProvider, TlsProvider } from '@layer8/security';

/** The security options every command that joins the overlay takes. */
export interface SecurityFlags {
  /** Directory made by `l8 security init` (default TLS provider). */
  readonly security?: string;
  /** This node's certificate name in that directory. Default: the host name. */
  readonly node?: string;
  /** Shared passphrase of the dev provider (no TLS, loopback only). */
  readonly devPassphrase?: string;
  /** Lets the dev provider use non-loopback addresses. */
  readonly forceInsecure?: boolean;
}

/** The passphrase `npm start` and the CLI use when no security option is given (loopback only). */
export const DEFAULT_DEV_PASSPHRASE = 'layer8-local-dev-only';

/**
 * The provider the flags (or `L8_SECURITY`, `L8_NODE`, `L8_DEV_PASSPHRASE`) ask for; the dev provider
 * with the default passphrase when none is given.
 * @throws L8_ERR_INVALID_ARGUMENT when both kinds are given.
 */
export function providerFrom(
  flags: SecurityFlags,
  env: NodeJS.ProcessEnv,
  warn: (m: string) => void,
): SecurityProvider {
  const dir = flags.security ?? env.L8_SECURITY;
  const pass = flags.devPassphrase ?? env.L8_DEV_PASSPHRASE;
  if (dir !== undefined && pass !== undefined) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'give either --security DIR or --dev-passphrase, not both');
  }
  if (dir !== undefined) return new TlsProvider({ dir, node: flags.node ?? env.L8_NODE ?? hostname() });
  return new DevProvider({ passphrase: pass ?? DEFAULT_DEV_PASSPHRASE, force: flags.forceInsecure ?? false, warn });
}
