import { mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrafficCounters } from '@layer8/health';
import type { FramedLink } from '@layer8/link';
import { idKeyAt, type L8Error, l8error, type NodeId, nodeKey, Offset } from '@layer8/protocol';
import {
  type DirectCounters,
  type DirectEnds,
  type DirectLink,
  handshake,
  helloFrame,
  maxFrameOf,
  welcomeFrame,
} from './direct-link.ts';
import { HotNodes } from './hot-nodes.ts';

/** Tokens a VNic holds for VNics about to dial it; the oldest go first past this. */
export const MAX_EXPECTED = 256;
/** How long an `expect` token stays valid, ms. */
export const EXPECT_MS = 10_000;
/** How long a node the VNet would not introduce, or whose dial failed, is left on the switched path, ms. */
export const REFUSED_MS = 30_000;
/** Direct links a VNic dials at most; past them, requests to other local nodes stay on the switched path. */
export const MAX_DIALLED = 16;

/** What {@link DirectLinks} needs from its VNic. */
export interface DirectHost extends DirectEnds {
  /** Sends a control message to the VNet (`direct`, `introduce`). */
  control(body: { readonly t: string; readonly [k: string]: unknown }): void;
  /** Whether health shows `node` up on this VNic's VNet. */
  localUp(node: NodeId): boolean;
  /** The direct link to `node` closed: requests sent over it will get no answer. */
  lost(node: NodeId, error: L8Error): void;
}

/**
 * The same-host short cut at one VNic (docs/overlay.md, "Same host"): a unix socket where VNics of this
 * host dial in with a token the VNet handed out (`expect`), and the direct links to and from them. A link
 * this VNic dialled carries its requests to that node (and their answers back); a link another dialled
 * carries that node's requests here (and their answers back). Everything else (multicast, one-way
 * messages, nodes without a link) takes the switched path. A link is closed when health stops showing its
 * node up, when this VNic loses its VNet, or on a frame it may not carry.
 *
 * Invariants: `#out` and `#in` hold open links only, keyed by the other node's id (`#out`: dialled here);
 * `#answers` maps the key of every node with an open link (its 16 id bytes) to the link its answers take;
 * `#asked` holds nodes with an introduction under way (value 0) or refused until a time; `#expected` at
 * most {@link MAX_EXPECTED} tokens.
 */
export class DirectLinks {
  readonly counters: DirectCounters = { opened: 0, refused: 0, spoofed: 0 };
  readonly #host: DirectHost;
  readonly #out = new Map<string, DirectLink>();
  readonly #in = new Map<string, DirectLink>();
  readonly #answers = new Map<string, DirectLink>();
  readonly #asked = new Map<string, number>();
  readonly #expected = new Map<string, { node: NodeId; reply: string; until: number }>();
  readonly #hot = new HotNodes();
  readonly #path: string;
  /** Traffic of the direct links closed so far (open ones are summed when asked). */
  readonly #closedTraffic: { -readonly [K in keyof TrafficCounters]: TrafficCounters[K] } = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  #server: Server | undefined;

  constructor(host: DirectHost, dir = join(tmpdir(), `l8-direct-${process.getuid?.() ?? 0}`)) {
    this.#host = host;
    this.#path = join(dir, `${host.id}.sock`);
  }

  /** Open direct links (dialled here and accepted). */
  get size(): number {
    return this.#out.size + this.#in.size;
  }

