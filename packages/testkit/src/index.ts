/** @layer8/testkit: real components on port 0 and distinct loopback addresses, waits, faults. */
export {
  Agent,
  type AgentConfig,
  type FaultMode,
  FaultProxy,
  freePort,
  hostAddress,
  tempDir,
} from '@layer8/chaos';
export { type TempOverlay, tempOverlay } from './overlay-ca.ts';
export {
  type ProcessTopology,
  type ProcessTopologyOptions,
  startProcessTopology,
} from './proc/process-topology.ts';
export { DEV_PASSPHRASE, devProvider } from './providers.ts';
export { startTopology, type Topology, type TopologyOptions } from './topology.ts';
export { type WaitOptions, waitFor, waitForEvent, withDeadline } from './wait.ts';
