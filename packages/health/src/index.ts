/** @layer8/health: health records, the replicated table and load sampling (DESIGN.md §5). */
export {
  DIRECT_PATH_MAX,
  type LocalControl,
  type PeerControl,
  parseLocalControl,
  parsePeerControl,
  parseVNetControl,
  parseWireError,
  type VNetControl,
} from './control.ts';
export {
  type HealthEvent,
  type HealthListener,
  HealthTable,
  type HealthView,
  type RecordGuard,
} from './health-table.ts';
export type {
  HealthDelta,
  HealthRecord,
  NodeStats,
  NodeStatus,
  ServiceArea,
} from './record.ts';
export {
  arrayOf,
  HEALTH_LIMITS,
  parseDelta,
  parseRecord,
  parseServiceArea,
  parseServices,
  parseStats,
} from './schema.ts';
export { StatsSampler, type TrafficCounters } from './stats.ts';
