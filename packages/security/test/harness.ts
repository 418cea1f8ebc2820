import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { LinkAddress, LinkTransport, NodeHello } from '@layer8/link';
import { type NodeId, newNodeId, PROTOCOL_VERSION } from '@layer8/protocol';

/**
 * A listener on port 0 (TCP, 127.0.0.1) or in a temp dir (unix) that queues accepted sockets; `close`
 * destroys the sockets it accepted that are still open.
 */
export interface Listener {
  readonly transport: LinkTransport;
  accept(): Promise<Socket>;
  dial(): Promise<Socket>;
  close(): Promise<void>;
}

/** Starts a {@link Listener}. */
export async function listen(transport: LinkTransport): Promise<Listener> {
  const queue: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  const all = new Set<Socket>();
  const server = createServer((s) => {
    all.add(s.once('close', () => all.delete(s)));
    const w = waiters.shift();
    if (w) w(s);
    else queue.push(s);
  });
  const dir = transport === 'unix' ? mkdtempSync(`${tmpdir()}/l8-`) : undefined;
  const target = await bind(server, dir);
  return {
    transport,
    accept: () => {
      const s = queue.shift();
      return s ? Promise.resolve(s) : new Promise((resolve) => waiters.push(resolve));
    },
    dial: () => dialTo(target),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of all) s.destroy();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }),
  };
}

type Target = { path: string } | { host: string; port: number };

function bind(server: Server, dir: string | undefined): Promise<Target> {
  return new Promise((resolve) => {
    if (dir) {
      const path = join(dir, 'vnet.sock');
      server.listen(path, () => resolve({ path }));
    } else {
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve({ host: '127.0.0.1', port: typeof a === 'object' && a ? a.port : 0 });
      });
    }
  });
}

function dialTo(target: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(target as never);
    s.once('error', reject).once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** Reads exactly `n` bytes from `head` then `stream`, or rejects when `stream` ends first. */
export function readBytes(stream: Duplex, head: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = head;
    const done = (err?: Error): void => {
      stream.off('data', onData).off('end', onEnd).off('error', done);
      if (err) reject(err);
      else resolve(got.subarray(0, n));
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= n) done();
    };
    const onEnd = (): void => done(new Error(`stream ended after ${got.length} of ${n} bytes`));
    if (got.length >= n) return done();
    stream.on('data', onData).once('end', onEnd).once('error', done);
    stream.resume();
  });
}

/** Resolves when `socket` is closed (at once when it already is). */
export function closed(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed && (socket as Socket).closed !== false) return resolve();
    socket.once('close', () => resolve());
  });
}

/** The error a promise rejected with, or a failure when it fulfilled. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, got success');
}

/** A server on port 0 (TCP, 127.0.0.1) or in a temp dir (unix) handing each accepted socket to `onSocket`. */
export async function serve(
  transport: LinkTransport,
  onSocket: (s: Socket) => void,
): Promise<{ address: LinkAddress; close(): Promise<void> }> {
  const all = new Set<Socket>();
  const server = createServer((s) => {
    all.add(s.once('close', () => all.delete(s)));
    onSocket(s);
  });
  const dir = transport === 'unix' ? mkdtempSync(`${tmpdir()}/l8-`) : undefined;
  const address = await bind(server, dir);
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of all) s.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
  return { address, close };
}

/** The overlay hello of a test node. */
export function helloOf(role: 'vnic' | 'vnet', nodeId: NodeId = newNodeId(), vnet: NodeId = nodeId): NodeHello {
  return {
    version: PROTOCOL_VERSION,
    nodeId,
    alias: `test-${role}`,
    role,
    vnet,
    services: [],
    maxFrame: 1 << 20,
    heartbeatMs: 3000,
  };
}
