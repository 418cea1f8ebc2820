import { connect, createServer, type Server, type Socket } from 'node:net';

/** What a {@link FaultProxy} does with traffic. */
export type FaultMode = 'pass' | 'cut' | 'blackhole';

/**
 * A TCP proxy that tests put between two VNets to cut, delay or black-hole a link and heal it again.
 * `cut` closes every connection and refuses new ones; `blackhole` keeps connections open but drops the
 * bytes (a silent peer, for heartbeat deadlines); `delayMs` holds every chunk back.
 *
 * Invariant: `#pairs` holds the open (client, upstream) socket pairs.
 */
export class FaultProxy {
  mode: FaultMode = 'pass';
  /** Delay added to every chunk, ms. */
  delayMs = 0;
  /** Bytes forwarded in each direction. */
  forwardedBytes = 0;
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<[Socket, Socket]>();

  constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((c) => this.#accept(c));
  }

  /** Listens on `host` (port 0); resolves with the address to dial instead of the target. */
  listen(host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    return new Promise((resolve) => {
      this.#server.listen(0, host, () => {
        const a = this.#server.address();
        resolve({ host, port: typeof a === 'object' && a !== null ? a.port : 0 });
      });
    });
  }

  /** Closes every connection and refuses new ones until {@link heal}. */
  cut(): void {
    this.mode = 'cut';
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
  }

  /** Drops all bytes from now on, keeping connections open. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Passes traffic again. */
  heal(): void {
    this.mode = 'pass';
    this.delayMs = 0;
  }

  /** Stops the proxy and closes every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.#server.close(r));
  }

  #accept(client: Socket): void {
    if (this.mode === 'cut') return void client.destroy();
    const upstream = connect(this.#target);
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    for (const [from, to] of [pair, [upstream, client] as [Socket, Socket]]) {
      from.on('data', (chunk: Buffer) => this.#pass(to, chunk));
      from.on('close', end);
      from.on('error', end);
    }
  }

  #pass(to: Socket, chunk: Buffer): void {
    if (this.mode !== 'pass') return;
    this.forwardedBytes += chunk.length;
    if (this.delayMs === 0) to.write(chunk);
    else setTimeout(() => to.destroyed || to.write(chunk), this.delayMs);
  }
}
