import type { LinkStats } from '@layer8/link';

/** Which end a link of a VNet has: a local VNic or a peer VNet. */
export type LinkKind = 'local' | 'peer';

/** How a link setup ended. */
export type HandshakeResult = 'accepted' | 'dialled' | 'refused' | 'abandoned' | 'dial_failed';

/** The counters of {@link LinkStats} (they only grow), summed over links. */
export type LinkTraffic = LinkStats;

function zeroTraffic(): LinkTraffic {
  return { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, refused: 0, writes: 0, pauses: 0 };
}

/** Adds `s` into `into`, field by field. */
function addTraffic(into: LinkTraffic, s: LinkStats): void {
  into.framesIn += s.framesIn;
  into.framesOut += s.framesOut;
  into.bytesIn += s.bytesIn;
  into.bytesOut += s.bytesOut;
  into.refused += s.refused;
  into.writes += s.writes;
  into.pauses += s.pauses;
}

/**
 * Counters a VNet keeps for its metrics besides its drops: the traffic of links already closed (the open
 * ones keep theirs in `FramedLink.stats`), so totals never go down when a link closes, and link setups by
 * result and error code. Nothing here is touched per frame: a link adds its counters once, when it
 * closes, and a handshake once, when it ends.
 *
 * Invariants: `closed[kind]` is the sum of the stats of every closed link of that kind; `linksClosed`
 * counts them; `handshakes` maps `result` → code (`OK` for a success) → count, codes being `L8_ERR_*`.
 */
export class VNetCounters {
  readonly closed: Record<LinkKind, LinkTraffic> = { local: zeroTraffic(), peer: zeroTraffic() };
  readonly linksClosed: Record<LinkKind, number> = { local: 0, peer: 0 };
  readonly handshakes = new Map<HandshakeResult, Map<string, number>>();

  /** Adds a link that just closed to the totals of its kind. */
  linkClosed(kind: LinkKind, stats: LinkStats): void {
    addTraffic(this.closed[kind], stats);
    this.linksClosed[kind]++;
  }

  /** Counts a link setup that ended with `result`, and the error `code` when it failed. */
  handshake(result: HandshakeResult, code = 'OK'): void {
    let codes = this.handshakes.get(result);
    if (codes === undefined) {
      codes = new Map();
      this.handshakes.set(result, codes);
    }
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }

  /** The traffic of every link of `kind` so far: the closed ones plus `open` (the open ones' stats). */
  traffic(kind: LinkKind, open: Iterable<LinkStats>): LinkTraffic {
    const t = { ...this.closed[kind] };
    for (const s of open) addTraffic(t, s);
    return t;
  }
}
