/**
 * Link benchmark (DESIGN.md §3 "writes are batched"): 100-byte frames, every row with its rate, CPU µs per
 * frame summed over sender and receiver, and peak RSS of the larger process.
 *
 * - `frame-codec`: frames encoded with encodeMessage and decoded with decodeMessage, in bursts of 256
 *   (a sender's turn, then a receiver's chunk), one process.
 * - `link-tcp`, `link-unix`, `link-tls`: one way through a FramedLink (batched writes, back-pressure by
 *   `await link.writable()`) to a receiver in a child process (bench/lib/link-peer.ts) that counts frames
 *   with a FrameDecoder. `link-tls` runs the default TlsProvider (mutual TLS 1.3, P-256 overlay CA).
 * - `link-tcp-unbatched`: the same over TCP with one `socket.write` per frame, for comparison.
 *
 * `npm run bench -- link [CASE...] [--ms N]` (N = measuring window per case, default 3000).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FramedLink } from '@layer8/link';
import { decodeMessage, encodeMessage, Kind, newNodeId } from '@layer8/protocol';
import { initSecurity, TlsProvider } from '@layer8/security';
import { EXT, script } from './lib/ext.ts';
import { type BenchRow, cpuUs, peakRssMB, round, say, timeLoop } from './lib/harness.ts';
import type { PeerReport } from './lib/link-peer.ts';

const FRAME_BYTES = 100;
const RING = 1024;
const BURST = 256;
const WARMUP_MS = 500;
const PEER = join(dirname(fileURLToPath(import.meta.url)), 'lib', script('link-peer'));

type Transport = 'tcp' | 'unix' | 'tls';
type MarkReport = Extract<PeerReport, { t: 'mark' }>;

interface Context {
  readonly windowMs: number;
  readonly tmp: string;
  /** Security directory with certificates for `sender` and `receiver`. */
  readonly securityDir: string;
}

/** 1024 distinct frames (sequence 0-1023) of exactly 100 bytes on the wire. */
function frameRing(): Buffer[] {
  const base = { kind: Kind.REQUEST, source: newNodeId(), destination: newNodeId(), service: 'orders' } as const;
  const overhead = encodeMessage(base).length;
  const payload = Buffer.alloc(FRAME_BYTES - overhead, 7);
  return Array.from({ length: RING }, (_, sequence) => encodeMessage({ ...base, sequence, payload }));
}

function frameCodec(ms: number): BenchRow {
  const source = newNodeId();
  const destination = newNodeId();
  const origin = newNodeId();
  const payload = Buffer.alloc(20, 7); // 4 + 67 + 6 ('orders') + 1 + 2 + 20 = 100 bytes
  const burst: Buffer[] = new Array(BURST);
  let check = 0;
  const op = (): void => {
    for (let i = 0; i < BURST; i++) {
      burst[i] = encodeMessage({
        kind: Kind.REQUEST,
        source,
        destination,
        origin,
        service: 'orders',
        sequence: i,
        payload,
      });
    }
    for (let i = 0; i < BURST; i++) check += decodeMessage((burst[i] as Buffer).subarray(4)).sequence;
  };
  if (encodeMessage({ kind: Kind.REQUEST, source, service: 'orders', payload }).length !== FRAME_BYTES) {
    throw new Error('frame-codec frames are not 100 bytes');
  }
  timeLoop(WARMUP_MS, 1, op);
  const r = timeLoop(ms, 1, op);
  const frames = r.ops * BURST;
  say(`frame-codec: ${frames} frames in ${round(r.wallMs)} ms (checksum ${check})`);
  return {
    system: 'layer8',
    case: 'frame-codec',
    rate: Math.round(frames / (r.wallMs / 1000)),
    cpuUsPerOp: round(r.cpu / frames, 3),
    rssMB: peakRssMB(),
    bytes: FRAME_BYTES,
  };
}

