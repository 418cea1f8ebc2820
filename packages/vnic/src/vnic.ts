import { type HealthDelta, HealthTable, parseVNetControl, StatsSampler } from '@layer8/health';
import {
  type ControlBody,
  controlBody,
  type DataInit,
  DEFAULT_MAX_FRAME,
  decodeMessage,
  encodeControl,
  fromWire,
  Kind,
  type L8Error,
  l8error,
  type Message,
  MIN_MAX_FRAME,
  Mode,
  type NodeId,
  newNodeId,
  nodeIdToBytes,
  Offset,
  PROTOCOL_VERSION,
  readNodeId,
  toL8Error,
  ZERO_NODE_ID,
} from '@layer8/protocol';
import { dialLink, FramedLink, type NodeHello } from '@layer8/security';
import { ByteCache } from './byte-cache.ts';
import { checkFrameSize, type DataSource, dataInit, MODE_BYTE, sendData } from './data-init.ts';
import { discoverVNet } from './discovery.ts';
import {
  Dispatcher,
  dispatchLimits,
  type Handler,
  newDrops,
  type Subscription,
  type VNicDrops,
  warnOneWayFailure,
} from './dispatch.ts';
import { InstancePicker } from './instance-picker.ts';
import { LocalCalls } from './local-call.ts';
import type { Incoming, Payload } from './payload.ts';
import { isSourceOf, PendingTable } from './pending.ts';
import {
  FATAL_CODES,
  type LeaderResolver,
  type RequestOptions,
  type Target,
  type VNicOptions,
} from './vnic-options.ts';

/** Connection state of a VNic. */
export type VNicState = 'idle' | 'connecting' | 'connected' | 'closed';

/**
 * The client library inside each process (DESIGN.md §1, §4): finds and connects to the local VNet,
 * reconnects with back-off and jitter, sends unicast, multicast and requests, and runs handlers.
 *
 * Invariants: `#link` is set exactly while `state` is `connected`; `#vnetId` is the VNet of the current
 * (or last) link; the node id never changes, so reconnects keep the node's identity in health.
 */
export class VNic {
  readonly id: NodeId;
  readonly alias: string;
  /** The replicated health table (every node's record), kept current by the VNet. */
  readonly health = new HealthTable();
  readonly #o: VNicOptions;
  readonly #pending: PendingTable;
  readonly #dispatch: Dispatcher;
  readonly #picker: InstancePicker;
  readonly #sampler = new StatsSampler();
  #link: FramedLink | undefined;
  #vnetId: NodeId = ZERO_NODE_ID;
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  readonly #idBytes: Uint8Array;
  readonly #ids = new ByteCache();
  #vnetIdBytes: Uint8Array = new Uint8Array(16);
  #state: VNicState = 'idle';
  #delay: number;
  #timers: NodeJS.Timeout[] = [];
  #reconnectTimer: NodeJS.Timeout | undefined;
  #ready: { resolve: () => void; reject: (e: L8Error) => void } | undefined;
  #leader: LeaderResolver | undefined;
  /** `local`-mode requests served in this process. */
  readonly #local: LocalCalls;
  /** The promise of the first {@link connect} (later calls return it). */
  #connecting: Promise<void> | undefined;
  /** Heartbeat deadline of the link, ms (`heartbeatMs`, default 3000). */
  readonly #heartbeatMs: number;
  readonly #drops: VNicDrops = newDrops();
  /** The error of the VNet's last `close` control message on the current link, if any. */
  #closeReason: L8Error | undefined;
  /** Set once, when the VNet refused this node for good (see {@link closedWith}). */
  #closedWith: L8Error | undefined;

