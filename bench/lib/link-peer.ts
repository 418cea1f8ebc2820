/**
 * The receiving side of bench/link.ts, run as a child process so sender and receiver use both cores.
 * `link-peer.ts tcp|tls|unix ADDRESS [SECURITY_DIR]`: listens, accepts one link (for tls: the default
 * TlsProvider's handshake), counts frames with a FrameDecoder and answers each IPC `mark` with the frames
 * counted so far and this process's CPU time, so the parent can take both over the same window.
 */
import { createServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FrameDecoder } from '@layer8/protocol';
import { TlsProvider } from '@layer8/security';

/** What the peer sends to its parent over IPC. */
export type PeerReport =
  | { readonly t: 'ready'; readonly port: number }
  | { readonly t: 'mark'; readonly frames: number; readonly cpuUs: number; readonly maxRssMB: number }
  | { readonly t: 'error'; readonly message: string };

const [transport, address, dir] = process.argv.slice(2);
let frames = 0;
const decoder = new FrameDecoder(() => {
  frames++;
});

function report(r: PeerReport): void {
  process.send?.(r);
}

async function secure(socket: Socket): Promise<{ stream: Duplex; head: Buffer }> {
  if (transport !== 'tls') return { stream: socket, head: Buffer.alloc(0) };
  const provider = new TlsProvider({ dir: dir as string, node: 'receiver' });
  return provider.secureServer(socket, { transport: 'tcp', signal: AbortSignal.timeout(10_000) });
}

function receive(socket: Socket): void {
  socket.setNoDelay(true);
  secure(socket).then(
    ({ stream, head }) => {
      if (head.length > 0) decoder.push(head);
      stream.on('data', (chunk: Buffer) => decoder.push(chunk));
      stream.on('error', () => {});
      stream.resume();
    },
    (err: unknown) => report({ t: 'error', message: String(err) }),
  );
}

const server = createServer(receive);
server.on('error', (err) => report({ t: 'error', message: String(err) }));
if (transport === 'unix') server.listen(address as string, () => report({ t: 'ready', port: 0 }));
else server.listen(0, address, () => report({ t: 'ready', port: (server.address() as { port: number }).port }));

process.on('message', (msg: unknown) => {
  if (msg === 'mark') {
    const u = process.cpuUsage();
    const maxRssMB = process.resourceUsage().maxRSS / 1024;
    report({ t: 'mark', frames, cpuUs: u.user + u.system, maxRssMB });
  } else if (msg === 'exit') {
    process.exit(0);
  }
});
