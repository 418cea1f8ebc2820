import type { TrafficCounters } from '@layer8/health';
import { encodeControl, type L8Error, l8error } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import type { ControlHost } from './control-host.ts';

/** The part of its VNet a round reads: the open links, the VNet's id and its options. */
type Links = Pick<ControlHost, 'id' | 'locals' | 'peers' | 'options'>;

/** Counters of control traffic, read by tests that bound the cost of a heartbeat round. */
export interface ControlCounters {
  heartbeatsSent: number;
  healthSent: number;
  /** `suspect` messages sent (a watched peer link silent for 3/4 of the deadline). */
  suspectsSent: number;
  /** Peer links watched at the last round (ring neighbours, links in use, probes). */
  watched: number;
  rounds: number;
  /** Rebuilds of the route and service tables (membership changes only, never stats). */
  rebuilds: number;
}

/** Every open link of a VNet: local VNics, then peer VNets. */
export function allLinks(vnet: Pick<Links, 'locals' | 'peers'>): Connection[] {
  return [...vnet.locals.values(), ...vnet.peers.values()];
}

/**
 * One heartbeat round over the local links (DESIGN.md §5): closes links silent for the deadline with
 * `L8_ERR_TIMEOUT` and sends a heartbeat on links idle for half of it. Peer links are the business of
 * `Liveness` (only some of them are watched).
 */
export function heartbeatRound(vnet: Links, counters: ControlCounters): void {
  const now = performance.now();
  const deadline = vnet.options.heartbeatMs;
  const hb = encodeControl(vnet.id, { t: 'hb' });
  counters.rounds++;
  for (const c of vnet.locals.values()) {
    if (now - c.link.lastReceivedAt > deadline) {
      c.link.close(
        l8error('L8_ERR_TIMEOUT', `no frame from ${c.hello.alias} within the ${deadline} ms heartbeat deadline`),
      );
    } else if (now - c.link.lastSentAt >= deadline / 2 && c.link.trySend(hb)) {
      counters.heartbeatsSent++;
    }
  }
}

/**
 * Re-checks every open link's identity with the provider (a revocation list that changed, a certificate
 * that expired) and hands the ones to close, with their error, to `refuse`.
 */
export function recheckRound(vnet: Links, refuse: (conn: Connection, error: L8Error) => void): void {
  for (const c of allLinks(vnet)) {
    const error = vnet.options.provider.recheck(c.opened.peer);
    if (error !== undefined) refuse(c, error);
  }
}

/** The traffic of every open link, summed, for the VNet's own stats. */
export function trafficOf(vnet: Pick<Links, 'locals' | 'peers'>): TrafficCounters {
  const t = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
  for (const { link } of allLinks(vnet)) {
    t.framesIn += link.stats.framesIn;
    t.framesOut += link.stats.framesOut;
    t.bytesIn += link.stats.bytesIn;
    t.bytesOut += link.stats.bytesOut;
  }
  return t;
}
