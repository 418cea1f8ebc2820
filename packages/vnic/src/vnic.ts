import { HealthTable, type HealthView, type TrafficCounters, type VNetControl } from '@layer8/health';
import type { LinkStats } from '@layer8/link';
import {
  type DataInit,
  DEFAULT_REQUEST_TIMEOUT_MS,
  Kind,
  type L8Error,
  l8error,
  MIN_MAX_FRAME,
  Mode,
  type NodeId,
  newNodeId,
  nodeIdToBytes,
  Offset,
  readNodeId,
  toL8Error,
  ZERO_NODE_ID,
} from '@layer8/protocol';
import type { BreakerState } from './breaker.ts';
import type { ConcurrencyLimit } from './bulkhead.ts';
import { ByteCache } from './byte-cache.ts';
import { Connection } from './connection.ts';
import { checkFrameSize, type DataSource, dataInit, MODE_BYTE, sendData } from './data-init.ts';
import type { DirectLinks } from './direct/direct-links.ts';
import { directLinksOf, onDirectControl } from './direct/vnic-direct.ts';
import {
  Dispatcher,
  dispatchLimits,
  type Handler,
  type HandlerLimitState,
  newDrops,
  type Subscription,
  type VNicDrops,
} from './dispatch.ts';
import { InstancePicker } from './instance-picker.ts';
import type { VNicState, VNicStatus } from './lifecycle.ts';
import { LocalCalls } from './local-call.ts';
import type { Incoming, Payload } from './payload.ts';
import { isSourceOf, PendingTable } from './pending.ts';
import { type HookedCall, hookedHandler, oneWayWarning, requestHooks } from './request-hooks.ts';
import { type CallPlan, Resilience } from './resilience.ts';
import {
  checkedService,
  type RequestOptions,
  type SendOptions,
  type SubscribeOptions,
  serviceOf,
  type Target,
} from './target.ts';
import { TurnBudget } from './turn-budget.ts';
import type { LeaderResolver, VNicOptions } from './vnic-options.ts';

/** Default deadline of {@link VNic.drain}, ms. */
const DRAIN_MS = 30_000;

/**
 * The client library inside each process (DESIGN.md §1, §4): finds and connects to the local VNet,
 * reconnects with back-off and jitter, sends one-way messages, multicasts and requests, and runs handlers.
 * Every destination is a {@link Target}; the connection's states are in {@link status}.
 *
 * Invariants: the node id never changes, so reconnects keep the node's identity in health; `#health`
 * changes only through the VNet's deltas (callers get a read-only view); `#draining` is set once, by
 * {@link drain}, and from then no new request is accepted.
 */
export class VNic {
  readonly id: NodeId;
  readonly alias: string;
  /** The replicated health table (every node's record), kept current by the VNet; read-only. */
  readonly health: HealthView;
  /**
   * In-process calls per turn of the event loop: `local` requests take from it, and so should other work
   * a caller does in this process without a socket (a service's local reads), so that a loop of such calls
   * lets the VNic's own link be read and flushed.
   */
  readonly turns = new TurnBudget();
  readonly #health = new HealthTable();
  readonly #o: VNicOptions;
  readonly #conn: Connection;
  readonly #pending: PendingTable;
  readonly #dispatch: Dispatcher;
  readonly #picker: InstancePicker;
  readonly #idBytes: Uint8Array;
  readonly #ids = new ByteCache();
  readonly #drops: VNicDrops = newDrops();
  /** `local`-mode requests served in this process. */
  readonly #local: LocalCalls;
  /** The same-host short cut; undefined with `direct: false`. */
  readonly #direct: DirectLinks | undefined;
  /** When the last frame came in over a direct link (`performance.now()`), for the handlers' deadlines. */
  #directAt = 0;
  #leader: LeaderResolver | undefined;
  /** Circuit breakers and retries of the requests this VNic makes (resilience.ts). */
  readonly #resilience: Resilience;
  /** The request wrapper of the hooks on (observer, tracer, debug log); undefined for none. */
  readonly #hooked: HookedCall | undefined;
  #draining: Promise<void> | undefined;
  /** `handlerConcurrency` as a Map (a service name is never read as an inherited key). */
  readonly #limits: ReadonlyMap<string, ConcurrencyLimit> | undefined;

