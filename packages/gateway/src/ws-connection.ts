import { l8error } from '@layer8/protocol';
import type { RawData, WebSocket } from 'ws';
import {
  type ClientMessage,
  errorMessage,
  parseClientMessage,
  type ServerMessage,
  type SubscribeMessage,
  type WatchMessage,
  WsClose,
  type WsCounters,
  type WsLimits,
} from './ws-protocol.ts';
import type { PushSubscription } from './ws-subscription.ts';
import type { SystemWatch } from './ws-system.ts';

/** What a connection holds under a client's id: a subscription or a watch. */
type Stream = Pick<PushSubscription | SystemWatch, 'end' | 'onEnd'>;

/** What a connection asks of the push endpoint. */
export interface ConnectionHost {
  readonly counters: WsCounters;
  readonly limits: WsLimits;
  /** Starts a subscription for a client. @throws L8Error (no such route, not followable, bad query) */
  subscribe(m: SubscribeMessage, identity: string, send: (m: ServerMessage) => void): PushSubscription;
  /** Starts a watch of a topic for a client (refused later with an error message when not authorized). */
  watch(m: WatchMessage, identity: string, send: (m: ServerMessage) => void): SystemWatch;
  /** The connection closed. */
  closed(c: PushConnection): void;
}

/** How long a cut client has to take its close frame before its socket is destroyed, ms. */
const CLOSE_GRACE_MS = 1000;

/**
 * One client of the push endpoint: its subscriptions, its messages and its send buffer. A client that
 * lets more than `highWaterMark` bytes wait is cut with 1013 rather than buffered; one that does not
 * answer a ping before the next is cut with 4000.
 *
 * Invariant: `#subs` holds exactly the subscriptions of this connection that have not ended.
 */
export class PushConnection {
  readonly identity: string;
  readonly #ws: WebSocket;
  readonly #host: ConnectionHost;
  readonly #subs = new Map<string, Stream>();
  /** When the token expires, epoch ms (undefined: no expiry known); checked at every heartbeat. */
  readonly #expiresAt: number | undefined;
  #alive = true;
  #closing = false;

  constructor(ws: WebSocket, identity: string, host: ConnectionHost, expiresAt?: number) {
    this.#ws = ws;
    this.identity = identity;
    this.#expiresAt = expiresAt;
    this.#host = host;
    ws.on('message', (data, binary) => this.#onMessage(data, binary));
    ws.on('pong', () => {
      this.#alive = true;
    });
    ws.on('close', () => this.#onClose());
    ws.on('error', () => undefined); // 'close' follows: that is where the connection is cleaned up
  }

  /** Whether the connection is closing or closed. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Sends one message, or cuts the client when its buffer is past the high-water mark. */
  send(m: ServerMessage): void {
    if (this.#closing) return;
    const data = JSON.stringify(m);
    if (this.#ws.bufferedAmount + data.length > this.#host.limits.highWaterMark) {
      this.#host.counters.slow++;
      this.close(WsClose.SLOW, 'L8_ERR_BACKPRESSURE');
      return;
    }
    this.#host.counters.sent++;
    this.#ws.send(data);
  }

  /** Pings, after cutting the client when the previous ping went unanswered or its token expired. */
  heartbeat(): void {
    if (this.#closing) return;
    if (this.#expiresAt !== undefined && Date.now() >= this.#expiresAt) {
      this.#host.counters.expired++;
      this.close(WsClose.UNAUTHORIZED, 'L8_ERR_AUTH');
      return;
    }
    if (!this.#alive) {
      this.#host.counters.dead++;
      this.close(WsClose.DEAD, 'L8_ERR_TIMEOUT');
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  /** Closes with `code` and `reason`, destroying the socket if the close frame cannot go out in time. */
  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#endAll();
    this.#ws.close(code, reason);
    setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  #onMessage(data: RawData, binary: boolean): void {
    if (this.#closing) return;
    let m: ClientMessage;
    try {
      if (binary) throw l8error('L8_ERR_INVALID_ARGUMENT', 'messages are JSON text');
      m = parseClientMessage(data.toString());
    } catch (err) {
      this.#host.counters.badMessages++;
      this.send(errorMessage(err, (err as { data?: { id?: string } }).data?.id));
      return;
    }
    const send = (out: ServerMessage) => this.send(out);
    if (m.op === 'subscribe') this.#start(m.id, () => this.#host.subscribe(m, this.identity, send));
    else if (m.op === 'watch') this.#start(m.id, () => this.#host.watch(m, this.identity, send));
    else this.#unsubscribe(m.id, m.op === 'unwatch' ? 'unwatched' : 'unsubscribed');
  }

  /** Starts a subscription or a watch under `id` (they share the ids and the `maxSubscriptions` limit). */
  #start(id: string, start: () => Stream): void {
    const limits = this.#host.limits;
    try {
      if (this.#subs.has(id)) throw l8error('L8_ERR_CONFLICT', `subscription ${id} exists`);
      if (this.#subs.size >= limits.maxSubscriptions) {
        throw l8error('L8_ERR_LIMIT', `at most ${limits.maxSubscriptions} subscriptions per connection`);
      }
      const sub = start();
      this.#subs.set(id, sub);
      const release = sub.onEnd;
      sub.onEnd = () => {
        this.#subs.delete(id);
        release();
      };
    } catch (err) {
      this.send(errorMessage(err, id));
    }
  }

  #unsubscribe(id: string, answer: 'unsubscribed' | 'unwatched'): void {
    const sub = this.#subs.get(id);
    if (sub === undefined) {
      this.send(errorMessage(l8error('L8_ERR_NOT_FOUND', `no subscription ${id}`), id));
      return;
    }
    sub.end();
    this.send({ op: answer, id });
  }

  #endAll(): void {
    for (const s of [...this.#subs.values()]) s.end();
  }

  #onClose(): void {
    this.#closing = true;
    this.#endAll();
    this.#host.closed(this);
  }
}
