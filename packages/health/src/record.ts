import type { NodeId } from '@layer8/protocol';

/** A (service, area) pair a node hosts. */
export interface ServiceArea {
  readonly service: string;
  readonly area: number;
}

/** Load figures of a node; sent less often than liveness. */
export interface NodeStats {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** CPU time used since start, µs. */
  readonly cpuUs: number;
  /** Resident set size, bytes. */
  readonly rssBytes: number;
  /** Used heap, bytes. */
  readonly heapUsedBytes: number;
  /** Event-loop delay p99 over the last interval, ms. */
  readonly eventLoopDelayMs: number;
}

/** Liveness of a node. */
export type NodeStatus = 'up' | 'unreachable';

/** One node's health record (DESIGN.md §5). The node's VNet is its single writer. */
export interface HealthRecord {
  readonly id: NodeId;
  /** The VNet the node is attached to (a VNet's own record names itself). */
  readonly vnet: NodeId;
  readonly alias: string;
  readonly role: 'vnic' | 'vnet';
  readonly services: readonly ServiceArea[];
  readonly status: NodeStatus;
  /** Epoch ms the node started. */
  readonly startedAt: number;
  /** Epoch ms of the last change. */
  readonly updatedAt: number;
  readonly stats?: NodeStats;
}

/**
 * A VNet's change to its own slice of the table: records to upsert and node ids to remove. `full`
 * replaces the whole slice (the first message on a link, and after a resync).
 */
export interface HealthDelta {
  readonly vnet: NodeId;
  /** Per-writer sequence; a receiver that sees a gap asks for a full slice. */
  readonly seq: number;
  readonly full: boolean;
  readonly upsert: readonly HealthRecord[];
  readonly remove: readonly NodeId[];
  /** True when only load figures changed: receivers may batch it with others. */
  readonly stats?: boolean;
}

/** Checks the shape of a delta received from a peer; returns it typed, or undefined when malformed. */
export function parseDelta(value: unknown): HealthDelta | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const d = value as Record<string, unknown>;
  const ok =
    typeof d.vnet === 'string' &&
    Number.isSafeInteger(d.seq) &&
    typeof d.full === 'boolean' &&
    Array.isArray(d.upsert) &&
    d.upsert.every(isRecord) &&
    Array.isArray(d.remove) &&
    d.remove.every((x) => typeof x === 'string');
  return ok ? (d as unknown as HealthDelta) : undefined;
}

function isRecord(value: unknown): value is HealthRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.vnet === 'string' &&
    typeof r.alias === 'string' &&
    (r.role === 'vnic' || r.role === 'vnet') &&
    (r.status === 'up' || r.status === 'unreachable') &&
    Array.isArray(r.services) &&
    typeof r.startedAt === 'number'
  );
}