  /**
   * The link for requests to `node`, if one is open. Else, once `node` takes a large share of this VNic's
   * requests (hot-nodes.ts) and health shows it up on this VNet, asks the VNet for an introduction (at
   * most {@link MAX_DIALLED} links dialled).
   */
  linkTo(node: NodeId): DirectLink | undefined {
    const d = this.#out.get(node);
    if (d !== undefined || node === this.#host.id || !this.#hot.hit(node)) return d;
    const asked = this.#asked.get(node);
    if (asked === 0 || (asked !== undefined && performance.now() < asked)) return undefined;
    if (this.#out.size >= MAX_DIALLED) return undefined;
    if (!this.#host.localUp(node)) {
      this.#asked.set(node, performance.now() + REFUSED_MS);
      return undefined;
    }
    this.#asked.set(node, 0);
    // after the caller's frame: a large frame goes only on an empty queue
    queueMicrotask(() => this.#host.control({ t: 'introduce', node }));
    return undefined;
  }

  /** `base` plus the traffic of every direct link, open or closed (for this node's load figures). */
  traffic(base: TrafficCounters): TrafficCounters {
    const t = { ...base };
    for (const d of [this.#closedTraffic, ...[...this.#out.values(), ...this.#in.values()].map((x) => x.link.stats)]) {
      t.framesIn += d.framesIn;
      t.framesOut += d.framesOut;
      t.bytesIn += d.bytesIn;
      t.bytesOut += d.bytesOut;
    }
    return t;
  }

  /** The link an answer to the node in `prefixed`'s destination goes back on (a length-prefixed frame), if one is open. */
  linkOf(prefixed: Buffer): DirectLink | undefined {
    return this.#answers.size === 0 ? undefined : this.#answers.get(idKeyAt(prefixed, 4 + Offset.DESTINATION));
  }

  /** Starts listening (once) and tells the VNet where; call after every attach over the unix socket. */
  async announce(): Promise<void> {
    this.#server ??= await this.#listen();
    this.#host.control({ t: 'direct', path: this.#path });
  }

  /** The VNet says `node` will dial with `token` and must be answered with `reply`. */
  expect(node: NodeId, token: string, reply: string): void {
    if (this.#expected.size >= MAX_EXPECTED) this.#expected.delete(this.#expected.keys().next().value as string);
    this.#expected.set(token, { node, reply, until: performance.now() + EXPECT_MS });
  }

  /** The VNet's answer to an introduction: dials `path`, or leaves `node` on the switched path for a while. */
  introduced(node: NodeId, path?: string, token?: string, reply?: string): void {
    if (path === undefined || token === undefined || reply === undefined) return this.#refused(node);
    void this.#dial(node, path, token, reply).catch(() => this.#refused(node));
  }

  /** Closes the link to `node` (health no longer shows it up). */
  drop(node: NodeId, why: string): void {
    for (const d of [this.#out.get(node), this.#in.get(node)]) d?.link.close(l8error('L8_ERR_UNREACHABLE', why));
  }

  /** Closes every link (the VNet link was lost); the listener stays. */
  closeLinks(error: L8Error): void {
    for (const d of [...this.#out.values(), ...this.#in.values()]) d.link.close(error);
    this.#asked.clear();
    this.#expected.clear();
  }

  /** Closes every link and the listener, and removes its socket file. */
  close(error: L8Error): void {
    this.closeLinks(error);
    this.#server?.close();
    this.#server = undefined;
    rmSync(this.#path, { force: true });
  }

  #refused(node: NodeId): void {
    this.counters.refused++;
    this.#asked.set(node, performance.now() + REFUSED_MS);
  }

  async #dial(node: NodeId, path: string, token: string, reply: string): Promise<void> {
    const socket = await connectUnix(path);
    const d = await handshake(socket, this.#host, helloFrame(this.#host, token), (body) => {
      if (body?.t !== 'welcome' || body.node !== node || body.reply !== reply) {
        throw l8error('L8_ERR_IDENTITY', 'the direct link did not answer as the node introduced');
      }
      return { peer: node, maxFrame: maxFrameOf(body) };
    });
    this.#add(d, this.#out);
  }

  #accept(socket: Socket): void {
    const check = (body: Record<string, unknown> | undefined, link: FramedLink) => {
      const e = typeof body?.token === 'string' ? this.#expected.get(body.token) : undefined;
      if (body?.token !== undefined) this.#expected.delete(body.token as string);
      if (body?.t !== 'hello' || e === undefined || e.node !== body.node || performance.now() > e.until) {
        throw l8error('L8_ERR_IDENTITY', 'a direct link without a valid introduction');
      }
      // before the welcome: frames written with the hello are delivered as soon as this returns
      if (!this.#host.localUp(e.node)) throw l8error('L8_ERR_UNREACHABLE', `node ${e.node} is not up on this VNet`);
      const maxFrame = maxFrameOf(body);
      link.send(welcomeFrame(this.#host, e.reply));
      return { peer: e.node, maxFrame };
    };
    handshake(socket, this.#host, undefined, check).then(
      (d) => this.#add(d, this.#in),
      () => this.counters.refused++,
    );
  }

  #add(d: DirectLink, links: Map<string, DirectLink>): void {
    const key = d.peer;
    if (!this.#admits(d, links === this.#out)) return;
    links.get(key)?.link.close();
    links.set(key, d);
    this.#reindex(key);
    if (links === this.#out) this.#asked.delete(key);
    this.counters.opened++;
    d.onClosed = (e) => {
      if (links.get(key) === d) links.delete(key);
      this.#reindex(key);
      for (const f of ['framesIn', 'framesOut', 'bytesIn', 'bytesOut'] as const)
        this.#closedTraffic[f] += d.link.stats[f];
      if (e?.code === 'L8_ERR_IDENTITY') this.counters.spoofed++;
      if (links === this.#out)
        this.#host.lost(d.peer, l8error('L8_ERR_UNREACHABLE', `the direct link to ${d.peer} closed`, { cause: e }));
    };
  }

  /**
   * Whether a link whose handshake just ended may open: not when it closed meanwhile or health no longer
   * shows its node up (a revoked node with a token from before). A refused one is closed and counted; a
   * node dialled here is left on the switched path for a while, so its introduction is not left pending.
   */
  #admits(d: DirectLink, dialled: boolean): boolean {
    if (!d.link.closed && this.#host.localUp(d.peer)) return true;
    d.link.close(l8error('L8_ERR_UNREACHABLE', `node ${d.peer} is not up on this VNet`));
    if (dialled) this.#refused(d.peer);
    else this.counters.refused++;
    return false;
  }

  /** Points the answers to `node` at its accepted link, else the one dialled here, else none. */
  #reindex(node: NodeId): void {
    const d = this.#in.get(node) ?? this.#out.get(node);
    if (d === undefined) this.#answers.delete(nodeKey(node));
    else this.#answers.set(nodeKey(node), d);
  }

  #listen(): Promise<Server> {
    const dir = join(this.#path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(this.#path, { force: true });
    const server = createServer((s) => this.#accept(s));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#path, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve(server.unref());
      });
    });
  }
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}
