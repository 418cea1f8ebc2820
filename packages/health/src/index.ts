/** @layer8/health: health records, the replicated table and load sampling (DESIGN.md §5). */
export {
  type LocalControl,
  localControlSchema,
  type PeerControl,
  parseLocalControl,
  parsePeerControl,
  parseVNetControl,
  peerControlSchema,
  type VNetControl,
  vnetControlSchema,
} from './control.ts';
export { type HealthEvent, type HealthListener, HealthTable, type RecordGuard } from './health-table.ts';
export type {
  HealthDelta,
  HealthRecord,
  NodeStats,
  NodeStatus,
  ServiceArea,
} from './record.ts';
export {
  deltaSchema,
  HEALTH_LIMITS,
  parseDelta,
  parseServices,
  parseStats,
  recordSchema,
  serviceAreaSchema,
  servicesSchema,
  statsSchema,
} from './schema.ts';
export { StatsSampler, type TrafficCounters } from './stats.ts';
