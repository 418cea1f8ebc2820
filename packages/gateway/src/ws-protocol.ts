import type { JsonValue } from '@bufbuild/protobuf';
import { type ErrorCode, L8Error, l8error } from '@layer8/protocol';
import type { DirectoryCounters } from './directory.ts';
import { MAX_QUERY_CHARS } from './query.ts';
import type { SystemView } from './system-feed.ts';

/** The path of the WebSocket push endpoint (docs/gateway.md, "WebSocket push"). */
export const WS_PATH = '/ws';
/** The subprotocol a client offers; the server always selects it. */
export const WS_PROTOCOL = 'l8.v1';
/** Prefix of the subprotocol that carries a bearer token (`l8.bearer.<token>`), for browsers. */
export const WS_BEARER_PREFIX = 'l8.bearer.';

/** Close codes of the push endpoint (RFC 6455 §7.4; reasons are Layer8 codes). */
export const WsClose = {
  /** The gateway is closing. */
  GOING_AWAY: 1001,
  /** A message over the size limit (sent by `ws` itself). */
  TOO_BIG: 1009,
  /** The client did not read fast enough: its send buffer passed the high-water mark. */
  SLOW: 1013,
  /** No pong since the last ping. */
  DEAD: 4000,
  /** The connection's token expired or was revoked (checked at every heartbeat). */
  UNAUTHORIZED: 4001,
} as const;

/** Limits of the push endpoint; every one has a default (see `WsOptions`). */
export interface WsLimits {
  /** Subscriptions one connection may hold. Default 16. */
  readonly maxSubscriptions: number;
  /** Largest message a client may send, bytes. Default 64 KiB. */
  readonly maxMessageBytes: number;
  /** Bytes waiting to be sent to one client past which it is cut (1013). Default 1 MiB. */
  readonly highWaterMark: number;
  /** Interval of pings, ms; a client that has not answered the previous one is cut (4000). Default 30000. */
  readonly pingIntervalMs: number;
  /** Connections at once; more are refused with 503. Default 1000. */
  readonly maxConnections: number;
  /** Notifications waiting per service before its subscriptions are resynced instead. Default 10000. */
  readonly maxQueued: number;
  /** Deadline of one fetch (snapshot or entity) from the service, ms. Default 10000. */
  readonly fetchTimeoutMs: number;
}

/** Defaults of {@link WsLimits}. */
export const WS_DEFAULTS: WsLimits = {
  maxSubscriptions: 16,
  maxMessageBytes: 64 * 1024,
  highWaterMark: 1024 * 1024,
  pingIntervalMs: 30_000,
  maxConnections: 1000,
  maxQueued: 10_000,
  fetchTimeoutMs: 10_000,
};

/** Counters of the push endpoint (they only grow, but `open`). */
export interface WsCounters {
  /** Upgrades accepted. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Upgrades refused (path, query string, origin, token, too many connections). */
  refused: number;
  /** Clients cut for passing the high-water mark (1013). */
  slow: number;
  /** Clients cut for not answering a ping (4000). */
  dead: number;
  /** Clients cut because their token expired or was revoked while connected (4001). */
  expired: number;
  /** Messages sent to clients. */
  sent: number;
  /** Client messages refused (not JSON, unknown op, over a limit). */
  badMessages: number;
  /** Changes whose change set did not follow the version a client held: the full item was sent instead. */
  gaps: number;
  /** Snapshots sent again: a gap in a source's sequence, a failed fetch, or a full queue. */
  resyncs: number;
  /** Notifications dropped: not from an instance of the service, or not decodable. */
  dropped: number;
}

/** `{op:'subscribe'}`: follow the result of `q` on (area, service). */
export interface SubscribeMessage {
  readonly op: 'subscribe';
  readonly id: string;
  readonly area: number;
  readonly service: string;
  readonly q: string | undefined;
}

/** `{op:'unsubscribe'}`: stop following subscription `id`. */
export interface UnsubscribeMessage {
  readonly op: 'unsubscribe';
  readonly id: string;
}

/** `{op:'watch'}`: receive the dashboard's view of the overlay (topic `system`), now and as it changes. */
export interface WatchMessage {
  readonly op: 'watch';
  readonly id: string;
  readonly topic: 'system';
}

