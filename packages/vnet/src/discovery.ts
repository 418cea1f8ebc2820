import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { isNodeId } from '@layer8/protocol';
import { PeerHints, type StartDialer } from './peer-hints.ts';

/** Options of UDP broadcast discovery (off unless given). */
export interface DiscoveryOptions {
  /** UDP port every VNet of the overlay listens and beacons on. */
  readonly port: number;
  /** Where beacons go. Default `255.255.255.255`; tests use `127.255.255.255`. */
  readonly broadcast?: string;
  /** Beacon interval, ms. Default 5000. */
  readonly intervalMs?: number;
  /** Overlay name: VNets ignore beacons of other overlays. Default `layer8`. */
  readonly overlay?: string;
  /** Most discovered addresses held (and dialled) at once. Default 64. */
  readonly maxAddresses?: number;
  /**
   * A discovered address not re-announced for this long is forgotten (its dialer stops; a link it made
   * stays), and one that failed stays ignored this long, ms. Default 3 × `intervalMs`.
   */
  readonly ttlMs?: number;
  /** Failed dials in a row after which a discovered address is forgotten. Default 5. */
  readonly maxDialFailures?: number;
}

/** Defaults of the discovery bounds. */
export const DISCOVERY_DEFAULTS = { intervalMs: 5000, maxAddresses: 64, ttlBeacons: 3, maxDialFailures: 5 } as const;

/** A beacon: who a VNet is and where it listens. */
interface Beacon {
  readonly l8: 1;
  readonly overlay: string;
  readonly vnet: string;
  readonly host: string;
  readonly port: number;
}

/**
 * UDP broadcast discovery (DESIGN.md §4): every VNet beacons its id and TCP address; a VNet that hears
 * one hands the address to a bounded table of hints ({@link PeerHints}) that dials it. A beacon is never
 * trusted: it only causes a dial, and the link's membership proof decides whether a peer is adopted; the
 * id it claims is used for nothing but ignoring our own beacons.
 */
export class Discovery {
  readonly #o: DiscoveryOptions;
  readonly #self: Beacon;
  readonly #selfKey: string;
  readonly #hints: PeerHints;
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: DiscoveryOptions, self: { vnet: string; host: string; port: number }, start: StartDialer) {
    this.#o = options;
    this.#self = { l8: 1, overlay: options.overlay ?? 'layer8', ...self };
    this.#selfKey = `${self.host}:${self.port}`;
    const intervalMs = options.intervalMs ?? DISCOVERY_DEFAULTS.intervalMs;
    const hints = {
      max: options.maxAddresses ?? DISCOVERY_DEFAULTS.maxAddresses,
      ttlMs: options.ttlMs ?? DISCOVERY_DEFAULTS.ttlBeacons * intervalMs,
      maxFailures: options.maxDialFailures ?? DISCOVERY_DEFAULTS.maxDialFailures,
    };
    this.#hints = new PeerHints(hints, start);
  }

  /** Binds the UDP port, beacons now and then every interval. */
  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.#socket = socket;
    socket.on('message', (msg) => this.#heard(msg));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(this.#o.port, resolve));
    socket.setBroadcast(true);
    this.#beacon();
    this.#timer = setInterval(() => this.#beacon(), this.#o.intervalMs ?? DISCOVERY_DEFAULTS.intervalMs).unref();
  }

  /** Stops beaconing, closes the socket and stops every discovered dialer (idempotent). */
  close(): void {
    clearInterval(this.#timer);
    this.#socket?.close();
    this.#socket = undefined;
    this.#hints.close();
  }

  #beacon(): void {
    this.#socket?.send(JSON.stringify(this.#self), this.#o.port, this.#o.broadcast ?? '255.255.255.255');
  }

  #heard(msg: Buffer): void {
    const b = parseBeacon(msg);
    if (b === undefined || b.overlay !== this.#self.overlay || b.vnet === this.#self.vnet) return;
    if (`${b.host}:${b.port}` !== this.#selfKey) this.#hints.heard(b.host, b.port);
  }
}

function parseBeacon(msg: Buffer): Beacon | undefined {
  if (msg.length > 1024) return undefined;
  try {
    const b = JSON.parse(msg.toString('utf8')) as Partial<Beacon>;
    const ok =
      b.l8 === 1 &&
      typeof b.overlay === 'string' &&
      isNodeId(b.vnet) &&
      typeof b.host === 'string' &&
      isIP(b.host) !== 0 &&
      Number.isInteger(b.port) &&
      (b.port as number) > 0 &&
      (b.port as number) < 65536;
    return ok ? (b as Beacon) : undefined;
  } catch {
    return undefined;
  }
}
