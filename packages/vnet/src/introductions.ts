import { randomBytes } from 'node:crypto';
import { encodeControl, type NodeId, nodeKey } from '@layer8/protocol';
import type { Connection } from './connection.ts';
import type { ControlHost } from './control-host.ts';
import { sendControlFrame } from './control-send.ts';

/** Introductions one VNic may ask for per window before the VNet refuses more (`L8_ERR_LIMIT`). */
export const INTRODUCTIONS_PER_WINDOW = 64;
/** The window of {@link INTRODUCTIONS_PER_WINDOW}, ms. */
export const INTRODUCTION_WINDOW_MS = 10_000;

/** Counters of the same-host short cut, read by tests and state dumps. */
export interface IntroductionCounters {
  /** Introductions made (both VNics told). */
  introduced: number;
  /** Introductions refused (the other node is not a local VNic with a direct socket, a limit, …). */
  refused: number;
}

/**
 * The same-host short cut (DESIGN.md §4): two VNics attached to this VNet over its unix socket may talk
 * over a direct unix socket, which halves the process wake-ups of a round trip. The VNet keeps what it
 * vouches for: it introduces them, giving each a one-time token that only it could have handed out over
 * the links it authenticated, so each end of the direct link knows who the other is without another
 * certificate exchange; the VNics keep the link only while health shows the other end up (a revoked or
 * lost node is dropped by the VNet, and then by its direct peers).
 *
 * A VNic announces its direct socket with `direct`; another asks with `introduce`. The VNet checks both
 * are local, attached over the unix socket (so on this host), up, and not the same node, then sends the
 * listener `expect` and the asker `introduced` with the path and both tokens; otherwise `introduced` with
 * `refused` and a code.
 *
 * Invariant: `#asked` holds, per asking node key, the start of its window and the introductions in it.
 */
export class Introductions {
  readonly counters: IntroductionCounters = { introduced: 0, refused: 0 };
  readonly #host: ControlHost;
  readonly #asked = new Map<string, { since: number; n: number }>();

  constructor(host: ControlHost) {
    this.#host = host;
  }

  /** A local VNic announces where it accepts direct links. Only a VNic attached over the unix socket may. */
  announce(from: Connection, path: string): void {
    if (from.opened.transport === 'unix') from.directPath = path;
  }

  /** A local VNic asks to be introduced to `node`. */
  introduce(from: Connection, node: NodeId): void {
    const refused = this.#refusal(from, node);
    if (refused !== undefined) {
      this.counters.refused++;
      this.#tell(from, { t: 'introduced', node, refused });
      return;
    }
    const to = this.#host.locals.get(nodeKey(node)) as Connection;
    const token = randomBytes(16).toString('base64url');
    const reply = randomBytes(16).toString('base64url');
    this.#tell(to, { t: 'expect', node: from.id, token, reply });
    this.#tell(from, { t: 'introduced', node, path: to.directPath as string, token, reply });
    this.counters.introduced++;
  }

  /** Forgets a closed connection's window. */
  forget(conn: Connection): void {
    this.#asked.delete(conn.key);
  }

  /** Why `from` may not be introduced to `node` (a code), or undefined. */
  #refusal(from: Connection, node: NodeId): string | undefined {
    const to = this.#host.locals.get(nodeKey(node));
    if (from.opened.transport !== 'unix' || from.id === node) return 'L8_ERR_INVALID_ARGUMENT';
    if (to === undefined || to.directPath === undefined || this.#host.health.get(node)?.status !== 'up') {
      return 'L8_ERR_UNREACHABLE';
    }
    return this.#withinLimit(from) ? undefined : 'L8_ERR_LIMIT';
  }

  #withinLimit(from: Connection): boolean {
    const now = performance.now();
    const w = this.#asked.get(from.key);
    if (w === undefined || now - w.since > INTRODUCTION_WINDOW_MS) {
      this.#asked.set(from.key, { since: now, n: 1 });
      return true;
    }
    w.n++;
    return w.n <= INTRODUCTIONS_PER_WINDOW;
  }

  #tell(conn: Connection, body: { readonly t: string; readonly [k: string]: unknown }): void {
    sendControlFrame(conn, encodeControl(this.#host.id, body), this.#host.drops);
  }
}
