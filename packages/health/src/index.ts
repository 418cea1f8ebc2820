/** @layer8/health: health records, the replicated table and load sampling (DESIGN.md §5). */
export { type HealthEvent, type HealthListener, HealthTable } from './health-table.ts';
export {
  type HealthDelta,
  type HealthRecord,
  type NodeStats,
  type NodeStatus,
  parseDelta,
  type ServiceArea,
} from './record.ts';
export { StatsSampler, type TrafficCounters } from './stats.ts';
