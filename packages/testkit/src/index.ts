/** @layer8/testkit: real components on port 0 and distinct loopback addresses, waits, faults. */
export { type FaultMode, FaultProxy } from './fault-proxy.ts';
export { type TempOverlay, tempOverlay } from './overlay-ca.ts';
export { freePort, hostAddress, tempDir } from './ports.ts';
export type { AgentConfig } from './proc/agent-protocol.ts';
export {
  Agent,
  type ProcessTopology,
  type ProcessTopologyOptions,
  startProcessTopology,
} from './proc/process-topology.ts';
export { DEV_PASSPHRASE, devProvider } from './providers.ts';
export { startTopology, type Topology, type TopologyOptions } from './topology.ts';
export { type WaitOptions, waitFor, waitForEvent, withDeadline } from './wait.ts';
