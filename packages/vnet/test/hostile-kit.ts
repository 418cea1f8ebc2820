import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FramedLink, type LinkAddress, type NodeHello } from '@layer8/link';
import {
  type ControlBody,
  controlBody,
  decodeMessage,
  Kind,
  type L8Error,
  l8error,
  type NodeId,
  newNodeId,
  PROTOCOL_VERSION,
} from '@layer8/protocol';
import { dialLink, type SecurityProvider } from '@layer8/security';
import { withDeadline } from '@layer8/testkit';

const CLI_MAIN = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));

/** A VNet running in its own process, started by `l8 vnet start` exactly as a user starts it. */
export interface CliVNet {
  readonly id: NodeId;
  readonly tcp: { readonly host: string; readonly port: number };
  readonly unix: string | undefined;
  readonly child: ChildProcess;
  /** What the process wrote to stderr (warnings, refusals). */
  readonly stderr: string[];
  /** Whether the process is still running (a crash ends it). */
  alive(): boolean;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Runs `l8 vnet start --port 0 …args` from source and waits for its "listening" line. */
export async function startCliVNet(args: readonly string[]): Promise<CliVNet> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI_MAIN, 'vnet', 'start', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  const line = await withDeadline(listeningLine(child, stderr), 30_000, 'l8 vnet start');
  const m = /l8 vnet (\S+) listening on tcp (\S+):(\d+)(?: and unix (\S+))?/.exec(line);
  if (m === null) throw l8error('L8_ERR_CONNECT', `unexpected output of l8 vnet start: ${line}`);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    id: m[1] as NodeId,
    tcp: { host: m[2] as string, port: Number(m[3]) },
    unix: m[4],
    child,
    stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function listeningLine(child: ChildProcess, stderr: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('listening on'));
      if (line !== undefined) resolve(line);
    });
    child.once('exit', (code) =>
      reject(l8error('L8_ERR_CONNECT', `l8 vnet start exited with ${code}: ${stderr.join('')}`)),
    );
  });
}

/** The hello a hand-made link sends. */
export function helloOf(nodeId: NodeId, role: 'vnic' | 'vnet' = 'vnic', extra: Partial<NodeHello> = {}): NodeHello {
  return {
    version: PROTOCOL_VERSION,
    nodeId,
    alias: 'rogue',
    role,
    vnet: nodeId,
    services: [],
    maxFrame: 1 << 20,
    heartbeatMs: 3000,
    ...extra,
  };
}

/** A hand-driven link to a VNet: whatever an attacker holding a member certificate can send. */
export interface RogueLink {
  readonly id: NodeId;
  readonly link: FramedLink;
  /** Every frame received, copied. */
  readonly frames: Buffer[];
  /** Control bodies received. */
  readonly controls: ControlBody[];
  /** The error of the `close` control message the VNet sent before closing, if any. */
  closeReason(): string | undefined;
}

/** Dials `address` as `hello` (a fresh node id by default) with `provider` and starts reading. */
export async function rogueLink(
  provider: SecurityProvider,
  address: LinkAddress,
  hello: NodeHello = helloOf(newNodeId()),
): Promise<RogueLink> {
  const opened = await dialLink(provider, address, hello);
  const frames: Buffer[] = [];
  const controls: ControlBody[] = [];
  const link = new FramedLink(opened.stream, {
    head: opened.head,
    onFrame: (f) => {
      frames.push(Buffer.from(f));
      if (f[1] === Kind.CONTROL) controls.push(controlBody(decodeMessage(Buffer.from(f))));
    },
  }).start();
  return {
    id: hello.nodeId,
    link,
    frames,
    controls,
    closeReason: () => {
      const c = controls.find((b) => b.t === 'close');
      return (c?.error as { code?: string } | undefined)?.code;
    },
  };
}

/** The code a promise rejects with (fails when it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as L8Error).code;
  }
  throw new Error('expected a rejection');
}
