import { createServer, type Server, type Socket } from 'node:net';
import { HealthTable } from '@layer8/health';
import { FramedLink, type LinkAddress, type LinkTransport, type NodeHello } from '@layer8/link';
import {
  DEFAULT_HANDSHAKE_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_FRAME,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_STATS_MS,
  type L8Error,
  l8error,
  MIN_MAX_FRAME,
  type NodeId,
  newNodeId,
  PROTOCOL_VERSION,
  toL8Error,
} from '@layer8/protocol';
import { acceptLink, dialLink, type OpenedLink, type PeerIdentity } from '@layer8/security';
import { Admission } from './admission.ts';
import { Connection, type DropCounters } from './connection.ts';
import { ControlPlane } from './control-plane.ts';
import { Discovery, type DiscoveryOptions } from './discovery.ts';
import { isGone } from './link-membership.ts';
import { type DialLimits, PeerDialer, type RetireReason } from './peer-dialer.ts';
import { PeerFlow } from './peer-flow.ts';
import { RouteTables } from './route-tables.ts';
import { Router } from './router.ts';
import { prepareSocketPath, removeSocketFile, type SocketFile, socketFileOf, withSocketUmask } from './unix-socket.ts';
import { VNetCounters } from './vnet-counters.ts';
import {
  DEFAULT_VNET_PORT,
  defaultSocketPath,
  type VNetAddresses,
  type VNetLogger,
  type VNetOptions,
} from './vnet-options.ts';

const SILENT: VNetLogger = { debug() {}, info() {}, warn() {} };

/**
 * The switch (DESIGN.md §1): owns the host's links, the route table (node → peer VNet), the service
 * table ((service, area) → subscribers) and the host's slice of health. Routes on the header alone.
 *
 * Invariants: `locals` holds one open connection per attached VNic, keyed by node key; `peers` one
 * per peer VNet, keyed by VNet id; `tables` are derived from `health` and the links, and rebuilt by
 * the control plane after every membership change (never for stats alone).
 */
export class VNet {
  readonly id: NodeId;
  readonly alias: string;
  readonly health = new HealthTable();
  readonly drops: DropCounters = {
    spoofed: 0,
    malformed: 0,
    unreachable: 0,
    noService: 0,
    noLeader: 0,
    ttl: 0,
    tooLarge: 0,
    backpressure: 0,
    identity: 0,
    limit: 0,
    forbidden: 0,
    handshakes: 0,
    overMaxFrame: 0,
    peerBackpressure: 0,
    flowSpoofed: 0,
  };
  readonly locals = new Map<string, Connection>();
  readonly peers = new Map<string, Connection>();
  /** What the router reads: local VNics and remote nodes by id bytes, and the service table. */
  readonly tables = new RouteTables();
  readonly options: Required<Omit<VNetOptions, 'id' | 'alias' | 'peers' | 'discovery' | 'limits'>> & {
    peers: readonly LinkAddress[];
  };
  readonly log: VNetLogger;
  readonly control: ControlPlane;
  /** Flow control with peer VNets, per destination node (peer-flow.ts). */
  readonly flow: PeerFlow;
  /** Who may join as what; per-identity bounds. */
  readonly admission: Admission;
  /** Traffic of closed links and link setups by result, for metrics (never touched per frame). */
  readonly counters = new VNetCounters();
  readonly #router: Router;
  readonly #servers: Server[] = [];
  readonly #dialers: PeerDialer[] = [];
  /** Sockets in their handshake → remote address (`unix` for the local socket). */
  readonly #pending = new Map<Socket, string>();
  #addresses: VNetAddresses | undefined;
  #discovery: Discovery | undefined;
  /** The unix socket this VNet created (removed on close only if still that inode). */
  #socketFile: SocketFile | undefined;
  readonly #discoveryOptions: DiscoveryOptions | undefined;
  #closed = false;

