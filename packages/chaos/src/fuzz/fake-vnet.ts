import { createServer, type Server, type Socket } from 'node:net';
import type { LinkAddress, NodeHello } from '@layer8/link';
import { encodeControl, l8error, type NodeId } from '@layer8/protocol';
import { acceptLink, type OpenedLink, type SecurityProvider } from '@layer8/security';
import { withDeadline } from '../run/deadline.ts';

/**
 * The fuzzer posing as the VNet of a VNic under test: listens on TCP, and hands each socket the VNic
 * dials to whoever asks next, either for a full link setup ({@link FakeVNet.accept}: proof, hello, then
 * the VNet's health slice, so the VNic is connected) or raw, for a setup with a mutated message.
 *
 * Invariants: `#sockets` holds accepted sockets nobody took yet; `#takers` callers waiting for one; at
 * most one of the two is non-empty.
 */
export class FakeVNet {
  readonly id: NodeId;
  readonly #provider: SecurityProvider;
  readonly #server: Server;
  readonly #sockets: Socket[] = [];
  readonly #takers: ((s: Socket) => void)[] = [];
  #address: LinkAddress | undefined;

  constructor(id: NodeId, provider: SecurityProvider) {
    this.id = id;
    this.#provider = provider;
    this.#server = createServer({ noDelay: true }, (s) => this.#arrived(s));
  }

  /** Listens on `host` (port 0) and resolves with the address. @throws L8_ERR_CONNECT */
  listen(host: string): Promise<LinkAddress> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (e) => reject(l8error('L8_ERR_CONNECT', `fake VNet cannot listen: ${e.message}`)));
      this.#server.listen({ host, port: 0 }, () => {
        const a = this.#server.address();
        this.#address = { host, port: typeof a === 'object' && a !== null ? a.port : 0 };
        resolve(this.#address);
      });
    });
  }

  /** The hello this VNet answers with. */
  hello(): NodeHello {
    return {
      version: 1,
      nodeId: this.id,
      alias: 'fuzz-vnet',
      role: 'vnet',
      vnet: this.id,
      services: [],
      maxFrame: 16 * 1024 * 1024,
      heartbeatMs: 3000,
    };
  }

  /** The next socket the VNic dials, raw. @throws L8_ERR_TIMEOUT when none comes within `timeoutMs` */
  async next(timeoutMs: number): Promise<Socket> {
    const ready = this.#sockets.shift();
    if (ready !== undefined) return ready;
    let take!: (s: Socket) => void;
    const p = new Promise<Socket>((resolve) => {
      take = resolve;
      this.#takers.push(take);
    });
    try {
      return await withDeadline(p, timeoutMs, 'the VNic under test dialling again');
    } catch (err) {
      const i = this.#takers.indexOf(take);
      if (i >= 0) this.#takers.splice(i, 1);
      throw err;
    }
  }

  /**
   * The next link the VNic dials, set up in full: membership proof, hellos, and this VNet's health
   * slice (the VNic counts itself connected once it has it).
   * @throws L8_ERR_TIMEOUT when the VNic does not dial within `timeoutMs`; the setup's code when it fails
   */
  async accept(timeoutMs: number): Promise<OpenedLink> {
    const socket = await this.next(timeoutMs);
    const opened = await acceptLink(this.#provider, socket, 'tcp', this.hello(), timeoutMs);
    const now = Date.now();
    const own = {
      id: this.id,
      vnet: this.id,
      alias: 'fuzz-vnet',
      role: 'vnet',
      services: [],
      status: 'up',
      startedAt: now,
      updatedAt: now,
    };
    const delta = { vnet: this.id, seq: 0, full: true, upsert: [own], remove: [] };
    opened.stream.write(encodeControl(this.id, { t: 'health', deltas: [delta] }));
    return opened;
  }

  /** Stops listening and closes the sockets nobody took. */
  async close(): Promise<void> {
    for (const s of this.#sockets.splice(0)) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }

  #arrived(socket: Socket): void {
    socket.on('error', () => undefined);
    // a socket the VNic gave up on while it waited here is of no use to anyone
    socket.once('close', () => {
      const i = this.#sockets.indexOf(socket);
      if (i >= 0) this.#sockets.splice(i, 1);
    });
    const take = this.#takers.shift();
    if (take !== undefined) take(socket);
    else this.#sockets.push(socket);
  }
}
