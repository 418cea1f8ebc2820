import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId } from '@layer8/protocol';
import type { LinkAddress, SecurityProvider } from '@layer8/security';
import type { DiscoveryOptions } from './discovery.ts';

/** Default TCP port of a VNet. */
export const DEFAULT_VNET_PORT = 26000;

/** Default unix socket path of the VNet on the default port (`/tmp/layer8/vnet.sock`). */
export function defaultSocketPath(port = DEFAULT_VNET_PORT): string {
  const dir = join(tmpdir(), 'layer8');
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
  /** Heartbeat deadline per link, ms. Default 3000. */
  readonly heartbeatMs?: number;
  /** How often load statistics are refreshed and sent, ms. Default 10000. */
  readonly statsMs?: number;
  /** Largest frame accepted, bytes. Default 16 MiB. */
  readonly maxFrame?: number;
  /** Send queue limit per link, bytes. Default 8 MiB. */
  readonly maxQueuedBytes?: number;
  /** Deadline of link setup, ms. Default 5000. */
  readonly handshakeMs?: number;
  /** Structured log sink (pino-compatible `warn`/`info`). Default: silent. */
  readonly logger?: VNetLogger;
}

/** The subset of a pino logger a VNet uses. */
export interface VNetLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Where a started VNet listens. */
export interface VNetAddresses {
  readonly tcp: { readonly host: string; readonly port: number };
  readonly unix?: string;
}