/** Starts the receiver; resolves with it and its TCP port (0 for unix) once it listens. */
async function startPeer(transport: Transport, address: string, dir: string): Promise<[ChildProcess, number]> {
  const child = fork(PEER, [transport, address, dir], {
    execArgv: EXT === '.ts' ? ['--conditions=source', '--import', 'tsx'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [msg] = (await once(child, 'message')) as [PeerReport];
  if (msg.t !== 'ready') throw new Error(`link peer did not start: ${JSON.stringify(msg)}`);
  child.on('message', (m: PeerReport) => {
    if (m.t === 'error') say(`link peer: ${m.message}`);
  });
  return [child, msg.port];
}

async function mark(child: ChildProcess): Promise<MarkReport> {
  child.send('mark');
  for (;;) {
    const [msg] = (await once(child, 'message')) as [PeerReport];
    if (msg.t === 'mark') return msg;
  }
}

async function dial(transport: Transport, address: string, port: number, ctx: Context): Promise<Duplex> {
  const socket = transport === 'unix' ? connect({ path: address }) : connect({ host: address, port });
  await once(socket, 'connect');
  socket.setNoDelay(true);
  if (transport !== 'tls') return socket;
  const provider = new TlsProvider({ dir: ctx.securityDir, node: 'sender' });
  const secured = await provider.secureClient(socket, {
    transport: 'tcp',
    host: address,
    signal: AbortSignal.timeout(10_000),
  });
  return secured.stream;
}

/** Ends an event-loop turn, as an application's sends end with the I/O event that caused them. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Batched sender: `BURST` frames per event-loop turn, waiting for room when the link is full. The turn
 * must end: `writable()` resolves at once while there is room, and a socket that keeps accepting writes
 * synchronously would otherwise never let timers, IPC or the link's own flush run.
 */
async function pumpBatched(stream: Duplex, ring: Buffer[], running: { on: boolean }): Promise<void> {
  const link = new FramedLink(stream, { onFrame: () => {} }).start();
  let i = 0;
  try {
    while (running.on) {
      const frame = ring[i++ & (RING - 1)] as Buffer;
      if (link.canSend(frame.length)) link.send(frame);
      else await link.writable(frame.length);
      if ((i & (BURST - 1)) === 0) await nextTurn();
    }
  } finally {
    link.close();
  }
}

/** Unbatched sender: one write per frame, waiting for drain when the socket says so. */
async function pumpUnbatched(stream: Duplex, ring: Buffer[], running: { on: boolean }): Promise<void> {
  let i = 0;
  while (running.on) {
    if (!stream.write(ring[i++ & (RING - 1)] as Buffer)) await once(stream, 'drain');
    else if ((i & (BURST - 1)) === 0) await nextTurn();
  }
  stream.destroy();
}

async function linkCase(name: string, transport: Transport, batched: boolean, ctx: Context): Promise<BenchRow> {
  const address = transport === 'unix' ? join(ctx.tmp, `${name}.sock`) : '127.0.0.1';
  const [child, port] = await startPeer(transport, address, ctx.securityDir);
  try {
    const stream = await dial(transport, address, port, ctx);
    const running = { on: true };
    const pump = (batched ? pumpBatched : pumpUnbatched)(stream, frameRing(), running).catch(() => {});
    await sleep(WARMUP_MS);
    const a = await mark(child);
    const [cpuA, tA] = [cpuUs(), performance.now()];
    await sleep(ctx.windowMs);
    const b = await mark(child);
    const [cpuB, tB] = [cpuUs(), performance.now()];
    running.on = false;
    await pump;
    const frames = b.frames - a.frames;
    say(`${name}: ${frames} frames in ${round(tB - tA)} ms`);
    return {
      system: 'layer8',
      case: name,
      rate: Math.round(frames / ((tB - tA) / 1000)),
      cpuUsPerOp: round((cpuB - cpuA + b.cpuUs - a.cpuUs) / frames, 3),
      rssMB: Math.max(peakRssMB(), round(b.maxRssMB)),
      bytes: FRAME_BYTES,
    };
  } finally {
    child.send('exit');
    await once(child, 'exit');
  }
}

const LINK_CASES: readonly [string, Transport, boolean][] = [
  ['link-tcp', 'tcp', true],
  ['link-unix', 'unix', true],
  ['link-tls', 'tls', true],
  ['link-tcp-unbatched', 'tcp', false],
];

export default async function (args: string[]): Promise<BenchRow[]> {
  const msAt = args.indexOf('--ms');
  const windowMs = msAt >= 0 ? Number(args[msAt + 1]) : 3000;
  const wanted = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--ms');
  const pick = (name: string): boolean => wanted.length === 0 || wanted.includes(name);
  const tmp = mkdtempSync(join(tmpdir(), 'l8-bench-link-'));
  const securityDir = join(tmp, 'security');
  const rows: BenchRow[] = [];
  try {
    if (pick('frame-codec')) rows.push(frameCodec(windowMs));
    if (LINK_CASES.some(([name, transport]) => transport === 'tls' && pick(name))) {
      await initSecurity({ dir: securityDir, nodes: ['sender', 'receiver'] });
    }
    const ctx: Context = { windowMs, tmp, securityDir };
    for (const [name, transport, batched] of LINK_CASES) {
      if (pick(name)) rows.push(await linkCase(name, transport, batched, ctx));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
