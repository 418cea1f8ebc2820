import { isNodeId, MAX_SERVICE_BYTES, type NodeId } from '@layer8/protocol';
import { z } from 'zod';
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
  /** Longest certificate subject carried in a record. */
  maxSubject: 255,
  /** Largest record as JSON, bytes: announcements that would make it larger are refused (`L8_ERR_LIMIT`). */
  maxRecordBytes: 64 * 1024,
} as const;

const nodeId = z.custom<NodeId>((v) => isNodeId(v), { message: 'not a node id' });
const count = z.number().finite().nonnegative();
const epochMs = z.number().finite().nonnegative();

/** A (service, area) pair: a non-empty name of at most 255 UTF-8 bytes and an area in 0..65535. */
export const serviceAreaSchema = z.object({
  service: z.string().refine((s) => s.length > 0 && Buffer.byteLength(s) <= MAX_SERVICE_BYTES, 'bad service name'),
  area: z.number().int().min(0).max(65535),
}) satisfies z.ZodType<ServiceArea>;

/** The services one node announces: bounded by {@link HEALTH_LIMITS}. */
export const servicesSchema = z.array(serviceAreaSchema).max(HEALTH_LIMITS.maxServicesPerNode);

/** Load figures: finite non-negative numbers only. */
export const statsSchema = z.object({
  framesIn: count,
  framesOut: count,
  bytesIn: count,
  bytesOut: count,
  cpuUs: count,
  rssBytes: count,
  heapUsedBytes: count,
  eventLoopDelayMs: count,
}) satisfies z.ZodType<NodeStats>;

/** One record as it crosses a link; unknown fields are stripped, so only these are ever stored. */
export const recordSchema = z.object({
  id: nodeId,
  vnet: nodeId,
  alias: z.string().max(HEALTH_LIMITS.maxAlias),
  role: z.enum(['vnic', 'vnet']),
  services: servicesSchema,
  status: z.enum(['up', 'unreachable']),
  startedAt: epochMs,
  updatedAt: epochMs,
  stats: statsSchema.exactOptional(),
  subject: z.string().max(HEALTH_LIMITS.maxSubject).exactOptional(),
}) satisfies z.ZodType<HealthRecord>;

/** A delta from its writer, with bounded lists. */
export const deltaSchema = z.object({
  vnet: nodeId,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  full: z.boolean(),
  part: z.boolean().exactOptional(),
  upsert: z.array(recordSchema).max(HEALTH_LIMITS.maxRecordsPerDelta),
  remove: z.array(nodeId).max(HEALTH_LIMITS.maxRecordsPerDelta),
  stats: z.boolean().exactOptional(),
}) satisfies z.ZodType<HealthDelta>;

/**
 * Checks a delta received from a link against {@link deltaSchema}; returns a clean copy (unknown fields
 * dropped), or undefined when anything in it is malformed or over a bound.
 */
export function parseDelta(value: unknown): HealthDelta | undefined {
  const r = deltaSchema.safeParse(value);
  return r.success ? r.data : undefined;
}

/** Checks a list of announced services; undefined when malformed or over the bound. */
export function parseServices(value: unknown): ServiceArea[] | undefined {
  const r = servicesSchema.safeParse(value);
  return r.success ? r.data : undefined;
}

/** Checks load figures; undefined when malformed. */
export function parseStats(value: unknown): NodeStats | undefined {
  const r = statsSchema.safeParse(value);
  return r.success ? r.data : undefined;
}
