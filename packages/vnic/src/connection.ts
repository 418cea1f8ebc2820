import {
  type HealthDelta,
  type HealthTable,
  parseVNetControl,
  StatsSampler,
  type TrafficCounters,
  type VNetControl,
} from '@layer8/health';
import { FramedLink, formatAddress, type LinkAddress, type NodeHello } from '@layer8/link';
import {
  BACKOFF,
  type ControlBody,
  controlBody,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_FRAME,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_STATS_MS,
  decodeMessage,
  encodeControl,
  fromWire,
  jittered,
  Kind,
  type L8Error,
  l8error,
  type Message,
  type NodeId,
  nextDelay,
  nodeIdToBytes,
  Offset,
  PROTOCOL_VERSION,
  toL8Error,
  ZERO_NODE_ID,
} from '@layer8/protocol';
import { dialLink } from '@layer8/security';
import { discoverVNet } from './discovery.ts';
import type { VNicDrops } from './dispatch.ts';
import { Lifecycle, type VNicLogger, type VNicState } from './lifecycle.ts';
import { FATAL_CODES, type VNicOptions } from './vnic-options.ts';

/** Default deadline of the first connect, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Cap of the reconnect back-off to a VNet on a unix socket, ms: a failed local dial costs one system call
 * and no network, and a VNet that restarts on the same host should have its VNics back within a second or
 * so of its return (TCP keeps the 5 s of `BACKOFF`).
 */
export const LOCAL_RECONNECT_MAX_MS = 1000;

/** What the connection hands to the rest of the VNic. */
export interface ConnectionHost {
  /** The (service, area) pairs to announce in the hello. */
  services(): { service: string; area: number }[];
  /** A REQUEST, NOTIFY or EVENT frame. */
  onData(frame: Buffer): void;
  /** A REPLY, PROGRESS or FAIL frame. */
  onAnswer(frame: Buffer, kind: number): void;
  /** The link was lost (the VNic reconnects): what waits on it fails with `error`. */
  onLinkLost(error: L8Error): void;
  /** The VNic stopped for good with `error`. */
  onStopped(error: L8Error): void;
  /** A link to the VNet is up, over a unix socket or TCP. */
  onAttached(transport: 'unix' | 'tcp'): void;
  /** The traffic to report in this node's load figures: the VNet link's `link` plus any other links'. */
  traffic(link: TrafficCounters): TrafficCounters;
  /** The VNet's part in the same-host short cut: an `expect` or an `introduced`. */
  onDirect(c: Extract<VNetControl, { t: 'expect' | 'introduced' }>): void;
}

/**
 * The link of a VNic to its VNet (DESIGN.md §1, §4): discovery, dial, reconnects with back-off and jitter,
 * the connect deadline, heartbeats, load statistics and the VNet's control messages (health, drop,
 * close). Every state change goes through {@link Lifecycle.to}.
 *
 * Invariants: `#link` is set exactly while the state is `connected` or `draining` with a link up;
 * `#vnetId` is the VNet of the current (or last) link; `#ready` is set from {@link connect} until the
 * first link has the VNet's health slice, or the first connect fails; `#connectTimer` runs only then.
 */
export class Connection {
  readonly life: Lifecycle;
  readonly #o: VNicOptions;
  readonly #id: NodeId;
  readonly #alias: string;
  readonly #health: HealthTable;
  readonly #host: ConnectionHost;
  readonly #drops: VNicDrops;
  readonly #sampler = new StatsSampler();
  readonly #heartbeatMs: number;
  #link: FramedLink | undefined;
  #vnetId: NodeId = ZERO_NODE_ID;
  #vnetIdBytes: Uint8Array = new Uint8Array(16);
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  #delay: number;
  #timers: NodeJS.Timeout[] = [];
  #reconnectTimer: NodeJS.Timeout | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #ready: { resolve: () => void; reject: (e: L8Error) => void } | undefined;
  #connecting: Promise<void> | undefined;
  /** The error of the VNet's last `close` control message on the current link, if any. */
  #closeReason: L8Error | undefined;
  /** Set once, when the VNet refused this node for good. */
  #closedWith: L8Error | undefined;
  /** Why the last attempt failed (for the connect deadline's error). */
  #lastError: L8Error | undefined;
  /** Where the last dial went (its kind sets the back-off's cap). */
  #dialled: LinkAddress | undefined;