  /**
   * @throws L8_ERR_INVALID_ARGUMENT when `maxFrame` is below `MIN_MAX_FRAME` (256 KiB) or one of `bulkheads`
   * is malformed.
   */
  constructor(options: VNicOptions) {
    if (options.maxFrame !== undefined && options.maxFrame < MIN_MAX_FRAME) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `maxFrame ${options.maxFrame} is below the minimum of ${MIN_MAX_FRAME}`);
    }
    this.#o = options;
    this.id = options.id ?? newNodeId();
    this.alias = options.alias ?? `vnic-${process.pid}`;
    this.health = this.#health.view();
    this.#idBytes = nodeIdToBytes(this.id);
    this.#pending = new PendingTable(options.maxPending ?? 100_000, { idBytes: (node) => this.#ids.bytes(node) });
    this.#picker = new InstancePicker(this.#health);
    this.#resilience = new Resilience(options);
    this.#limits = options.handlerConcurrency && new Map(Object.entries(options.handlerConcurrency));
    this.#conn = new Connection(options, this, this.#health, this.#connectionHost(), this.#drops);
    this.#dispatch = new Dispatcher({
      idBytes: this.#idBytes,
      vnetIdBytes: () => this.#conn.vnetIdBytes,
      send: (frame) => this.#send(frame),
      control: (body) => this.#conn.controlReliable(body),
      limits: dispatchLimits(options),
      drops: this.#drops,
      onHandlerError: options.onHandlerError ?? oneWayWarning(options.logger, this.#logFields()),
      calls: this,
      receivedAt: () => Math.max(this.#conn.link?.lastReceivedAt ?? performance.now(), this.#directAt),
    });
    this.#direct = directLinksOf(options, {
      id: this.id,
      health: this.#health,
      pending: this.#pending,
      drops: this.#drops,
      vnetId: () => this.#conn.vnetId,
      deliver: (frame) => this.#dispatch.deliver(frame),
      control: (body) => this.#conn.controlReliable(body),
      heard: (at) => {
        this.#directAt = at;
      },
    });
    this.#hooked = requestHooks(options, this.#logFields());
    this.#local = new LocalCalls({
      id: this.id,
      vnetId: () => this.#conn.vnetId,
      pendingSize: () => this.#pending.size,
      maxPending: options.maxPending ?? 100_000,
      defaultTimeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      contexts: this.#dispatch.contexts,
      turns: this.turns,
    });
    this.#health.onChange((e) => {
      if (e.type !== 'unreachable' && e.type !== 'removed') return;
      const why = `node ${e.record.alias} (${e.record.id}) is ${e.type}`;
      this.#direct?.drop(e.record.id, why);
      this.#pending.failNode(e.record.id, l8error('L8_ERR_UNREACHABLE', why));
    });
  }

  /** Current connection state. */
  get state(): VNicState {
    return this.#conn.state;
  }

  /** The VNet this VNic is attached to (zero id before the first link). */
  get vnetId(): NodeId {
    return this.#conn.vnetId;
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
   * authentication, a forbidden or over-limit node); undefined otherwise. Once set, the VNic is `closed`.
   */
  get closedWith(): L8Error | undefined {
    return this.#conn.closedWith;
  }

  /** Handlers running and messages queued for a handler slot (`maxHandlersInFlight`, `maxQueuedRequests`). */
  get handlers(): { readonly inFlight: number; readonly queued: number } {
    return { inFlight: this.#dispatch.inFlight, queued: this.#dispatch.queued };
  }

  /** The same-host short cut at this VNic: links open now, and counters (docs/overlay.md, "Same host"). */
  get direct(): { readonly open: number; readonly opened: number; readonly refused: number; readonly spoofed: number } {
    const c = this.#direct?.counters ?? { opened: 0, refused: 0, spoofed: 0 };
    return { open: this.#direct?.size ?? 0, ...c };
  }

  /** Traffic counters of the current link. */
  get linkStats(): LinkStats | undefined {
    return this.#conn.link?.stats;
  }

  /**
   * Connects to the VNet and resolves once the health table holds the VNet's slice; keeps reconnecting
   * afterwards until {@link close}. Rejects, and closes the VNic, when no VNet answered within
   * `connectTimeoutMs` (the error names the last cause), when the first attempt fails in a way a retry
   * cannot fix (wrong provider or version), or on a security refusal (see {@link closedWith}). A second
   * call returns the first call's promise.
   */
  connect(): Promise<void> {
    return this.#conn.connect();
  }

  /**
   * Every change of the connection's state from now on (connecting, connected, disconnected,
   * reconnecting, draining, closed) with its reason; the iteration ends after `closed`.
   */
  status(): AsyncIterableIterator<VNicStatus> {
    return this.#conn.life.status();
  }

  /** Resolves once the VNic is closed: with the error that closed it, undefined after `close()`/`drain()`. */
  closed(): Promise<L8Error | undefined> {
    return this.#conn.life.closed();
  }

  /**
   * Registers `handler` for the target's (service, area); the VNet and, through health, every node learn
   * of it. `state` says what the instance is doing (`recovering` until it can serve), shown in health and
   * respected by the instance modes; `Subscription.setState` changes it. `concurrency` bounds how many of
   * its runs go at once (a bulkhead or an adaptive limit). @throws L8_ERR_INVALID_ARGUMENT for a bad limit
   */
  subscribe(target: Target, handler: Handler, options: SubscribeOptions = {}): Subscription {
    const { service, area } = serviceOf(target);
    if (this.#draining !== undefined) throw this.#conn.notConnected();
    const hooked = hookedHandler(this.#o, this.#logFields(), service, handler);
    const limit = options.concurrency ?? this.#limits?.get(service);
    return this.#dispatch.subscribe(service, area, hooked, options.state, limit);
  }

  /** The concurrency limit of this VNic's handler of (service, area) now; undefined when it has none. */
  handlerLimit(service: string, area = 0): HandlerLimitState | undefined {
    return this.#dispatch.limitOf(service, area);
  }

  /** The caller bulkhead of (service, area) here: requests in flight and waiting; undefined before its first use. */
  bulkhead(service: string, area = 0): { readonly running: number; readonly waiting: number } | undefined {
    const b = this.#resilience.bulkheads.peek(service, area);
    return b === undefined ? undefined : { running: b.running, waiting: b.waiting };
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
    await this.#conn.linkOrThrow().writable(bytes);
  }

  /** Whether `bytes` more can be sent now without `L8_ERR_BACKPRESSURE`. */
  canSend(bytes = 0): boolean {
    return this.#conn.link?.canSend(bytes) ?? false;
  }

  /**
   * Sends a one-way message to one receiver: the target's `node`, or one instance picked by its `mode`.
   * @throws L8_ERR_CLOSED, L8_ERR_CONNECT, L8_ERR_BACKPRESSURE, L8_ERR_NO_SERVICE (nothing was sent)
   */
  send(target: Target, payload?: Payload, options: SendOptions = {}): void {
    const { service, area } = serviceOf(target);
    const node = target.node ?? this.#resolve(service, area, target.mode ?? 'round-robin');
    const mode = target.node !== undefined ? Mode.UNICAST : (MODE_BYTE[target.mode ?? 'round-robin'] as Mode);
    const at = { kind: Kind.NOTIFY, mode, node, service, area, seq: 0 };
    this.#sendData(dataInit(at, this.#addresses(), payload, options, options.timeoutMs ?? 0));
  }

  /**
   * Sends a one-way message to every subscriber of the target's (service, area) in the overlay, each
   * once; peer VNets receive one copy only when they have a subscriber. The sender's own handler is not
   * called. @throws L8_ERR_CLOSED, L8_ERR_CONNECT, L8_ERR_BACKPRESSURE
   */
  multicast(target: Target, payload?: Payload, options: SendOptions = {}): void {
    const { service, area } = serviceOf(target);
    const at = { kind: Kind.NOTIFY, mode: Mode.MULTICAST, node: ZERO_NODE_ID, service, area, seq: 0 };
    this.#sendData(dataInit(at, this.#addresses(), payload, options, options.timeoutMs ?? 0));
  }

  /**
   * Sends a request and resolves with the reply. Fails at once with a typed error when the target is
   * unreachable, has no instance, the handler fails, or the link pushes back; `L8_ERR_TIMEOUT` after the
   * deadline; `L8_ERR_ABORTED` when `signal` aborts; `L8_ERR_CLOSED` while draining.
   */
  request(target: Target, payload?: Payload, options: RequestOptions = {}): Promise<Incoming> {
    const hooked = this.#hooked;
    if (hooked === undefined) return this.#request(target, payload, options);
    return hooked(target, options, (o) => this.#request(target, payload, o));
  }

  /** The fields every log line of this VNic carries. */
  #logFields(): Record<string, unknown> {
    return { node: this.id, alias: this.alias };
  }

  #request(target: Target, payload: Payload, options: RequestOptions): Promise<Incoming> {
    const startedAt = this.#resilience.observer === undefined ? 0 : performance.now();
    try {
      if (this.#draining !== undefined || this.state === 'closed') throw this.#conn.notConnected();
      if (options.signal?.aborted) throw l8error('L8_ERR_ABORTED', 'request aborted by the caller');
      const service = checkedService(target);
      const area = target.area ?? 0;
      const mode = target.node !== undefined ? 'unicast' : (target.mode ?? 'round-robin');
      if (mode === 'local') {
        const local = this.#dispatch.handlerOf(service, area);
        if (local !== undefined)
          return this.#resilience.watch(
            service,
            options,
            startedAt,
            this.#local.call(local, service, area, payload, options),
          );
      }
      return this.#resilience.call(this.#plan(target, service, area, mode, payload, options, startedAt));
    } catch (err) {
      const e = toL8Error(err, 'L8_ERR_INTERNAL');
      this.#resilience.refused(typeof target?.service === 'string' ? target.service : '', options, startedAt, e.code);
      return Promise.reject(e);
    }
  }

  /** A request as the resilience layer makes it: the node is picked per attempt, the breakers respected. */
  #plan(
    target: Target,
    service: string,
    area: number,
    mode: string,
    payload: Payload,
    o: RequestOptions,
    startedAt: number,
  ): CallPlan {
    const byte = MODE_BYTE[mode] as Mode;
    return {
      service,
      area,
      options: o,
      timeoutMs: o.timeoutMs ?? this.#o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      startedAt,
      pick: () => target.node ?? this.#resolve(service, area, mode),
      send: (node, options) => this.#sendRequest(node, service, area, byte, payload, options),
    };
  }

  /** The state of the circuit breaker of (service, area, node) at this caller (`closed` when breakers are off). */
  breakerState(service: string, area: number, node: NodeId): BreakerState {
    return this.#resilience.breakers?.state(service, area, node) ?? 'closed';
  }

  /**
   * Stops taking new work and lets what runs finish, then closes: handlers are withdrawn (the VNet stops
   * routing here; a message that still arrives is refused with `L8_ERR_NO_SERVICE`, which a caller may
   * retry elsewhere), new requests fail with `L8_ERR_CLOSED`, and running handlers, queued messages and
   * requests in flight get until `deadlineMs` (default 30000). Past it, what is left fails with
   * `L8_ERR_CLOSED` and running handlers' signals abort. A second call returns the first one's promise.
   */
  drain(deadlineMs = DRAIN_MS): Promise<void> {
    this.#draining ??= this.#drain(deadlineMs);
    return this.#draining;
  }

  async #drain(deadlineMs: number): Promise<void> {
    if (this.state === 'closed') return;
    this.#dispatch.unsubscribeAll();
    this.#conn.drain();
    const until = performance.now() + deadlineMs;
    while (!this.#idle() && performance.now() < until && (this.state as VNicState) !== 'closed') {
      await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, until - performance.now()))));
    }
    await this.#flush(until);
    await this.close();
  }

  #idle(): boolean {
    return this.#dispatch.idle && this.#pending.size === 0 && this.#local.inFlight === 0;
  }

  /** Waits (until `until`) for the link's queued bytes to go out, so the last replies are not lost. */
  async #flush(until: number): Promise<void> {
    while ((this.#conn.link?.pendingBytes ?? 0) > 0 && performance.now() < until) await sleep(5);
  }

  /** Closes the link and stops reconnecting; pending requests fail with `L8_ERR_CLOSED` (idempotent). */
  async close(): Promise<void> {
    // a clean goodbye: the VNet removes this node at once instead of showing it unreachable for a while
    this.#conn.stop(l8error('L8_ERR_CLOSED', 'VNic closed'), true);
  }

  #sendRequest(node: NodeId, service: string, area: number, mode: Mode, payload: Payload, o: RequestOptions) {
    const timeout = o.timeoutMs ?? this.#o.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const { seq, promise } = this.#pending.add(node, timeout, o.onProgress, o.signal);
    try {
      const at = { kind: Kind.REQUEST, mode, node, service, area, seq };
      const direct = this.#direct?.linkTo(node);
      const d = dataInit(at, this.#addresses(), payload, o, timeout);
      if (direct === undefined) this.#sendData(d);
      else sendData(direct.link, d, direct.peerMaxFrame);
    } catch (err) {
      this.#pending.fail(seq, toL8Error(err, 'L8_ERR_CONNECT'));
    }
    return promise;
  }

  #connectionHost() {
    return {
      services: () => this.#dispatch.services(),
      onData: (frame: Buffer) => this.#dispatch.deliver(frame),
      onAnswer: (frame: Buffer, kind: number) => this.#pending.answer(frame, kind, this.#fromVNet, this.#drops),
      onLinkLost: (error: L8Error) => {
        this.#direct?.closeLinks(error);
        this.#pending.failAll(error);
      },
      onAttached: (transport: 'unix' | 'tcp') => {
        if (transport === 'unix')
          this.#direct
            ?.announce()
            .catch((err) =>
              this.#o.logger?.warn?.(
                { ...this.#logFields(), err: String(err) },
                'no direct socket: the same-host short cut is off',
              ),
            );
      },
      traffic: (link: TrafficCounters) => this.#direct?.traffic(link) ?? link,
      onDirect: (c: Extract<VNetControl, { t: 'expect' | 'introduced' }>) => onDirectControl(this.#direct, c),
      onStopped: (error: L8Error) => {
        this.#direct?.close(error);
        this.#dispatch.clear();
        this.#dispatch.abortRunning(error);
        this.#pending.failAll(error);
      },
    };
  }

  #resolve(service: string, area: number, mode: string): NodeId {
    if (mode === 'leader') {
      const leader = this.#leader?.(service, area);
      if (leader === undefined) throw l8error('L8_ERR_NO_LEADER', `no elected leader for ${service}/${area}`);
      return leader;
    }
    const near = mode === 'round-robin' ? undefined : this.#conn.vnetId;
    const node = this.#picker.pick(service, area, near, this.#resilience.breakers);
    if (node !== undefined) return node;
    // a subscription of this process that health has not echoed back yet still counts
    if (this.#dispatch.handlerOf(service, area) !== undefined) return this.id;
    throw l8error('L8_ERR_NO_SERVICE', `no instance of ${service}/${area} in the overlay`);
  }

  /** This node's ids as a data frame carries them. */
  #addresses(): DataSource {
    return { source: this.#idBytes, origin: this.#conn.vnetIdBytes, ids: this.#ids };
  }

  /** Sends an encoded frame (answers built by the dispatcher). */
  #send(frame: Buffer): void {
    const direct = this.#direct?.linkOf(frame);
    checkFrameSize(frame.length - 4, direct?.peerMaxFrame ?? this.#conn.peerMaxFrame);
    (direct?.link ?? this.#conn.linkOrThrow()).send(frame);
  }

  #sendData(d: DataInit): void {
    sendData(this.#conn.linkOrThrow(), d, this.#conn.peerMaxFrame);
  }

  /** Whether the frame's source is a VNet: this VNic's own, or a node health lists with role `vnet`. */
  readonly #fromVNet = (frame: Buffer): boolean =>
    isSourceOf(this.#conn.vnetIdBytes, frame) || this.#health.get(readNodeId(frame, Offset.SOURCE))?.role === 'vnet';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
