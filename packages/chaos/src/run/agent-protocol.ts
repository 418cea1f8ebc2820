/** Messages between a controller (a test, `l8 chaos run`) and its agent processes, over IPC. */

/** The environment variable an agent finds the dev passphrase in: never on its command line, where `ps` shows it. */
export const PASSPHRASE_ENV = 'L8_CHAOS_AGENT_PASSPHRASE';

/** Who an agent is in the overlay: a TLS member (`tls`, a node certificate) or a dev one (`passphrase`). */
export interface AgentSecurity {
  /** The dev provider's passphrase; used when `tls` is absent. */
  readonly passphrase?: string;
  /** The TLS provider: the security directory (or a node bundle) and this node's certificate name. */
  readonly tls?: { readonly dir: string; readonly node: string };
}

/** How an agent process starts. */
export type AgentConfig =
  | (AgentSecurity & {
      readonly role: 'vnet';
      readonly alias: string;
      readonly host: string;
      readonly port: number;
      readonly socketPath: string;
      readonly peers: readonly { host: string; port: number }[];
      readonly heartbeatMs: number;
      readonly maxFrame?: number;
    })
  | (AgentSecurity & {
      readonly role: 'vnic';
      readonly alias: string;
      /** The VNet's unix socket; `vnetTcp` instead to join over TCP. */
      readonly socketPath?: string;
      readonly vnetTcp?: { readonly host: string; readonly port: number };
      readonly heartbeatMs: number;
      /** Reconnect back-off; the VNic's defaults when absent. */
      readonly reconnect?: { readonly firstMs: number; readonly maxMs: number };
      /** Serve the chaos store (a stateful service on SQLite) with its data in `dir` (agent-store.ts). */
      readonly store?: { readonly dir: string };
    });

/** A command sent to an agent. */
export interface AgentCommand {
  readonly id: number;
  readonly cmd: string;
  readonly args?: Record<string, unknown>;
}

/** An agent's answer to a command. */
export interface AgentAnswer {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { code: string; message: string; name: string };
}

/** What an agent says once it is up. */
export interface AgentReady {
  readonly ready: true;
  readonly nodeId: string;
  readonly pid: number;
  readonly addresses?: unknown;
  /** When it was up, epoch ms with a fraction (`performance.timeOrigin + performance.now()`). */
  readonly at?: number;
}

/** What an agent sends by itself (load outcomes, health changes), see load-report.ts. */
export interface AgentPush {
  readonly push: string;
  readonly body: unknown;
}

/** A wall-clock time comparable across the processes of one host: epoch ms with a fraction. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
