import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinkAddress } from '@layer8/link';
import type { NodeId } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import type { AdmissionLimits } from './admission.ts';
import type { DiscoveryOptions } from './discovery.ts';

/** Default TCP port of a VNet. */
export const DEFAULT_VNET_PORT = 26000;

/**
 * Default directory of the VNet's unix socket: one the VNet's user owns, never a shared one another local
 * user could create first. `$XDG_RUNTIME_DIR/layer8` when set, `/run/layer8` for root, otherwise
 * `${tmpdir()}/layer8-<uid>` (`${tmpdir()}/layer8` where there are no uids). The VNet creates it 0700 and
 * refuses it when it is a symlink, owned by another user or writable by group or others.
 * `@layer8/vnic` applies the same rule (`defaultVNetSocket`); a test keeps the two equal.
 */
export function defaultSocketDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'layer8');
  if (uid === 0) return '/run/layer8';
  return join(tmpdir(), uid === undefined ? 'layer8' : `layer8-${uid}`);
}

/**
 * Default unix socket path of the VNet: `vnet.sock` on the default port, `vnet-<port>.sock` otherwise, in
 * {@link defaultSocketDir} (e.g. `/run/layer8/vnet.sock` for root).
 */
export function defaultSocketPath(
  port = DEFAULT_VNET_PORT,
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.(),
): string {
  const dir = defaultSocketDir(env, uid);
  return port === DEFAULT_VNET_PORT ? join(dir, 'vnet.sock') : join(dir, `vnet-${port}.sock`);
}

/** Options of a {@link VNet}. */
export interface VNetOptions {
  /** The security provider every link runs. */
  readonly provider: SecurityProvider;
  /** TCP listen address. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default {@link DEFAULT_VNET_PORT}. */
  readonly port?: number;
  /** Unix socket path, or false for none. Default {@link defaultSocketPath}. */
  readonly socketPath?: string | false;
  /** Static peers to dial and keep dialled. */
  readonly peers?: readonly LinkAddress[];
  /** UDP broadcast discovery of other VNets; off when not given. */
  readonly discovery?: DiscoveryOptions;
  /** A stable node id for this VNet; default a fresh one. */
  readonly id?: NodeId;
  /** Human name. Default `vnet@host:port`. */
  readonly alias?: string;
  /** Heartbeat deadline per link, ms. Default `DEFAULT_HEARTBEAT_MS` of `@layer8/protocol` (3000). */
  readonly heartbeatMs?: number;
  /** How often load statistics are refreshed and sent, ms. Default `DEFAULT_STATS_MS` (10000). */
  readonly statsMs?: number;
  /** Largest frame accepted, bytes. Default 16 MiB. */
  readonly maxFrame?: number;
  /** Send queue limit per link, bytes. Default `DEFAULT_MAX_QUEUED_BYTES` (8 MiB). */
  readonly maxQueuedBytes?: number;
  /** Deadline of link setup, ms. Default `DEFAULT_HANDSHAKE_MS` (5000). */
  readonly handshakeMs?: number;
  /** How often open links are re-checked against the provider (revocation list, expiry), ms. Default 1000. */
  readonly recheckMs?: number;
  /** Per-identity bounds (links per certificate, services per node). Defaults in `DEFAULT_ADMISSION_LIMITS`. */
  readonly limits?: Partial<AdmissionLimits>;
  /** Connections allowed to be in their handshake at once, in total. Default 256. */
  readonly maxPendingHandshakes?: number;
  /** Connections allowed to be in their handshake at once from one remote address. Default 16. */
  readonly maxPendingPerAddress?: number;
  /** Structured log sink (pino-compatible `warn`/`info`). Default: silent. */
  readonly logger?: VNetLogger;
}

/**
 * The subset of a pino logger a VNet uses. `warn`: faults (a link refused or closed by an error, a
 * failed peer dial); `info`: changes of the overlay (`vnet listening`, `peer link up`, `peer link down`,
 * discovery); `debug` (optional): the expected noise of links closing, such as a write that raced the
 * other end's close (`EPIPE`, `ECONNRESET`).
 */
export interface VNetLogger {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Where a started VNet listens. */
export interface VNetAddresses {
  readonly tcp: { readonly host: string; readonly port: number };
  readonly unix?: string;
}
