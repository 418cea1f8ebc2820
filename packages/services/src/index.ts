/** @layer8/services: service manager, SLAs, stateful services and typed clients (docs/services.md). */

export { type CallOptions, type ClientTarget, type LocalReader, type QueryPage, ServiceClient } from './client.ts';
export { EntityCache, type Held, newer, type Tombstone } from './entity-cache.ts';
export { type MapFn, type MapReduceResult, type MapRequest, shareOf } from './map-reduce.ts';
export {
  type ChangeListener,
  ServiceManager,
  type ServiceManagerOptions,
  type ServiceStatus,
} from './service-manager.ts';
export type {
  ActionHandler,
  ActionName,
  AfterCallback,
  BeforeCallback,
  Contract,
  ServiceCounters,
  ServiceLevelAgreement,
  StorageSpec,
  WebExposure,
  WriteInfo,
} from './sla.ts';
export { changesOf, type InstanceState, StatefulInstance } from './stateful-service.ts';
export {
  DEFAULT_MAX_LIMIT,
  fileSetOf,
  modelOf,
  WEB_SERVICE,
  type WebAnswer,
  type WebDescriptor,
  webDescriptor,
} from './web.ts';
export type { GetRequest } from './wire.ts';
export type { ConsistencyContract, PreparedWrite, WriteRequest } from './write-path.ts';
