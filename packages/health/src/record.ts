import type { NodeId } from '@layer8/protocol';

/** A (service, area) pair a node hosts, with the instance's state when it says one. */
export interface ServiceArea {
  readonly service: string;
  readonly area: number;
  /** A stateful instance is `recovering` (loading its state, not serving yet) or `serving`. */
  readonly state?: 'recovering' | 'serving';
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
  /** The certificate subject that proved the node's link (its id is pinned to it while the record lives). */
  readonly subject?: string;
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
  /**
   * True for a later chunk of a full slice sent in parts (same `seq` as the full chunk that began it):
   * its records are added to the slice the full chunk replaced.
   */
  readonly part?: boolean;
}
