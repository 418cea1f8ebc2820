/**
 * Internals of @layer8/vnic for the benchmarks and tests of this repository (`@layer8/vnic/internal`):
 * not part of the public API, they change without notice.
 */

export { Context } from './context.ts';
export { HOT_COUNT, HOT_WINDOW } from './direct/hot-nodes.ts';
export { Dispatcher, headerFits } from './dispatch.ts';
export { InstancePicker } from './instance-picker.ts';
export { Lifecycle } from './lifecycle.ts';
export { encodePayload } from './payload.ts';
export { PendingTable, SWEEP_MS } from './pending.ts';
