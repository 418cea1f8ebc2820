import { isNodeId, MAX_SERVICE_BYTES, type NodeId } from '@layer8/protocol';
import type { HealthDelta, HealthRecord, NodeStats, ServiceArea } from './record.ts';

/**
 * Bounds on what one node's record may hold (DESIGN.md §5; docs/security.md "Threat model"): a peer or a
 * VNic that announces more is refused, so no member can grow another's tables without limit.
 */
export const HEALTH_LIMITS = {
  /** Largest alias, UTF-16 code units (the hello's alias is bounded the same way). */
  maxAlias: 255,
  /** (service, area) pairs one node may host. */
  maxServicesPerNode: 512,
  /** Records or removals in one delta (a full slice of a large VNet included). */
  maxRecordsPerDelta: 65_536,
  /** Records one peer VNet may hold in a table (its slice): more are skipped and counted. */
  maxRecordsPerWriter: 4096,
  /** Longest certificate subject carried in a record. */
  maxSubject: 255,
  /** Largest record as JSON, bytes: announcements that would make it larger are refused (`L8_ERR_LIMIT`). */
  maxRecordBytes: 64 * 1024,
} as const;

/**
 * The schemas of what crosses a link, as parse functions: each takes an untrusted value (parsed JSON)
 * and returns a clean copy holding only the known fields, or undefined when anything is malformed or
 * over a bound. They are hand-written rather than built with a schema library: loading zod or valibot
 * in every process cost 15-30 MB of RSS and about 40 % of the request rate at 100 in flight in the
 * overlay benchmark (bench/README.md), for about a hundred lines of checks.
 */

/** A plain object (not null, not an array), for reading fields from; undefined otherwise. */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `value` as an array of at most `max` items each accepted by `item`, or undefined. */
export function arrayOf<T>(value: unknown, max: number, item: (v: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(value) || value.length > max) return undefined;
  const out: T[] = [];
  for (const v of value) {
    const x = item(v);
    if (x === undefined) return undefined;
    out.push(x);
  }
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isShortString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const nodeIdOf = (v: unknown): NodeId | undefined => (isNodeId(v) ? v : undefined);

/** A (service, area) pair: a non-empty name of at most 255 UTF-8 bytes and an area in 0..65535. */
export function parseServiceArea(value: unknown): ServiceArea | undefined {
  const o = objectOf(value);
  const service = o?.service;
  const area = o?.area;
  const state = o?.state;
  if (typeof service !== 'string' || service.length === 0 || Buffer.byteLength(service) > MAX_SERVICE_BYTES) {
    return undefined;
  }
  if (state !== undefined && state !== 'recovering' && state !== 'serving') return undefined;
  if (!Number.isInteger(area) || (area as number) < 0 || (area as number) > 65535) return undefined;
  return state === undefined ? { service, area: area as number } : { service, area: area as number, state };
}

/** Announced services, bounded by `max` (default {@link HEALTH_LIMITS}.maxServicesPerNode). */
export function parseServices(
  value: unknown,
  max: number = HEALTH_LIMITS.maxServicesPerNode,
): ServiceArea[] | undefined {
  return arrayOf(value, max, parseServiceArea);
}

const STATS_FIELDS = [
  'framesIn',
  'framesOut',
  'bytesIn',
  'bytesOut',
  'cpuUs',
  'rssBytes',
  'heapUsedBytes',
  'eventLoopDelayMs',
] as const;

/** Load figures: finite non-negative numbers only. */
export function parseStats(value: unknown): NodeStats | undefined {
  const o = objectOf(value);
  if (o === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const f of STATS_FIELDS) {
    const v = o[f];
    if (!isCount(v)) return undefined;
    out[f] = v;
  }
  return out as unknown as NodeStats;
}

/** One record as it crosses a link; only the known fields are kept. */
export function parseRecord(value: unknown): HealthRecord | undefined {
  const o = objectOf(value);
  if (o === undefined) return undefined;
  const id = nodeIdOf(o.id);
  const vnet = nodeIdOf(o.vnet);
  const services = parseServices(o.services);
  const { alias, role, status, startedAt, updatedAt } = o;
  const ok =
    id !== undefined &&
    vnet !== undefined &&
    services !== undefined &&
    isShortString(alias, HEALTH_LIMITS.maxAlias) &&
    (role === 'vnic' || role === 'vnet') &&
    (status === 'up' || status === 'unreachable') &&
    isCount(startedAt) &&
    isCount(updatedAt);
  if (!ok) return undefined;
  const r = withOptional({ id, vnet, alias, role, services, status, startedAt, updatedAt }, o);
  // a VNet refuses announcements past maxRecordBytes; twice that leaves room for JSON escapes
  return r !== undefined && Buffer.byteLength(JSON.stringify(r)) <= 2 * HEALTH_LIMITS.maxRecordBytes ? r : undefined;
}

function withOptional(r: HealthRecord, o: Record<string, unknown>): HealthRecord | undefined {
  let out = r;
  if (o.stats !== undefined) {
    const stats = parseStats(o.stats);
    if (stats === undefined) return undefined;
    out = { ...out, stats };
  }
  if (o.subject !== undefined) {
    if (!isShortString(o.subject, HEALTH_LIMITS.maxSubject)) return undefined;
    out = { ...out, subject: o.subject };
  }
  return out;
}

/**
 * Checks a delta received from a link; returns a clean copy (unknown fields dropped), or undefined when
 * anything in it is malformed or over a bound.
 */
export function parseDelta(value: unknown): HealthDelta | undefined {
  const o = objectOf(value);
  if (o === undefined) return undefined;
  const vnet = nodeIdOf(o.vnet);
  const upsert = arrayOf(o.upsert, HEALTH_LIMITS.maxRecordsPerDelta, parseRecord);
  const remove = arrayOf(o.remove, HEALTH_LIMITS.maxRecordsPerDelta, nodeIdOf);
  const { seq, full, part, stats } = o;
  const ok =
    vnet !== undefined &&
    upsert !== undefined &&
    remove !== undefined &&
    Number.isSafeInteger(seq) &&
    (seq as number) >= 0 &&
    typeof full === 'boolean' &&
    (part === undefined || typeof part === 'boolean') &&
    (stats === undefined || typeof stats === 'boolean');
  if (!ok) return undefined;
  const d: HealthDelta = { vnet, seq: seq as number, full, upsert, remove };
  return { ...d, ...(part === undefined ? {} : { part }), ...(stats === undefined ? {} : { stats }) };
}
