import { isNodeId, type NodeId, type WireError } from '@layer8/protocol';
import type { HealthDelta, NodeStats, ServiceArea } from './record.ts';
import { arrayOf, HEALTH_LIMITS, objectOf, parseDelta, parseServices, parseStats } from './schema.ts';

/**
 * The control messages of the overlay (docs/protocol.md §6.3) as parse functions: every CONTROL body a
 * link delivers is checked against what that kind of link may send before anything is stored. A body
 * that matches no message closes the link with `L8_ERR_MALFORMED_FRAME`.
 */

/** Announced services are parsed up to this many; the per-node bound is a limit (`L8_ERR_LIMIT`), not a malformed frame. */
const ANNOUNCED_MAX = 65_536;

/** A control message from a local VNic. */
export type LocalControl =
  | { readonly t: 'hb' }
  | { readonly t: 'resync' }
  | { readonly t: 'bye' }
  /** Whether this VNic wants every node's load figures (`stats` deltas); off until it asks. */
  | { readonly t: 'watch'; readonly stats: boolean }
  | { readonly t: 'services'; readonly services: ServiceArea[] }
  | { readonly t: 'stats'; readonly stats: NodeStats }
  /** The VNic accepts direct links from VNics on its host at this unix socket path (the same-host short cut). */
  | { readonly t: 'direct'; readonly path: string }
  /** The VNic asks to be introduced to `node`, a VNic of the same VNet, for a direct link. */
  | { readonly t: 'introduce'; readonly node: NodeId };

/** A control message from a peer VNet. */
export type PeerControl =
  /** A heartbeat; `watch`: the sender watches this link and asks for heartbeats back; `probe`: answer at once. */
  | { readonly t: 'hb'; readonly watch?: boolean; readonly probe?: boolean }
  | { readonly t: 'resync' }
  /** The sender watches `vnet` and has heard nothing from it for most of the deadline. */
  | { readonly t: 'suspect'; readonly vnet: NodeId }
  /** Whether the sender has local VNics that want load figures (`stats` deltas of the receiver's slice). */
  | { readonly t: 'watch'; readonly stats: boolean }
  | { readonly t: 'health'; readonly delta: HealthDelta }
  | { readonly t: 'close'; readonly error: WireError }
  /** Flow control: frames for `node` (a local VNic of the sender) should wait (`paused`) or may go again. */
  | { readonly t: 'flow'; readonly node: NodeId; readonly paused: boolean };

/** A control message from a VNet to its VNic. */
export type VNetControl =
  | { readonly t: 'hb' }
  | { readonly t: 'health'; readonly deltas: HealthDelta[] }
  | { readonly t: 'drop'; readonly vnet: NodeId }
  | { readonly t: 'close'; readonly error: WireError }
  /** `node` may dial this VNic directly once, proving itself with `token`; this VNic answers with `reply`. */
  | { readonly t: 'expect'; readonly node: NodeId; readonly token: string; readonly reply: string }
  /** The answer to `introduce`: where `node` listens and the tokens, or the code it was refused with. */
  | {
      readonly t: 'introduced';
      readonly node: NodeId;
      readonly path?: string;
      readonly token?: string;
      readonly reply?: string;
      readonly refused?: string;
    };

/** Longest unix socket path a VNic may announce for direct links (Linux's `sun_path` is 108 bytes). */
export const DIRECT_PATH_MAX = 107;

/** Tokens of an introduction: 16 random bytes in base64url. */
const TOKEN = /^[A-Za-z0-9_-]{22}$/;

/** A wire error (docs/protocol.md §5) with a bounded code and message; `data` is kept as sent. */
export function parseWireError(value: unknown): WireError | undefined {
  const o = objectOf(value);
  if (typeof o?.code !== 'string' || o.code.length > 64 || typeof o.message !== 'string' || o.message.length > 4096) {
    return undefined;
  }
  const retryable = typeof o.retryable === 'boolean' ? { retryable: o.retryable } : {};
  return o.data === undefined
    ? { code: o.code, message: o.message, ...retryable }
    : { code: o.code, message: o.message, data: o.data, ...retryable };
}

