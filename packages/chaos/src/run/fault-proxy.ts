import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What a {@link FaultProxy} does with traffic: `pass` forwards it (after `delayMs` and `loss`), `cut` closes
 * every connection and refuses new ones, `blackhole` keeps connections open and drops their bytes, `stall`
 * holds everything back (bytes, new connections, closes) until {@link FaultProxy.heal}: a network partition
 * as TCP sees one, where nothing arrives and nothing is lost.
 */
export type FaultMode = 'pass' | 'cut' | 'blackhole' | 'stall';

/** Options of a {@link FaultProxy}. */
export interface FaultProxyOptions {
  /** Random numbers in [0, 1) for `loss`; a seeded generator replays a run. Default `Math.random`. */
  readonly random?: () => number;
}

/** The delay a lost segment costs TCP before its retransmission arrives (a minimum RTO), ms. */
export const RETRANSMIT_MS = 200;

/**
 * One direction of a connection: chunks leave in arrival order, each no earlier than its release time,
 * so a delayed or retransmitted chunk holds back the ones behind it (head-of-line blocking, as TCP does).
 *
 * Invariant: `#queue` is sorted by release time; `#timer` is set while `#queue` is not empty and the
 * proxy passes traffic.
 */
class Lane {
  readonly #to: Socket;
  readonly #proxy: FaultProxy;
  readonly #queue: { chunk: Buffer; at: number }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(to: Socket, proxy: FaultProxy) {
    this.#to = to;
    this.#proxy = proxy;
  }

  /** Queues `chunk` to leave `extraMs` after the configured delay, never before the chunk ahead of it. */
  push(chunk: Buffer, extraMs: number): void {
    const delay = this.#proxy.delayMs + extraMs;
    if (delay === 0 && this.#queue.length === 0) return this.#write(chunk);
    const last = this.#queue.at(-1)?.at ?? 0;
    this.#queue.push({ chunk, at: Math.max(performance.now() + delay, last) });
    this.kick();
  }

  /** Writes what is due and arms the timer for the rest (a no-op while the proxy stalls). */
  kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#proxy.mode === 'stall') return;
    const now = performance.now();
    while ((this.#queue[0]?.at ?? Number.POSITIVE_INFINITY) <= now)
      this.#write((this.#queue.shift() as { chunk: Buffer }).chunk);
    const next = this.#queue[0];
    if (next !== undefined) this.#timer = setTimeout(() => this.kick(), Math.max(1, next.at - now));
  }

  /** Drops what waits. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }

  #write(chunk: Buffer): void {
    if (this.#to.destroyed) return;
    this.#proxy.forwardedBytes += chunk.length;
    this.#to.write(chunk);
  }
}

/**
 * A client connection and its upstream. `upstream` is undefined while a connection accepted during a
 * stall waits for the heal; `closing` is set when one side closed during a stall (the close is held back
 * like the bytes are, and delivered at the heal).
 */
interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  lanes: Lane[];
  closing: boolean;
}

/**
 * A TCP proxy put between two VNets (or a VNic and its VNet) to cut, black-hole, stall, delay or lose
 * traffic on that link and heal it again. Loss is modelled as a reliable stream sees it: a lost segment
 * is retransmitted {@link RETRANSMIT_MS} later and holds back what follows; bytes are never dropped in
 * `pass` mode, so a TLS stream stays intact.
 *
 * Invariant: `#pairs` holds the open connections; while `mode` is `stall` every socket of them is paused.
 */
export class FaultProxy {
  mode: FaultMode = 'pass';
  /** Delay added to every chunk, ms. */
  delayMs = 0;
  /** Probability that a chunk is lost once and retransmitted, in [0, 1]. */
  loss = 0;
  /** Bytes forwarded, both directions together. */
  forwardedBytes = 0;
  /** Segments `loss` held back for a retransmission. */
  retransmits = 0;
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  readonly #random: () => number;

  constructor(target: { host: string; port: number }, options: FaultProxyOptions = {}) {
    this.#target = target;
    this.#random = options.random ?? Math.random;
    this.#server = createServer({ noDelay: true }, (c) => this.#accept(c));
  }

  /** Listens on `host` (port 0 unless given); resolves with the address to dial instead of the target. */
  listen(host = '127.0.0.1', port = 0): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        const a = this.#server.address();
        resolve({ host, port: typeof a === 'object' && a !== null ? a.port : 0 });
      });
    });
  }

  /** Closes every connection and refuses new ones until {@link heal}. */
  cut(): void {
    this.mode = 'cut';
    for (const p of this.#pairs) this.#end(p);
  }

  /** Drops all bytes from now on, keeping connections open. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Holds back every byte, new connection and close until {@link heal} (a partition). */
  stall(): void {
    this.mode = 'stall';
    for (const p of this.#pairs) this.#pause(p);
  }

  /** Passes traffic again, without delay or loss; what a stall held back goes on. */
  heal(): void {
    this.mode = 'pass';
    this.delayMs = 0;
    this.loss = 0;
    for (const p of [...this.#pairs]) this.#release(p);
  }

  /** Stops the proxy and closes every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.#server.close(r));
  }

  #accept(client: Socket): void {
    if (this.mode === 'cut') return void client.destroy();
    const pair: Pair = { client, upstream: undefined, lanes: [], closing: false };
    this.#pairs.add(pair);
    client.on('close', () => this.#closed(pair));
    client.on('error', () => this.#closed(pair));
    if (this.mode === 'stall') client.pause();
    else this.#connectUpstream(pair);
  }

  #connectUpstream(pair: Pair): void {
    const upstream = connect({ ...this.#target, noDelay: true });
    pair.upstream = upstream;
    const toUpstream = new Lane(upstream, this);
    const toClient = new Lane(pair.client, this);
    pair.lanes = [toUpstream, toClient];
    pair.client.on('data', (chunk: Buffer) => this.#pass(toUpstream, chunk));
    upstream.on('data', (chunk: Buffer) => this.#pass(toClient, chunk));
    upstream.on('close', () => this.#closed(pair));
    upstream.on('error', () => this.#closed(pair));
  }

  #pass(lane: Lane, chunk: Buffer): void {
    if (this.mode === 'blackhole' || this.mode === 'cut') return;
    const lost = this.loss > 0 && this.#random() < this.loss;
    if (lost) this.retransmits++;
    lane.push(chunk, lost ? RETRANSMIT_MS : 0);
  }

  #closed(pair: Pair): void {
    if (this.mode === 'stall') pair.closing = true;
    else this.#end(pair);
  }

  #pause(pair: Pair): void {
    pair.client.pause();
    pair.upstream?.pause();
  }

  #release(pair: Pair): void {
    if (pair.closing) return this.#end(pair);
    if (pair.upstream === undefined) this.#connectUpstream(pair);
    pair.client.resume();
    pair.upstream?.resume();
    for (const lane of pair.lanes) lane.kick();
  }

  #end(pair: Pair): void {
    for (const lane of pair.lanes) lane.clear();
    pair.client.destroy();
    pair.upstream?.destroy();
    this.#pairs.delete(pair);
  }
}
