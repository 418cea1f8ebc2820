import type { LinkStats } from '@layer8/link';
import type { SecurityProvider } from '@layer8/security';
import { VNet, type VNetLogger } from '@layer8/vnet';
import { VNic, type VNicLogger } from '@layer8/vnic';
import {
  bump,
  type TargetReady,
  type TargetStats,
  type VNetTargetConfig,
  type VNicTargetConfig,
} from './target-config.ts';

/** A running target: what it says when ready, its counters, and how it stops. */
export interface RunningTarget {
  readonly ready: TargetReady;
  stats(): Omit<TargetStats, 'rss' | 'heapUsed'>;
  close(): Promise<void>;
}

/**
 * Log messages of a VNet that closed an established link on a fault, with the code in their fields
 * (vnet/src/link-membership.ts): a frame its decoder refused, a socket error, a silent peer. A link
 * refused by the control plane (`link refused`) is not among them: its frame is in the drop counters.
 */
const CLOSING = new Set(['link closed', 'link closed by the other end']);
/** Log messages of a fault a component caught in itself. */
const FAULTS = new Set(['control plane fault (ignored)']);

/** A logger that keeps no lines, only counts: links closed on a fault by code, and faults caught inside the target. */
function countingLogger(closes: Record<string, number>, faults: Record<string, number>): VNetLogger & VNicLogger {
  const count = (o: object, msg?: string): void => {
    const code = (o as { code?: string }).code ?? 'none';
    if (msg !== undefined && FAULTS.has(msg)) bump(faults, msg);
    else if (msg !== undefined && CLOSING.has(msg)) bump(closes, code);
  };
  return { debug: count, info: () => undefined, warn: count };
}

/** Frames a VNic received over all its links: the closed links' sum, and the current link's counter. */
class LinkFrames {
  #closed = 0;
  #current: LinkStats | undefined;

  /** A new link is up: the previous one's count joins the sum. */
  linked(stats: LinkStats): void {
    this.#closed += this.#current?.framesIn ?? 0;
    this.#current = stats;
  }

  get total(): number {
    return this.#closed + (this.#current?.framesIn ?? 0);
  }
}

/** Starts the VNet of a `vnet` target. */
export async function vnetTarget(c: VNetTargetConfig, provider: SecurityProvider): Promise<RunningTarget> {
  const closes: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const vnet = new VNet({
    id: c.id,
    provider,
    host: c.host,
    port: 0,
    socketPath: c.socketPath,
    alias: 'fuzz-target-vnet',
    logger: countingLogger(closes, faults),
  });
  const a = await vnet.start();
  const open = (m: Map<string, { link: { stats: LinkStats } }>) => [...m.values()].map((x) => x.link.stats);
  return {
    ready: { ready: true, tcp: a.tcp, ...(a.unix === undefined ? {} : { unix: a.unix }) },
    stats: () => ({
      framesIn:
        vnet.counters.traffic('local', open(vnet.locals)).framesIn +
        vnet.counters.traffic('peer', open(vnet.peers)).framesIn,
      drops: { ...vnet.drops },
      closes: { ...closes },
      refusedSetups: Object.fromEntries(vnet.counters.handshakes.get('refused') ?? []),
      faults: { ...faults },
    }),
    close: () => vnet.close(),
  };
}

/** Starts the VNic of a `vnic` target: it dials the fuzzer (its VNet) and echoes requests to its service. */
export function vnicTarget(c: VNicTargetConfig, provider: SecurityProvider): RunningTarget {
  const closes: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const links = new LinkFrames();
  const vnic = new VNic({
    id: c.id,
    provider,
    vnet: c.vnet,
    alias: 'fuzz-target-vnic',
    reconnect: { firstMs: 5, maxMs: 50 },
    connectTimeoutMs: 60_000,
    logger: countingLogger({}, faults),
    // a one-way message whose body does not decode fails its handler: counted in drops.oneWayFailures
    onHandlerError: () => undefined,
  });
  vnic.subscribe({ service: c.service, area: 0 }, (m) => m.payload);
  void watchStates(vnic, links, closes, refused);
  vnic.connect().catch(() => undefined);
  return {
    ready: { ready: true },
    stats: () => ({
      framesIn: links.total,
      drops: { ...vnic.drops },
      closes: { ...closes },
      refusedSetups: { ...refused },
      faults: { ...faults },
      state: vnic.state,
    }),
    close: () => vnic.close(),
  };
}

/** Counts a VNic's lost links and failed link setups by code, and keeps each link's traffic counters. */
async function watchStates(
  vnic: VNic,
  links: LinkFrames,
  closes: Record<string, number>,
  refused: Record<string, number>,
): Promise<void> {
  let last = vnic.state;
  for await (const s of vnic.status()) {
    const stats = vnic.linkStats;
    if (s.state === 'connected' && stats !== undefined) links.linked(stats);
    if (s.reason !== undefined) bump(last === 'connected' ? closes : refused, s.reason.code);
    last = s.state;
  }
}