  /** @throws L8_ERR_INVALID_ARGUMENT when `maxFrame` is below `MIN_MAX_FRAME` (256 KiB). */
  constructor(options: VNicOptions) {
    if (options.maxFrame !== undefined && options.maxFrame < MIN_MAX_FRAME) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `maxFrame ${options.maxFrame} is below the minimum of ${MIN_MAX_FRAME}`);
    }
    this.#o = options;
    this.#heartbeatMs = options.heartbeatMs ?? 3000;
    this.id = options.id ?? newNodeId();
    this.alias = options.alias ?? `vnic-${process.pid}`;
    this.#delay = options.reconnect?.firstMs ?? 100;
    this.#pending = new PendingTable(options.maxPending ?? 100_000, { idBytes: (node) => this.#ids.bytes(node) });
    this.#picker = new InstancePicker(this.health);
    this.#local = new LocalCalls({
      id: this.id,
      vnetId: () => this.#vnetId,
      pendingSize: () => this.#pending.size,
      maxPending: options.maxPending ?? 100_000,
      defaultTimeoutMs: options.timeoutMs ?? 30_000,
    });
    this.#idBytes = nodeIdToBytes(this.id);
    this.#dispatch = new Dispatcher({
      idBytes: this.#idBytes,
      vnetIdBytes: () => this.#vnetIdBytes,
      send: (frame) => this.#send(frame),
      control: (body) => this.#controlReliable(body),
      limits: dispatchLimits(options),
      drops: this.#drops,
      onHandlerError: options.onHandlerError ?? warnOneWayFailure,
    });
    this.health.onChange((e) => {
      if (e.type === 'unreachable' || e.type === 'removed') {
        this.#pending.failNode(
          e.record.id,
          l8error('L8_ERR_UNREACHABLE', `node ${e.record.alias} (${e.record.id}) is ${e.type}`),
        );
      }
    });
  }

  /** Current connection state. */
  get state(): VNicState {
    return this.#state;
  }

  /** The VNet this VNic is attached to (zero id before the first link). */
  get vnetId(): NodeId {
    return this.#vnetId;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Frames and messages dropped, by reason (counters that only grow). */
  get drops(): Readonly<VNicDrops> {
    return this.#drops;
  }

  /**
   * The error the VNet refused this node with for good (a revoked or expired certificate, failed
   * authentication, an identity mismatch, a forbidden or over-limit node); undefined otherwise. Once
   * set, the VNic is `closed`: it no longer reconnects and every call fails with this error.
   */
  get closedWith(): L8Error | undefined {
    return this.#closedWith;
  }

  /** Handlers running and messages queued for a handler slot (`maxHandlersInFlight`, `maxQueuedRequests`). */
  get handlers(): { readonly inFlight: number; readonly queued: number } {
    return { inFlight: this.#dispatch.inFlight, queued: this.#dispatch.queued };
  }

  /** Traffic counters of the current link. */
  get linkStats(): FramedLink['stats'] | undefined {
    return this.#link?.stats;
  }

  /**
   * Connects to the VNet and resolves once the health table holds the VNet's slice. Keeps reconnecting
   * afterwards until {@link close}. Rejects if the first attempt fails with a non-retryable error
   * (wrong provider, wrong version); retryable failures are retried. A security refusal (revoked or
   * expired certificate, `L8_ERR_AUTH`, `L8_ERR_FORBIDDEN`, `L8_ERR_LIMIT`), at the
   * handshake or announced by the VNet before it closes the link, stops the VNic for good: see
   * {@link closedWith} and `VNicOptions.onFatal`.
   */
  connect(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(this.#closedWith ?? l8error('L8_ERR_CLOSED', 'VNic is closed'));
    // a second call shares the first: one set of timers, one dial loop
    if (this.#connecting !== undefined) return this.#connecting;
    this.#connecting = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    if (this.#state === 'idle') void this.#dial();
    this.#timers = [
      setInterval(() => this.#heartbeat(), Math.max(10, Math.floor(this.#heartbeatMs / 4))).unref(),
      setInterval(() => this.#sendStats(), this.#o.statsMs ?? 10_000).unref(),
    ];
    return this.#connecting;
  }

  /** Registers `handler` for (service, area); the VNet and, through health, every node learns of it. */
  subscribe(service: string, area: number, handler: Handler): Subscription {
    return this.#dispatch.subscribe(service, area, handler);
  }

  /** Sets the resolver that `leader` mode uses (the election service installs one). */
  setLeaderResolver(resolver: LeaderResolver | undefined): void {
    this.#leader = resolver;
  }

  /**
   * Resolves when the link to the VNet has room for `bytes` more; a sender of a stream of one-way
   * messages awaits it instead of catching `L8_ERR_BACKPRESSURE`.
   * @throws L8_ERR_CONNECT when not connected, L8_ERR_CLOSED when the VNic or link closes.
   */
  async writable(bytes = 0): Promise<void> {
    if (this.#link === undefined) throw this.#notConnected();
    await this.#link.writable(bytes);
  }

  /** Whether `bytes` more can be sent now without `L8_ERR_BACKPRESSURE`. */
  canSend(bytes = 0): boolean {
    return this.#link?.canSend(bytes) ?? false;
  }

  /** Sends a one-way message to one node's (service, area) handler. @throws L8_ERR_CLOSED, L8_ERR_BACKPRESSURE */
  unicast(node: NodeId, service: string, area: number, payload?: Payload): void {
    this.#sendData(
      dataInit({ kind: Kind.NOTIFY, mode: Mode.UNICAST, node, service, area, seq: 0 }, this.#addresses(), payload, {}),
    );
  }

  /**
   * Sends a one-way message to every subscriber of (service, area) in the overlay, each once; peer VNets
   * receive one copy only when they have a subscriber. The sender's own handler is not called.
   */
  multicast(service: string, area: number, payload?: Payload): void {
    const at = { kind: Kind.NOTIFY, mode: Mode.MULTICAST, node: ZERO_NODE_ID, service, area, seq: 0 };
    this.#sendData(dataInit(at, this.#addresses(), payload, {}));
  }

  /**
   * Sends a request and resolves with the reply. Fails at once with a typed error when the target is
   * unreachable, has no instance, the handler fails, or the link pushes back; `L8_ERR_TIMEOUT` after the
   * deadline; `L8_ERR_ABORTED` when `signal` aborts.
   */
  request(target: Target, payload?: Payload, options: RequestOptions = {}): Promise<Incoming> {
    try {
      if (this.#state === 'closed') throw this.#notConnected();
      if (options.signal?.aborted) throw l8error('L8_ERR_ABORTED', 'request aborted by the caller');
      const area = target.area ?? 0;
      const mode = 'node' in target ? 'unicast' : (target.mode ?? 'round-robin');
      if (mode === 'local') {
        const local = this.#dispatch.handlerOf(target.service, area);
        if (local !== undefined) return this.#local.call(local, target.service, area, payload, options);
      }
      const node = 'node' in target ? target.node : this.#resolve(target.service, area, mode);
      return this.#sendRequest(node, target.service, area, MODE_BYTE[mode] as Mode, payload, options);
    } catch (err) {
      return Promise.reject(toL8Error(err, 'L8_ERR_INTERNAL'));
    }
  }

  #sendRequest(
    node: NodeId,
    service: string,
    area: number,
    mode: Mode,
    payload: Payload,
    o: RequestOptions,
  ): Promise<Incoming> {
    const timeout = o.timeoutMs ?? this.#o.timeoutMs ?? 30_000;
    const { seq, promise } = this.#pending.add(node, timeout, o.onProgress, o.signal);
    try {
      const at = { kind: Kind.REQUEST, mode, node, service, area, seq };
      this.#sendData(dataInit(at, this.#addresses(), payload, o, timeout));
    } catch (err) {
      this.#pending.fail(seq, toL8Error(err, 'L8_ERR_CONNECT'));
    }
    return promise;
  }

  /** Closes the link and stops reconnecting; pending requests fail with `L8_ERR_CLOSED` (idempotent). */
  async close(): Promise<void> {
    // a clean goodbye: the VNet removes this node at once instead of showing it unreachable for a while
    if (this.#state !== 'closed') this.#control({ t: 'bye' });
    this.#shutdown(l8error('L8_ERR_CLOSED', 'VNic closed'));
  }

  /** Stops for good: timers, reconnects, queued handlers; what waits fails with `error`. Idempotent. */
  #shutdown(error: L8Error): boolean {
    if (this.#state === 'closed') return false;
    this.#state = 'closed';
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#reconnectTimer);
    this.#sampler.close();
    this.#dispatch.clear();
    this.#pending.failAll(error);
    this.#link?.close();
    this.#ready?.reject(error);
    this.#ready = undefined;
    return true;
  }

  #resolve(service: string, area: number, mode: string): NodeId {
    if (mode === 'leader') {
      const leader = this.#leader?.(service, area);
      if (leader === undefined) throw l8error('L8_ERR_NO_LEADER', `no elected leader for ${service}/${area}`);
      return leader;
    }
    const node = this.#picker.pick(service, area, mode === 'round-robin' ? undefined : this.#vnetId);
    if (node !== undefined) return node;
    // a subscription of this process that health has not echoed back yet still counts
    if (this.#dispatch.handlerOf(service, area) !== undefined) return this.id;
    throw l8error('L8_ERR_NO_SERVICE', `no instance of ${service}/${area} in the overlay`);
  }

  /** This node's ids as a data frame carries them. */
  #addresses(): DataSource {
    return { source: this.#idBytes, origin: this.#vnetIdBytes, ids: this.#ids };
  }

  #link$(): FramedLink {
    if (this.#link === undefined) throw this.#notConnected();
    return this.#link;
  }

  /** The error of a call made without a link: the fatal refusal once there was one. */
  #notConnected(): L8Error {
    if (this.#closedWith !== undefined) return this.#closedWith;
    return l8error(this.#state === 'closed' ? 'L8_ERR_CLOSED' : 'L8_ERR_CONNECT', 'VNic is not connected to a VNet');
  }

  /** Sends an encoded frame (answers built by the dispatcher). */
  #send(frame: Buffer): void {
    checkFrameSize(frame.length - 4, this.#peerMaxFrame);
    this.#link$().send(frame);
  }

  #sendData(d: DataInit): void {
    sendData(this.#link$(), d, this.#peerMaxFrame);
  }

  /** Sends a control frame if the link has room; a full link is busy, so a heartbeat or stats can wait. */
  #control(body: ControlBody): void {
    this.#link?.trySend(encodeControl(this.id, body));
  }

  /** Sends a control frame that must not be lost: waits for room when the link is full. */
  #controlReliable(body: ControlBody): void {
    const link = this.#link;
    const frame = encodeControl(this.id, body);
    if (link === undefined || link.trySend(frame)) return;
    link.writable(frame.length).then(
      () => this.#controlReliable(body),
      () => undefined, // the link closed: the next hello carries the state
    );
  }

  #hello(): NodeHello {
    return {
      version: PROTOCOL_VERSION,
      nodeId: this.id,
      alias: this.alias,
      role: 'vnic',
      vnet: this.#vnetId,
      services: this.#dispatch.services(),
      maxFrame: this.#o.maxFrame ?? DEFAULT_MAX_FRAME,
      heartbeatMs: this.#heartbeatMs,
    };
  }

  async #dial(): Promise<void> {
    this.#state = 'connecting';
    try {
      const address = discoverVNet(this.#o.vnet, this.#o.env ?? process.env, this.#o.socketPath);
      const opened = await dialLink(this.#o.provider, address, this.#hello(), this.#o.handshakeMs);
      if ((this.#state as VNicState) === 'closed') return void opened.stream.destroy(); // closed while dialling
      this.#vnetId = opened.hello.nodeId;
      this.#vnetIdBytes = nodeIdToBytes(this.#vnetId);
      this.#peerMaxFrame = opened.hello.maxFrame;
      this.#delay = this.#o.reconnect?.firstMs ?? 100;
      this.#link = new FramedLink(opened.stream, {
        head: opened.head,
        maxFrame: this.#o.maxFrame ?? DEFAULT_MAX_FRAME,
        maxQueuedBytes: this.#o.maxQueuedBytes ?? 8 * 1024 * 1024,
        onFrame: (f) => this.#onFrame(f),
        onClose: (e) => this.#onClose(e),
      });
      this.#state = 'connected';
      this.#link.start();
    } catch (err) {
      this.#retry(toL8Error(err, 'L8_ERR_CONNECT'));
    }
  }

  #retry(error: L8Error): void {
    if (this.#state === 'closed') return;
    if (FATAL_CODES.has(error.code)) return this.#fatal(error);
    if (!error.retryable && this.#ready !== undefined) {
      this.#ready.reject(error);
      this.#ready = undefined;
    }
    this.#state = 'connecting';
    const max = this.#o.reconnect?.maxMs ?? 5000;
    const wait = this.#delay * (0.7 + Math.random() * 0.6);
    this.#delay = Math.min(max, this.#delay * 2);
    // ref'd on purpose: a VNic that is reconnecting is work in progress, as a pending socket would be
    this.#reconnectTimer = setTimeout(() => void this.#dial(), wait);
  }

  #onClose(error: L8Error | undefined): void {
    this.#link = undefined;
    // the VNet says why it closes a link for a security reason just before it does (a `close` message)
    const reason = this.#closeReason ?? error;
    this.#closeReason = undefined;
    if (reason !== undefined && FATAL_CODES.has(reason.code)) return this.#fatal(reason);
    this.#pending.failAll(l8error('L8_ERR_CONNECT', `link to the VNet closed${error ? `: ${error.message}` : ''}`));
    this.#retry(error ?? l8error('L8_ERR_CONNECT', 'link closed'));
  }

  /**
   * The VNet refused this node for good: stop reconnecting, fail what waits and every later call with
   * `error`, and report it once.
   */
  #fatal(error: L8Error): void {
    if (this.#state !== 'closed') this.#closedWith = error;
    if (!this.#shutdown(error)) return;
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
    const kind = frame[Offset.KIND];
    if (kind === Kind.REPLY || kind === Kind.PROGRESS || kind === Kind.FAIL) {
      return this.#pending.answer(frame, kind, this.#fromVNet, this.#drops);
    }
    // the dispatcher drops a frame whose header lengths run past its end before it reads the service
    if (kind === Kind.REQUEST || kind === Kind.NOTIFY || kind === Kind.EVENT) return this.#dispatch.deliver(frame);
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

  /** Whether the frame's source is a VNet: this VNic's own, or a node health lists with role `vnet`. */
  readonly #fromVNet = (frame: Buffer): boolean =>
    isSourceOf(this.#vnetIdBytes, frame) || this.health.get(readNodeId(frame, Offset.SOURCE))?.role === 'vnet';

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
    else if (c.t === 'drop') this.health.dropSlice(c.vnet);
    // the VNet's reason for closing the link, sent just before it does; kept for #onClose
    else if (c.t === 'close') this.#closeReason = fromWire(c.error);
  }

  #onHealth(delta: HealthDelta): void {
    if (!this.health.applyDelta(delta)) return this.#controlReliable({ t: 'resync' });
    if (delta.vnet === this.#vnetId && this.#ready !== undefined) {
      this.#ready.resolve();
      this.#ready = undefined;
    }
  }

  #heartbeat(): void {
    const link = this.#link;
    if (link === undefined) return;
    const now = performance.now();
    if (now - link.lastReceivedAt > this.#heartbeatMs) {
      link.close(
        l8error('L8_ERR_TIMEOUT', `no frame from the VNet within the ${this.#heartbeatMs} ms heartbeat deadline`),
      );
    } else if (now - link.lastSentAt >= this.#heartbeatMs / 2) {
      this.#control({ t: 'hb' });
    }
  }

  #sendStats(): void {
    if (this.#link !== undefined) this.#control({ t: 'stats', stats: this.#sampler.sample(this.#link.stats) });
  }
}
