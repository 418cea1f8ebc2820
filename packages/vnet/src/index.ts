/** @layer8/vnet: the switch (DESIGN.md §1, §3-§5; docs/overlay.md). */
export type { DropCounters } from './connection.ts';
export type { ControlCounters } from './control-plane.ts';
export type { DiscoveryOptions } from './discovery.ts';
export { REDIAL } from './peer-dialer.ts';
export { VNet } from './vnet.ts';
export {
  DEFAULT_VNET_PORT,
  defaultSocketPath,
  type VNetAddresses,
  type VNetLogger,
  type VNetOptions,
} from './vnet-options.ts';