/** `{op:'unwatch'}`: stop watch `id`. */
export interface UnwatchMessage {
  readonly op: 'unwatch';
  readonly id: string;
}

/** What a client may send. */
export type ClientMessage = SubscribeMessage | UnsubscribeMessage | WatchMessage | UnwatchMessage;

/** One entity of a snapshot. */
export interface SnapshotItem {
  readonly key: string;
  readonly version: number;
  readonly item: JsonValue;
}

/** One change of a field, in canonical JSON. */
export interface ChangeJson {
  readonly path: string;
  readonly op: 'set' | 'delete';
  readonly value?: JsonValue;
}

/** What the server sends. */
export type ServerMessage =
  | { readonly op: 'snapshot'; readonly id: string; readonly items: readonly SnapshotItem[]; readonly total: number }
  | {
      readonly op: 'change';
      readonly id: string;
      readonly key: string;
      readonly version: number;
      readonly kind: 'upsert' | 'delete';
      readonly item?: JsonValue;
      readonly fromVersion?: number;
      readonly changes?: readonly ChangeJson[];
    }
  | { readonly op: 'unsubscribed' | 'unwatched'; readonly id: string }
  | { readonly op: 'system'; readonly id: string; readonly view: DashboardView }
  | { readonly op: 'error'; readonly id?: string; readonly code: ErrorCode; readonly message: string };

const ID = /^[\w.:-]{1,64}$/;

/**
 * A client's message, checked. @throws L8_ERR_INVALID_ARGUMENT (with `data.id` when the id was readable)
 * for text that is not JSON, an unknown op, or a field of the wrong type or size
 */
export function parseClientMessage(text: string): ClientMessage {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw invalid('a message must be a JSON object');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid('a message must be a JSON object');
  const o = m as Record<string, unknown>;
  if (typeof o.id !== 'string' || !ID.test(o.id)) throw invalid('id must be 1 to 64 letters, digits or ._:-');
  const id = o.id;
  if (o.op === 'unsubscribe' || o.op === 'unwatch') return { op: o.op, id };
  if (o.op === 'watch') {
    if (o.topic !== 'system') throw invalid('topic must be "system"', id);
    return { op: 'watch', id, topic: 'system' };
  }
  if (o.op !== 'subscribe') throw invalid('op must be "subscribe", "unsubscribe", "watch" or "unwatch"', id);
  const area = o.area ?? 0;
  if (typeof area !== 'number' || !Number.isInteger(area) || area < 0 || area > 0xffff) {
    throw invalid('area must be a whole number from 0 to 65535', id);
  }
  if (typeof o.service !== 'string' || o.service === '') throw invalid('service must be a name', id);
  if (o.q !== undefined && (typeof o.q !== 'string' || o.q.length > MAX_QUERY_CHARS)) {
    throw invalid(`q must be L8QL of at most ${MAX_QUERY_CHARS} characters`, id);
  }
  return { op: 'subscribe', id, area, service: o.service, q: o.q as string | undefined };
}

/** The error message of a failure (the message of an unexpected one is hidden: it is logged instead). */
export function errorMessage(err: unknown, id?: string): ServerMessage {
  const e =
    err instanceof L8Error && err.code !== 'L8_ERR_INTERNAL' && err.code !== 'L8_ERR_HANDLER'
      ? err
      : l8error('L8_ERR_INTERNAL', 'the gateway failed to serve this subscription (logged)');
  const base = { op: 'error' as const, code: e.code, message: e.message };
  return id === undefined ? base : { ...base, id };
}

function invalid(message: string, id?: string): L8Error {
  return l8error('L8_ERR_INVALID_ARGUMENT', message, id === undefined ? {} : { data: { id } });
}

/** The gateway's figures added to each view. */
export interface GatewayFigures {
  /** HTTP requests served. */
  readonly requests: number;
  /** HTTP answers by status. */
  readonly byStatus: Readonly<Record<number, number>>;
  /** Routes published. */
  readonly routes: number;
  readonly push: WsCounters;
  readonly directory: DirectoryCounters;
}

/** What a watcher receives: the overlay and the gateway. */
export interface DashboardView extends SystemView {
  readonly gateway: GatewayFigures;
}
