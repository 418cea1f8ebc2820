/**
 * @layer8/chaos: the overlay under faults (docs/reliability.md). `l8 chaos run` drives request and
 * multicast load over a real overlay while it injects faults and reports every operation's outcome;
 * `l8 chaos fuzz` sends structure-aware mutations of valid frames into a running VNet and VNic.
 */
export type { ControlTally } from './fuzz/control-pair.ts';
export { FIELD_NAMES, type FieldName, layoutOf } from './fuzz/frame-layout.ts';
export type { ChannelTally } from './fuzz/fuzz-channel.ts';
export { FuzzRandom } from './fuzz/fuzz-random.ts';
export type { CounterSource, FuzzReport, RemoteInfo, TargetReport } from './fuzz/fuzz-report.ts';
export { type FuzzOptions, runFuzz } from './fuzz/fuzz-run.ts';
export { FrameMutator, type FuzzFrame, MUTATIONS, type Mutation, type MutatorOptions } from './fuzz/mutator.ts';
export type { RemoteVNetOptions } from './fuzz/remote-vnet.ts';
export type { FuzzContext, Pose } from './fuzz/templates.ts';
export { parseSamples, type Sample, scrapeVNet, vnetStatsOf } from './fuzz/vnet-scrape.ts';
export type { AgentCommand, AgentConfig, AgentPush, AgentReady, AgentSecurity } from './run/agent-protocol.ts';
export { type AttachedHost, type AttachedOptions, AttachedOverlay } from './run/attached-overlay.ts';
export { type AttachedRunOptions, attachedKinds, chaosRunAttached, runAttached } from './run/attached-run.ts';
export { withDeadline } from './run/deadline.ts';
export { type FaultMode, FaultProxy, type FaultProxyOptions, RETRANSMIT_MS } from './run/fault-proxy.ts';
export type { FaultOutcome } from './run/faults.ts';
export type { HealthComparison } from './run/health-compare.ts';
export type { ProbeKind, ProbeOutcome } from './run/hostile.ts';
export {
  type IncarnationLoad,
  type MulticastTally,
  overlapMs,
  type RequestTally,
  sumTallies,
  tallyIncarnation,
} from './run/ledger.ts';
export {
  CHAOS_HEARTBEAT_MS,
  type ChaosHost,
  ChaosOverlay,
  type ChaosOverlayOptions,
  type PushListener,
} from './run/overlay.ts';
export { freePort, hostAddress, tempDir } from './run/ports.ts';
export { checkSeed, MAX_SEED, Prng, randomSeed } from './run/prng.ts';
export { Agent, type AgentExit, type AgentOptions } from './run/process-agent.ts';
export { buildReport, type ChaosCheck, type ChaosReport, type ChaosSetup, LIMITS } from './run/report.ts';
export { type ChaosRunOptions, type ChaosRunTopology, chaosRun, runChaos } from './run/runner.ts';
export {
  ALL_FAULT_KINDS,
  ATTACHED_KINDS,
  estimateMs,
  FAULT_KINDS,
  type FaultKind,
  type PlannedFault,
  planSchedule,
  type ScheduleOptions,
} from './run/schedule.ts';