  constructor(
    o: VNicOptions,
    ids: { id: NodeId; alias: string },
    health: HealthTable,
    host: ConnectionHost,
    drops: VNicDrops,
  ) {
    this.#o = o;
    this.#id = ids.id;
    this.#alias = ids.alias;
    this.#health = health;
    this.#host = host;
    this.#drops = drops;
    this.#heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#delay = o.reconnect?.firstMs ?? BACKOFF.firstMs;
    this.life = new Lifecycle(o.logger ?? (SILENT as VNicLogger), { node: ids.id, alias: ids.alias });
  }

  get state(): VNicState {
    return this.life.state;
  }
  get link(): FramedLink | undefined {
    return this.#link;
  }
  get vnetId(): NodeId {
    return this.#vnetId;
  }
  get vnetIdBytes(): Uint8Array {
    return this.#vnetIdBytes;
  }
  get peerMaxFrame(): number {
    return this.#peerMaxFrame;
  }
  get closedWith(): L8Error | undefined {
    return this.#closedWith;
  }

  /** See `VNic.connect`. */
  connect(): Promise<void> {
    if (this.state === 'closed' || this.state === 'draining') return Promise.reject(this.notConnected());
    if (this.#connecting !== undefined) return this.#connecting;
    this.#connecting = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    const ms = this.#o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#connectTimer = setTimeout(() => this.#connectExpired(ms), ms);
    this.#timers = [
      setInterval(() => this.#heartbeat(), Math.max(10, Math.floor(this.#heartbeatMs / 4))).unref(),
      setInterval(() => this.#sendStats(), this.#o.statsMs ?? DEFAULT_STATS_MS).unref(),
    ];
    this.life.to('connecting');
    void this.#dial();
    return this.#connecting;
  }

  /** The error of a call made without a link: the fatal refusal once there was one. */
  notConnected(): L8Error {
    if (this.#closedWith !== undefined) return this.#closedWith;
    const s = this.state;
    if (s === 'draining') return l8error('L8_ERR_CLOSED', 'VNic is draining: no new work is accepted');
    return l8error(s === 'closed' ? 'L8_ERR_CLOSED' : 'L8_ERR_CONNECT', 'VNic is not connected to a VNet');
  }

  /** The link, or the error of a call made without one. @throws L8_ERR_CONNECT, L8_ERR_CLOSED */
  linkOrThrow(): FramedLink {
    if (this.#link === undefined) throw this.notConnected();
    return this.#link;
  }

  /** Starts draining: no reconnect is scheduled while work finishes. */
  drain(): void {
    clearTimeout(this.#reconnectTimer);
    this.#failReady(this.notConnected());
    if (this.state !== 'closed' && this.state !== 'draining') this.life.to('draining');
  }

  /**
   * Stops for good: timers, reconnects, the link; `connect()` rejects with `error` if it had not settled.
   * Returns false when already stopped. `clean` marks a close the owner asked for (no error reported).
   */
  stop(error: L8Error, clean: boolean): boolean {
    if (this.state === 'closed') return false;
    if (clean && this.#link !== undefined) this.control({ t: 'bye' });
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#reconnectTimer);
    this.#sampler.close();
    this.#failReady(error);
    this.life.to('closed', clean ? {} : { reason: error });
    this.#host.onStopped(error);
    this.#link?.close();
    return true;
  }

  /** Sends a control frame if the link has room; a full link is busy, so a heartbeat or stats can wait. */
  control(body: ControlBody): void {
    this.#link?.trySend(encodeControl(this.#id, body));
  }

  /** Sends a control frame that must not be lost: waits for room when the link is full. */
  controlReliable(body: ControlBody): void {
    const link = this.#link;
    const frame = encodeControl(this.#id, body);
    if (link === undefined || link.trySend(frame)) return;
    link.writable(frame.length).then(
      () => this.controlReliable(body),
      () => undefined, // the link closed: the next hello carries the state
    );
  }

  #hello(): NodeHello {
    return {
      version: PROTOCOL_VERSION,
      nodeId: this.#id,
      alias: this.#alias,
      role: 'vnic',
      vnet: this.#vnetId,
      services: this.#host.services(),
      maxFrame: this.#o.maxFrame ?? DEFAULT_MAX_FRAME,
      heartbeatMs: this.#heartbeatMs,
    };
  }

  #address(): LinkAddress {
    return discoverVNet(this.#o.vnet, this.#o.env ?? process.env, this.#o.socketPath);
  }

  async #dial(): Promise<void> {
    let address: LinkAddress | undefined;
    try {
      address = this.#address();
      this.#dialled = address;
      const opened = await dialLink(this.#o.provider, address, this.#hello(), this.#o.handshakeMs);
      if (this.state === 'closed' || this.state === 'draining') return void opened.stream.destroy();
      // a VNet that came back under a new id never sends a drop of its old slice: nobody else holds it
      if (this.#vnetId !== ZERO_NODE_ID && this.#vnetId !== opened.hello.nodeId) this.#health.dropSlice(this.#vnetId);
      this.#vnetId = opened.hello.nodeId;
      this.#vnetIdBytes = nodeIdToBytes(this.#vnetId);
      this.#peerMaxFrame = opened.hello.maxFrame;
      this.#delay = this.#o.reconnect?.firstMs ?? BACKOFF.firstMs;
      this.#link = new FramedLink(opened.stream, {
        head: opened.head,
        maxFrame: this.#o.maxFrame ?? DEFAULT_MAX_FRAME,
        maxQueuedBytes: this.#o.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
        onFrame: (f) => this.#onFrame(f),
        onClose: (e) => this.#onClose(e),
      });
      this.life.to('connected', { vnet: this.#vnetId });
      this.#link.start();
      if (this.#o.healthStats === true) this.controlReliable({ t: 'watch', stats: true });
      this.#host.onAttached(opened.transport);
    } catch (err) {
      const e = toL8Error(err, 'L8_ERR_CONNECT');
      this.#retry(address === undefined ? e : withAddress(e, address));
    }
  }

  /** The reconnect back-off's cap: the option, else {@link LOCAL_RECONNECT_MAX_MS} for a unix socket. */
  #maxDelay(): number {
    if (this.#o.reconnect?.maxMs !== undefined) return this.#o.reconnect.maxMs;
    return this.#dialled !== undefined && 'path' in this.#dialled ? LOCAL_RECONNECT_MAX_MS : BACKOFF.maxMs;
  }

  #retry(error: L8Error): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.#lastError = error;
    // Before the first link a security refusal is final: a misconfiguration is told at once. After it, a
    // refusal during link setup may come from whatever answered the dial before proving anything (bytes
    // that look like TLS, a forged FAIL frame, a port taken while the VNet restarts): it is retried. Only
    // the VNet of an established link (its `close` message, #onClose) stops this VNic for good.
    if (FATAL_CODES.has(error.code) && this.#ready !== undefined) return this.#fatal(error);
    // a first connect that a retry cannot fix (wrong provider, wrong version) fails now
    if (!error.retryable && this.#ready !== undefined) return void this.stop(error, false);
    if (this.state === 'connecting') this.life.to('connecting', { reason: error });
    else if (this.state === 'reconnecting') this.life.to('disconnected', { reason: error });
    const wait = jittered(this.#delay);
    this.#delay = nextDelay(this.#delay, this.#maxDelay());
    // ref'd on purpose: a VNic that is reconnecting is work in progress, as a pending socket would be
    this.#reconnectTimer = setTimeout(() => {
      if (this.state === 'disconnected') this.life.to('reconnecting');
      void this.#dial();
    }, wait);
  }

  #connectExpired(ms: number): void {
    if (this.#ready === undefined) return;
    const last = this.#lastError;
    const why = last === undefined ? 'no answer' : last.message;
    this.stop(l8error('L8_ERR_CONNECT', `no VNet reached within ${ms} ms: ${why}`, { cause: last }), false);
  }

  #failReady(error: L8Error): void {
    clearTimeout(this.#connectTimer);
    this.#ready?.reject(error);
    this.#ready = undefined;
  }

  #onClose(error: L8Error | undefined): void {
    this.#link = undefined;
    if (this.state === 'closed') return;
    // the VNet says why it closes a link for a security reason just before it does (a `close` message)
    const reason = this.#closeReason ?? error;
    this.#closeReason = undefined;
    if (reason !== undefined && FATAL_CODES.has(reason.code)) return this.#fatal(reason);
    const lost = l8error('L8_ERR_CONNECT', `link to the VNet closed${error ? `: ${error.message}` : ''}`);
    this.#host.onLinkLost(lost);
    if (this.state === 'draining') return;
    if (this.state === 'connected') this.life.to('disconnected', { reason: error ?? lost });
    this.#retry(error ?? lost);
  }

  /** The VNet refused this node for good: stop, fail what waits and every later call, report it once. */
  #fatal(error: L8Error): void {
    if (this.state !== 'closed') this.#closedWith = error;
    if (!this.stop(error, false)) return;
    try {
      this.#o.onFatal?.(error);
    } catch {
      // a listener's fault must not undo the shutdown
    }
  }

  #onFrame(frame: Buffer): void {
    if (frame[Offset.VERSION] !== PROTOCOL_VERSION) {
      this.#drops.malformed++;
      return;
    }
    const kind = frame[Offset.KIND] as number;
    if (kind === Kind.REPLY || kind === Kind.PROGRESS || kind === Kind.FAIL) return this.#host.onAnswer(frame, kind);
    // the dispatcher drops a frame whose header lengths run past its end before it reads the service
    if (kind === Kind.REQUEST || kind === Kind.NOTIFY || kind === Kind.EVENT) return this.#host.onData(frame);
    if (kind !== Kind.CONTROL) {
      this.#drops.malformed++;
      return;
    }
    let m: Message;
    try {
      m = decodeMessage(frame);
    } catch {
      this.#drops.malformed++;
      return;
    }
    this.#onControl(m);
  }

  /** A control message from the VNet, checked against what a VNet may send; others are counted. */
  #onControl(m: Message): void {
    let body: unknown;
    try {
      body = controlBody(m);
    } catch {
      body = undefined;
    }
    const c = parseVNetControl(body);
    if (c === undefined) this.#drops.malformed++;
    else if (c.t === 'health') for (const d of c.deltas) this.#onHealth(d);
    else if (c.t === 'drop') this.#health.dropSlice(c.vnet);
    else if (c.t === 'expect' || c.t === 'introduced') this.#host.onDirect(c);
    // the VNet's reason for closing the link, sent just before it does; kept for #onClose
    else if (c.t === 'close') this.#closeReason = fromWire(c.error);
  }

  #onHealth(delta: HealthDelta): void {
    if (!this.#health.applyDelta(delta)) return this.controlReliable({ t: 'resync' });
    if (delta.vnet === this.#vnetId && this.#ready !== undefined) {
      clearTimeout(this.#connectTimer);
      this.#ready.resolve();
      this.#ready = undefined;
    }
  }

  /** When the heartbeat timer last ticked (`performance.now()`). */
  #tickAt = performance.now();

  #heartbeat(): void {
    const link = this.#link;
    if (link === undefined) return;
    const now = performance.now();
    // after a stall of this process the frames that came meanwhile are not read yet: judge next tick
    const stalled = now - this.#tickAt > this.#heartbeatMs / 2;
    this.#tickAt = now;
    if (!stalled && now - link.lastReceivedAt > this.#heartbeatMs) {
      link.close(
        l8error('L8_ERR_TIMEOUT', `no frame from the VNet within the ${this.#heartbeatMs} ms heartbeat deadline`),
      );
    } else if (now - link.lastSentAt >= this.#heartbeatMs / 2) {
      this.control({ t: 'hb' });
    }
  }

  #sendStats(): void {
    if (this.#link !== undefined)
      this.control({ t: 'stats', stats: this.#sampler.sample(this.#host.traffic(this.#link.stats)) });
  }
}

const SILENT = { debug() {}, info() {}, warn() {} };

/** `error` with the address it happened at, so "refused" and "no socket file" say where. */
function withAddress(error: L8Error, address: LinkAddress): L8Error {
  const at = formatAddress(address);
  if (error.message.includes(at)) return error;
  return l8error(error.code, `${at}: ${error.message}`, {
    cause: error.cause,
    data: error.data,
    retryable: error.retryable,
  });
}
