/** Messages between a test and its agent processes (IPC). */

/** How an agent process starts. */
export type AgentConfig =
  | {
      readonly role: 'vnet';
      readonly alias: string;
      readonly host: string;
      readonly port: number;
      readonly socketPath: string;
      readonly peers: readonly { host: string; port: number }[];
      readonly passphrase: string;
      readonly heartbeatMs: number;
      readonly maxFrame?: number;
    }
  | {
      readonly role: 'vnic';
      readonly alias: string;
      readonly socketPath: string;
      readonly passphrase: string;
      readonly heartbeatMs: number;
    };

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
}
