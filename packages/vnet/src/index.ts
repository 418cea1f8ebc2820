/** @layer8/vnet: the switch (DESIGN.md §1, §3-§5; docs/overlay.md). */
export { type AdmissionLimits, DEFAULT_ADMISSION_LIMITS } from './admission.ts';
export { type DropCounters, RECEIVER_HIGH_WATER } from './connection.ts';
export type { DiscoveryOptions } from './discovery.ts';
export type { ControlCounters } from './link-rounds.ts';
export { REDIAL } from './peer-dialer.ts';
export { FLOW_LEASE_MS, PeerFlow } from './peer-flow.ts';
export { VNet } from './vnet.ts';
export type { HandshakeResult, LinkKind, LinkTraffic, VNetCounters } from './vnet-counters.ts';
export {
  DEFAULT_VNET_PORT,
  defaultSocketDir,
  defaultSocketPath,
  type VNetAddresses,
  type VNetLogger,
  type VNetOptions,
} from './vnet-options.ts';