  /** @throws L8_ERR_INVALID_ARGUMENT when `maxFrame` is below {@link MIN_MAX_FRAME} (control messages must fit). */
  constructor(options: VNetOptions) {
    if (options.maxFrame !== undefined && options.maxFrame < MIN_MAX_FRAME) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `maxFrame ${options.maxFrame} is below the minimum of ${MIN_MAX_FRAME}`);
    }
    this.id = options.id ?? newNodeId();
    this.options = {
      provider: options.provider,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? DEFAULT_VNET_PORT,
      socketPath: options.socketPath ?? defaultSocketPath(options.port ?? DEFAULT_VNET_PORT),
      peers: options.peers ?? [],
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      statsMs: options.statsMs ?? DEFAULT_STATS_MS,
      maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME,
      maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
      handshakeMs: options.handshakeMs ?? DEFAULT_HANDSHAKE_MS,
      logger: options.logger ?? SILENT,
      recheckMs: options.recheckMs ?? 1000,
      maxPendingHandshakes: options.maxPendingHandshakes ?? 256,
      maxPendingPerAddress: options.maxPendingPerAddress ?? 16,
    };
    this.log = this.options.logger;
    this.#discoveryOptions = options.discovery;
    this.alias = options.alias ?? `vnet@${this.options.host}:${this.options.port}`;
    this.admission = new Admission(this, options.limits);
    this.flow = new PeerFlow(this);
    this.control = new ControlPlane(this);
    this.#router = new Router({
      flow: this.flow,
      id: this.id,
      locals: this.tables.locals,
      routes: this.tables.routes,
      services: this.tables.services,
      tables: this.tables,
      refreshRoutes: () => this.control.refreshRoutes(),
      drops: this.drops,
      onControl: (from, frame) => this.control.onControl(from, frame),
    });
  }

  /** Where the VNet listens; set once {@link start} resolved. */
  get addresses(): VNetAddresses {
    if (this.#addresses === undefined) throw toL8Error(new Error('VNet not started'), 'L8_ERR_INVALID_ARGUMENT');
    return this.#addresses;
  }

  /**
   * Listens on TCP (and the unix socket), dials the static peers and starts heartbeats. When a listen
   * fails, whatever was already bound is released and the VNet is closed.
   * @throws L8_ERR_INSECURE when the provider refuses the host or the socket path; L8_ERR_CONNECT when a listen fails.
   */
  async start(): Promise<VNetAddresses> {
    this.options.provider.checkAddress(this.options.host);
    let tcp: { host: string; port: number };
    let unix: string | undefined;
    try {
      tcp = await this.#listen('tcp', { host: this.options.host, port: this.options.port });
      unix = this.options.socketPath === false ? undefined : await this.#listenUnix(this.options.socketPath);
    } catch (err) {
      // a half-started VNet (TCP bound, unix socket refused) would look alive: release what was bound
      await this.close();
      throw err;
    }
    this.#addresses = unix === undefined ? { tcp } : { tcp, unix };
    this.control.start();
    for (const address of this.options.peers) this.addPeer(address);
    if (this.#discoveryOptions !== undefined) await this.#startDiscovery(this.#discoveryOptions, tcp);
    this.log.info({ vnet: this.id, ...this.#addresses }, 'vnet listening');
    return this.#addresses;
  }

  /**
   * Dials `address` and keeps it dialled (redial with back-off): forever for a static peer, or within
   * `limits` for a discovered one (which then leaves this VNet's dialers when it retires).
   */
  addPeer(address: LinkAddress, limits?: DialLimits): PeerDialer {
    const retired = limits && {
      maxFailures: limits.maxFailures,
      onRetired: (reason: RetireReason) => {
        const i = this.#dialers.indexOf(dialer);
        if (i >= 0) this.#dialers.splice(i, 1);
        limits.onRetired(reason);
      },
    };
    const dialer = new PeerDialer(
      address,
      {
        dial: (a) => dialLink(this.options.provider, a, this.hello(), this.options.handshakeMs),
        // the proven id even when this link lost the duplicate tie-break: the VNet is linked by the other
        adopt: (opened) => {
          this.counters.handshake('dialled');
          this.attach(opened, true);
          return opened.hello.nodeId;
        },
        hasPeer: (id) => this.peers.has(id),
        onDialError: (a, e) => {
          this.counters.handshake('dial_failed', e.code);
          if (!this.#closed) this.log.warn({ peer: a, code: e.code, err: e.message }, 'peer dial failed');
        },
      },
      retired,
    );
    this.#dialers.push(dialer);
    dialer.start();
    return dialer;
  }

  async #startDiscovery(options: DiscoveryOptions, tcp: { host: string; port: number }): Promise<void> {
    this.#discovery = new Discovery(options, { vnet: this.id, ...tcp }, (address, limits) => {
      this.log.info(address, 'peer discovered');
      return this.addPeer(address, {
        maxFailures: limits.maxFailures,
        onRetired: (reason) => {
          this.log.info({ ...address, reason }, 'discovered peer forgotten');
          limits.onRetired(reason);
        },
      });
    });
    await this.#discovery.start();
  }

  /** The hello this VNet sends on every link. */
  hello(): NodeHello {
    return {
      version: PROTOCOL_VERSION,
      nodeId: this.id,
      alias: this.alias,
      role: 'vnet',
      vnet: this.id,
      services: [],
      maxFrame: this.options.maxFrame,
      heartbeatMs: this.options.heartbeatMs,
    };
  }

  /** Connections in their handshake now (bounded by `maxPendingHandshakes`). */
  get pendingHandshakes(): number {
    return this.#pending.size;
  }

  /** Frames forwarded to each peer VNet, by peer id (zero-waste proofs in tests). */
  forwardedPerPeer(): Record<string, number> {
    return Object.fromEntries([...this.peers].map(([id, c]) => [id, c.forwarded]));
  }

  /**
   * Adopts an opened link as a local VNic or a peer VNet; returns the connection, or undefined when
   * the link lost a duplicate tie-break and was closed.
   */
  attach(opened: OpenedLink, dialled: boolean): Connection | undefined {
    let conn: Connection | undefined;
    const link = new FramedLink(opened.stream, {
      head: opened.head,
      maxFrame: this.options.maxFrame,
      maxQueuedBytes: this.options.maxQueuedBytes,
      onFrame: (frame) => this.#router.handle(conn as Connection, frame),
      onClose: (err) => this.#detached(conn as Connection, err),
    });
    conn = new Connection(opened, link, dialled);
    if (this.#closed) {
      link.close();
      return undefined;
    }
    if (!this.control.attached(conn)) return undefined;
    link.start();
    return conn;
  }

  /** Closes listeners, dialers and every link (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.#dialers) d.stop();
    this.#discovery?.close();
    this.control.stop();
    this.flow.close();
    for (const s of this.#pending.keys()) s.destroy();
    for (const c of [...this.locals.values(), ...this.peers.values()]) c.link.close();
    await Promise.all(this.#servers.map((s) => new Promise((r) => s.close(r))));
    await removeSocketFile(this.#socketFile);
  }

  #detached(conn: Connection, err: L8Error | undefined): void {
    this.counters.linkClosed(conn.isPeer ? 'peer' : 'local', conn.link.stats);
    if (err?.code === 'L8_ERR_FRAME_TOO_LARGE') this.drops.tooLarge++;
    this.control.detached(conn, err);
    if (conn.isPeer) for (const d of this.#dialers) d.poke();
  }

  async #accept(socket: Socket, transport: LinkTransport): Promise<void> {
    const from = this.#admitHandshake(socket);
    if (from === undefined) return;
    this.#pending.set(socket, from);
    try {
      const check = (hello: NodeHello, peer: PeerIdentity): void => this.admission.check(hello, peer);
      const { provider, handshakeMs } = this.options;
      const opened = await acceptLink(provider, socket, transport, this.hello(), handshakeMs, check);
      this.#pending.delete(socket);
      this.counters.handshake('accepted');
      this.attach(opened, false);
    } catch (err) {
      this.#pending.delete(socket);
      const e = toL8Error(err, 'L8_ERR_HANDSHAKE');
      this.counters.handshake(isGone(e) ? 'abandoned' : 'refused', e.code);
      // a client that gave up mid-handshake (its socket gone) is not refused by us: nothing to warn about
      if (isGone(e)) this.log.debug?.({ code: e.code, err: e.message, transport }, 'handshake abandoned');
      else this.log.warn({ code: e.code, err: e.message, transport }, 'link refused');
    }
  }

  /**
   * Bounds connections in their handshake, in total and per remote address, so idle sockets cannot
   * hold every descriptor and lock honest nodes out. A socket over a bound is closed at once and counted;
   * otherwise returns the address it is counted under.
   */
  #admitHandshake(socket: Socket): string | undefined {
    const from = socket.remoteAddress ?? 'unix';
    let same = 0;
    for (const a of this.#pending.values()) if (a === from) same++;
    const perAddress = from === 'unix' ? this.options.maxPendingHandshakes : this.options.maxPendingPerAddress;
    if (this.#pending.size < this.options.maxPendingHandshakes && same < perAddress) return from;
    this.drops.handshakes++;
    socket.destroy();
    return undefined;
  }

  #listen(
    transport: LinkTransport,
    at: { host: string; port: number } | { path: string },
  ): Promise<{ host: string; port: number }> {
    const server = createServer({ noDelay: true }, (socket) => void this.#accept(socket, transport));
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(toL8Error(e, 'L8_ERR_CONNECT')));
      server.listen(at, () => {
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host: '', port: 0 });
      });
    });
  }

  /** Binds the unix socket in a directory only we can write, born 0660 (see unix-socket.ts). */
  async #listenUnix(path: string): Promise<string> {
    await prepareSocketPath(path);
    // #listen binds synchronously inside its promise executor, so the umask covers exactly the bind
    await withSocketUmask(() => this.#listen('unix', { path }));
    this.#socketFile = socketFileOf(path);
    return path;
  }
}