/** Checks a control body from a local VNic; undefined when it matches no message. */
export function parseLocalControl(value: unknown): LocalControl | undefined {
  const o = objectOf(value);
  if (o?.t === 'hb' || o?.t === 'resync' || o?.t === 'bye') return { t: o.t };
  if (o?.t === 'watch') return typeof o.stats === 'boolean' ? { t: 'watch', stats: o.stats } : undefined;
  if (o?.t === 'direct') return isDirectPath(o.path) ? { t: 'direct', path: o.path } : undefined;
  if (o?.t === 'introduce') return isNodeId(o.node) ? { t: 'introduce', node: o.node } : undefined;
  if (o?.t === 'services') {
    const services = parseServices(o.services, ANNOUNCED_MAX);
    return services === undefined ? undefined : { t: 'services', services };
  }
  if (o?.t === 'stats') {
    const stats = parseStats(o.stats);
    return stats === undefined ? undefined : { t: 'stats', stats };
  }
  return undefined;
}

/** Checks a control body from a peer VNet; undefined when it matches no message. */
export function parsePeerControl(value: unknown): PeerControl | undefined {
  const o = objectOf(value);
  if (o?.t === 'hb') return { t: 'hb', watch: o.watch === true, probe: o.probe === true };
  if (o?.t === 'resync') return { t: 'resync' };
  if (o?.t === 'health') {
    const delta = parseDelta(o.delta);
    return delta === undefined ? undefined : { t: 'health', delta };
  }
  if (o?.t === 'suspect') return isNodeId(o.vnet) ? { t: 'suspect', vnet: o.vnet } : undefined;
  if (o?.t === 'watch') return typeof o.stats === 'boolean' ? { t: 'watch', stats: o.stats } : undefined;
  if (o?.t === 'flow') {
    return isNodeId(o.node) && typeof o.paused === 'boolean'
      ? { t: 'flow', node: o.node, paused: o.paused }
      : undefined;
  }
  return o?.t === 'close' ? closeOf(o) : undefined;
}

/** Checks a control body from the VNet (VNic side); undefined when it matches no message. */
export function parseVNetControl(value: unknown): VNetControl | undefined {
  const o = objectOf(value);
  if (o?.t === 'hb') return { t: 'hb' };
  if (o?.t === 'health') {
    const deltas = arrayOf(o.deltas, HEALTH_LIMITS.maxRecordsPerDelta, parseDelta);
    return deltas === undefined ? undefined : { t: 'health', deltas };
  }
  if (o?.t === 'drop') return isNodeId(o.vnet) ? { t: 'drop', vnet: o.vnet } : undefined;
  if (o?.t === 'expect') return expectOf(o);
  if (o?.t === 'introduced') return introducedOf(o);
  return o?.t === 'close' ? closeOf(o) : undefined;
}

function isDirectPath(p: unknown): p is string {
  return typeof p === 'string' && p.startsWith('/') && Buffer.byteLength(p) <= DIRECT_PATH_MAX && !p.includes('\0');
}

function isToken(t: unknown): t is string {
  return typeof t === 'string' && TOKEN.test(t);
}

function expectOf(o: Record<string, unknown>): VNetControl | undefined {
  if (!isNodeId(o.node) || !isToken(o.token) || !isToken(o.reply)) return undefined;
  return { t: 'expect', node: o.node, token: o.token, reply: o.reply };
}

function introducedOf(o: Record<string, unknown>): VNetControl | undefined {
  if (!isNodeId(o.node)) return undefined;
  if (typeof o.refused === 'string' && o.refused.length <= 64)
    return { t: 'introduced', node: o.node, refused: o.refused };
  if (!isDirectPath(o.path) || !isToken(o.token) || !isToken(o.reply)) return undefined;
  return { t: 'introduced', node: o.node, path: o.path, token: o.token, reply: o.reply };
}

function closeOf(o: Record<string, unknown>): { t: 'close'; error: WireError } | undefined {
  const error = parseWireError(o.error);
  return error === undefined ? undefined : { t: 'close', error };
}
