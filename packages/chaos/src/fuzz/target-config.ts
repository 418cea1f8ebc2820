import type { LinkAddress } from '@layer8/link';
import type { NodeId } from '@layer8/protocol';

/**
 * What a fuzz target process runs (target-main.ts) and what it reports over IPC. Shared by the process
 * and the fuzzer that starts it (target-process.ts).
 */

/** How a target proves membership: a TLS certificate of the overlay, or the dev passphrase. */
export type TargetSecurity =
  | { readonly tls: { readonly dir: string; readonly node: string } }
  | { readonly passphrase: string };

/** A VNet under test: TCP on `host`, and the unix socket `socketPath`. */
export interface VNetTargetConfig {
  readonly role: 'vnet';
  readonly security: TargetSecurity;
  readonly id: NodeId;
  readonly host: string;
  readonly socketPath: string;
}

/** A VNic under test: it dials `vnet` (the fuzzer posing as its VNet) and serves `service` with an echo. */
export interface VNicTargetConfig {
  readonly role: 'vnic';
  readonly security: TargetSecurity;
  readonly id: NodeId;
  readonly vnet: LinkAddress;
  readonly service: string;
}

/** The config of a target process. */
export type TargetConfig = VNetTargetConfig | VNicTargetConfig;

/** What a target says once it is up. */
export interface TargetReady {
  readonly ready: true;
  /** Where a VNet target listens (none for a VNic). */
  readonly tcp?: { readonly host: string; readonly port: number };
  readonly unix?: string;
}

/** Counters a target reports (they only grow), and its memory after a full garbage collection. */
export interface TargetStats {
  /** Resident set size, bytes; null for a VNet the fuzzer did not start (it cannot read its memory). */
  readonly rss: number | null;
  /** Used JavaScript heap, bytes; null as `rss`. */
  readonly heapUsed: number | null;
  /** Frames received on every link so far. */
  readonly framesIn: number;
  /** The target's drop counters by reason (`VNet.drops`, `VNic.drops`). */
  readonly drops: Readonly<Record<string, number>>;
  /** Links the target closed or lost, by the code it gave (a VNet: closes and refusals; a VNic: lost links). */
  readonly closes: Readonly<Record<string, number>>;
  /** Link setups the target refused, by code. */
  readonly refusedSetups: Readonly<Record<string, number>>;
  /** Faults the target caught in itself and logged (a control-plane step that threw, a handler's fault). */
  readonly faults: Readonly<Record<string, number>>;
  /** A VNic's connection state (`connected`, `closed` …). */
  readonly state?: string;
}

/** A request from the fuzzer to its target. */
export interface TargetCommand {
  readonly id: number;
  readonly cmd: 'stats';
}

/** The answer to a {@link TargetCommand}. */
export interface TargetAnswer {
  readonly id: number;
  readonly stats: TargetStats;
}

/** Adds one to `counts[key]`. */
export function bump(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}
