import type { NodeId } from '@layer8/protocol';
import type { LinkAddress, SecurityProvider } from '@layer8/security';

/** Options of a {@link VNic}. */
export interface VNicOptions {
  /** The security provider; must match the VNet's. */
  readonly provider: SecurityProvider;
  /** The VNet to use: an address, `host:port` or a unix socket path. Default: discovery (DESIGN.md §1). */
  readonly vnet?: LinkAddress | string;
  /** Environment for discovery (`L8_VNET`, `NODE_IP`). Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default unix socket path looked for by discovery. Default `/tmp/layer8/vnet.sock`. */
  readonly socketPath?: string;
  /** A stable node id; default a fresh one. Kept across reconnects either way. */
  readonly id?: NodeId;
  /** Human name. Default `vnic-<pid>`. */
  readonly alias?: string;
  /** Heartbeat deadline of the link, ms. Default 3000. */
  readonly heartbeatMs?: number;
  /** How often load statistics go to the VNet, ms. Default 10000. */
  readonly statsMs?: number;
  /** Default request deadline, ms. Default 30000. */
  readonly timeoutMs?: number;
  /** Requests in flight before `request` refuses with `L8_ERR_BACKPRESSURE`. Default 100000. */
  readonly maxPending?: number;
  /** Largest frame accepted, bytes. Default 16 MiB. */
  readonly maxFrame?: number;
  /** Send queue limit, bytes. Default 8 MiB. */
  readonly maxQueuedBytes?: number;
  /** Reconnect back-off: first delay and cap, ms. Default 100 and 5000. */
  readonly reconnect?: { readonly firstMs?: number; readonly maxMs?: number };
  /** Deadline of link setup, ms. Default 5000. */
  readonly handshakeMs?: number;
}

/** Single-instance modes a request or notify can use. */
export type InstanceMode = 'round-robin' | 'proximity' | 'local' | 'leader';

/** Whom a request goes to: one node, or one instance of (service, area) picked by `mode`. */
export type Target =
  | { readonly node: NodeId; readonly service: string; readonly area?: number }
  | { readonly service: string; readonly area?: number; readonly mode?: InstanceMode };

/** Options of {@link VNic.request}. */
export interface RequestOptions {
  /** Deadline, ms. Default the VNic's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Cancels the request (`L8_ERR_ABORTED`). */
  readonly signal?: AbortSignal;
  /** Action code (POST, GET, …). Default HANDLE. */
  readonly action?: number;
  /** AAA identity (user token). */
  readonly aaa?: string;
  /** W3C traceparent to carry. */
  readonly traceparent?: string;
  /** Receives intermediate replies. */
  readonly onProgress?: (progress: import('./payload.ts').Incoming) => void;
  /** Priority, 0 highest to 7. Default 4. */
  readonly priority?: number;
}

/** Resolves the leader of (service, area); filled by the election service. */
export type LeaderResolver = (service: string, area: number) => NodeId | undefined;
