/** @layer8/vnic: the client library (DESIGN.md §1, §4; docs/overlay.md). */

export { discoverVNet, parseAddress, VNET_PORT, VNET_SOCKET } from './discovery.ts';
export type { DispatchLimits, Handler, ReplyContext, Subscription, VNicDrops } from './dispatch.ts';
export { InstancePicker } from './instance-picker.ts';
export { encodePayload, Incoming, type Payload } from './payload.ts';
export { PendingTable, SWEEP_MS } from './pending.ts';
export { VNic, type VNicState } from './vnic.ts';
export type { InstanceMode, LeaderResolver, RequestOptions, Target, VNicOptions } from './vnic-options.ts';
