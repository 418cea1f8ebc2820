/** A minimal VNet for VNic tests: accepts links, makes connect() resolve, and sends whatever a test says. */
import { createServer, type Server, type Socket } from 'node:net';
import { FramedLink, type NodeHello } from '@layer8/link';
import { type ControlBody, encodeControl, type NodeId, newNodeId, PROTOCOL_VERSION } from '@layer8/protocol';
import { acceptLink, DevProvider } from '@layer8/security';

const PASSPHRASE = 'layer8-vnic-unit-tests';

/** A dev provider for these tests, warning silenced. */
export function testProvider(passphrase = PASSPHRASE): DevProvider {
  return new DevProvider({ passphrase, warn: () => undefined });
}

/** The VNet end of one accepted link. */
export interface FakeLink {
  readonly node: NodeId;
  readonly link: FramedLink;
  /** Frames received, copied. */
  readonly frames: Buffer[];
}

/** Resolves once `probe` holds (polling every few ms); rejects after `ms`. */
export async function until(probe: () => boolean, ms = 5000, what = 'a condition'): Promise<void> {
  const end = performance.now() + ms;
  while (!probe()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Listens on 127.0.0.1:0 with the dev provider; every link gets an empty health slice of this VNet so
 * that the VNic's connect() resolves. It sends no heartbeats: give VNics a long `heartbeatMs`.
 */
export class FakeVNet {
  readonly id: NodeId = newNodeId();
  /** Links in the order they were accepted (one per successful handshake). */
  readonly links: FakeLink[] = [];
  /** Sockets accepted, handshake or not. */
  sockets = 0;
  readonly #server: Server;
  readonly #provider: DevProvider;

  constructor(provider = testProvider()) {
    this.#provider = provider;
    this.#server = createServer((socket) => void this.#accept(socket));
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const a = this.#server.address();
    return { host: '127.0.0.1', port: typeof a === 'object' && a !== null ? a.port : 0 };
  }

  /** The latest link of `node`. */
  linkOf(node: NodeId): FakeLink {
    const l = this.links.findLast((x) => x.node === node);
    if (l === undefined) throw new Error(`no link of ${node}`);
    return l;
  }

  /** Links `node` opened so far. */
  linksOf(node: NodeId): number {
    return this.links.filter((x) => x.node === node).length;
  }

  /** Sends a control body on `node`'s latest link. */
  control(node: NodeId, body: ControlBody): void {
    this.linkOf(node).link.send(encodeControl(this.id, body));
  }

  async close(): Promise<void> {
    for (const l of this.links) l.link.close();
    await new Promise((r) => this.#server.close(r));
  }

  async #accept(socket: Socket): Promise<void> {
    this.sockets++;
    try {
      const opened = await acceptLink(this.#provider, socket, 'tcp', this.#hello());
      const frames: Buffer[] = [];
      const link = new FramedLink(opened.stream, { head: opened.head, onFrame: (f) => frames.push(Buffer.from(f)) });
      this.links.push({ node: opened.hello.nodeId, link, frames });
      link.start();
      const delta = { vnet: this.id, seq: 1, full: true, upsert: [], remove: [] };
      link.send(encodeControl(this.id, { t: 'health', deltas: [delta] }));
    } catch {
      // a refused handshake: the VNic side is what the test looks at
    }
  }

  #hello(): NodeHello {
    return {
      version: PROTOCOL_VERSION,
      nodeId: this.id,
      alias: 'fake-vnet',
      role: 'vnet',
      vnet: this.id,
      services: [],
      maxFrame: 1 << 20,
      heartbeatMs: 3000,
    };
  }
}
