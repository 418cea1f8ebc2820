import { createSocket, type Socket } from 'node:dgram';
import { isNodeId } from '@layer8/protocol';

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
}

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
 * an unknown one dials it as a static peer would be (the link itself authenticates, so a forged beacon
 * costs one failed dial). Each address is adopted once; its dialer then keeps it dialled.
 *
 * Invariant: `#known` holds the `host:port` of every address handed to `onPeer`.
 */
export class Discovery {
  readonly #o: DiscoveryOptions;
  readonly #self: Beacon;
  readonly #onPeer: (host: string, port: number) => void;
  readonly #known = new Set<string>();
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    options: DiscoveryOptions,
    self: { vnet: string; host: string; port: number },
    onPeer: (host: string, port: number) => void,
  ) {
    this.#o = options;
    this.#self = { l8: 1, overlay: options.overlay ?? 'layer8', ...self };
    this.#onPeer = onPeer;
    this.#known.add(`${self.host}:${self.port}`);
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
    this.#timer = setInterval(() => this.#beacon(), this.#o.intervalMs ?? 5000).unref();
  }

  /** Stops beaconing and closes the socket (idempotent). */
  close(): void {
    clearInterval(this.#timer);
    this.#socket?.close();
    this.#socket = undefined;
  }

  #beacon(): void {
    this.#socket?.send(JSON.stringify(this.#self), this.#o.port, this.#o.broadcast ?? '255.255.255.255');
  }

  #heard(msg: Buffer): void {
    const b = parseBeacon(msg);
    if (b === undefined || b.overlay !== this.#self.overlay || b.vnet === this.#self.vnet) return;
    const key = `${b.host}:${b.port}`;
    if (this.#known.has(key)) return;
    this.#known.add(key);
    this.#onPeer(b.host, b.port);
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
      Number.isInteger(b.port);
    return ok ? (b as Beacon) : undefined;
  } catch {
    return undefined;
  }
}
