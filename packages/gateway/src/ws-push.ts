import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { l8error, type NodeId, toL8Error } from '@layer8/protocol';
import type { UserAuthority, UserIdentity } from '@layer8/security';
import type { VNic } from '@layer8/vnic';
import { WebSocketServer } from 'ws';
import { ACCESS_COOKIE } from './auth/auth-cookies.ts';
import type { Directory, GatewayLogger } from './directory.ts';
import { HttpError } from './http-errors.ts';
import { type Route, routeKey } from './route.ts';
import { checkUpgrade, originOf, refuseUpgrade } from './ws-auth.ts';
import { type ConnectionHost, PushConnection } from './ws-connection.ts';
import { ChangeFeed } from './ws-feed.ts';
import { followedQuery } from './ws-fetch.ts';
import {
  type ServerMessage,
  type SubscribeMessage,
  type WatchMessage,
  WS_DEFAULTS,
  WS_PROTOCOL,
  WsClose,
  type WsCounters,
  type WsLimits,
} from './ws-protocol.ts';
import { PushSubscription, type SubscriptionHost } from './ws-subscription.ts';
import { SystemHub, type SystemTopicOptions, type SystemWatch } from './ws-system.ts';

/** Options of the WebSocket push endpoint (the gateway's `ws` option); limits default to {@link WS_DEFAULTS}. */
export interface WsOptions extends Partial<WsLimits> {
  /** Origins allowed to connect (`*`: any). Default: the gateway's own origin (`http://host:port`). */
  readonly origins?: readonly string[];
  /** The cookie that may carry the access token. Default `__Host-l8-access` (the AAA access cookie). */
  readonly accessCookie?: string;
  /** The `system` topic of the dashboard: interval and who may watch (docs/gateway.md, "Dashboard"). */
  readonly system?: SystemTopicOptions;
}

/** What the push endpoint is built on. */
export interface WsPushContext {
  readonly directory: Directory;
  readonly vnic: VNic;
  readonly logger: GatewayLogger | undefined;
  /** Validates the tokens of `system` watchers (their roles); undefined: the gateway has no `auth`. */
  readonly authority?: UserAuthority | undefined;
  /**
   * Checks the token of every upgrade (refused 401 when missing unless anonymous, invalid, expired or
   * revoked) and again at every heartbeat (the connection is closed 4001 once it no longer holds): the
   * gateway's `AuthApi.authenticate`; undefined without `auth`, and tokens then go unchecked to the services.
   */
  readonly authenticate?: ((token: string) => Promise<UserIdentity | undefined>) | undefined;
  /** The gateway's HTTP counters, shown by the `system` topic. */
  readonly http?: { readonly requests: number; readonly byStatus: Readonly<Record<number, number>> };
}

/**
 * The WebSocket push endpoint `/ws` (docs/gateway.md, "WebSocket push"): clients subscribe to an L8QL query
 * on a route and get a snapshot, then its changes. One {@link ChangeFeed} per route followed by at least
 * one subscription; a route that disappears (or changes its model) ends its subscriptions with
 * `L8_ERR_NO_SERVICE`.
 *
 * Invariant: `#feeds` holds exactly the feeds with at least one subscription; `#conns` the open connections.
 */
export class WsPush implements ConnectionHost {
  readonly counters: WsCounters = {
    connections: 0,
    open: 0,
    refused: 0,
    slow: 0,
    dead: 0,
    expired: 0,
    sent: 0,
    badMessages: 0,
    gaps: 0,
    resyncs: 0,
    dropped: 0,
  };
  readonly limits: WsLimits;
  readonly #o: WsOptions;
  readonly #ctx: WsPushContext;
  readonly #wss: WebSocketServer;
  readonly #feeds = new Map<string, ChangeFeed>();
  readonly #conns = new Set<PushConnection>();
  readonly #system: SystemHub;
  #origins: readonly string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stop: (() => void) | undefined;

  constructor(ctx: WsPushContext, options: WsOptions = {}) {
    this.#ctx = ctx;
    this.#o = options;
    const { origins: _o, accessCookie: _c, system, ...limits } = options;
    this.limits = { ...WS_DEFAULTS, ...limits };
    this.#system = new SystemHub(
      { health: ctx.vnic.health, authority: ctx.authority, figures: () => this.#figures() },
      system,
    );
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxMessageBytes,
      handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
  }

  /** Serves upgrades of `server`, whose own origin is `url`; starts the heartbeat and follows the directory. */
  attach(server: Server, url: string): void {
    this.#origins = this.#o.origins ?? [originOf(url)];
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    this.#timer = setInterval(() => this.#heartbeat(), this.limits.pingIntervalMs).unref();
    this.#stop = this.#ctx.directory.onChange(() => this.#routesChanged());
    this.#system.start();
  }

  /** Closes every connection (1001) and stops every feed. Idempotent. */
  close(): void {
    clearInterval(this.#timer);
    this.#stop?.();
    this.#stop = undefined;
    this.#system.close();
    for (const c of [...this.#conns]) c.close(WsClose.GOING_AWAY, 'L8_ERR_CLOSED');
    for (const f of this.#feeds.values()) f.close();
    this.#feeds.clear();
    for (const c of this.#wss.clients) c.terminate();
    this.#wss.close();
  }

  /** Starts a subscription (see {@link ConnectionHost.subscribe}). */
  subscribe(m: SubscribeMessage, identity: string, send: (m: ServerMessage) => void): PushSubscription {
    const route = this.#ctx.directory.route(m.area, m.service);
    if (route === undefined)
      throw l8error('L8_ERR_NO_SERVICE', `no service ${m.service} is published in area ${m.area}`);
    if (!route.descriptor.stateful || !route.descriptor.actions.includes('get')) {
      throw l8error('L8_ERR_UNSUPPORTED', `${route.name} has no items to follow (stateful with GET)`);
    }
    const sub = new PushSubscription(m.id, identity, followedQuery(route, m.q), this.#host(route), send);
    const k = routeKey(route.area, route.name);
    let feed = this.#feeds.get(k);
    if (feed === undefined) {
      feed = new ChangeFeed(route, this.#host(route), this.limits.maxQueued);
      this.#feeds.set(k, feed);
    }
    const f = feed;
    sub.onEnd = () => f.remove(sub) && this.#feeds.get(k) === f && this.#feeds.delete(k);
    f.add(sub);
    return sub;
  }

  /** Starts a watch of the `system` topic (see {@link ConnectionHost.watch}). */
  watch(m: WatchMessage, identity: string, send: (m: ServerMessage) => void): SystemWatch {
    return this.#system.watch(m.id, identity, send);
  }

  /** Forgets a closed connection. */
  closed(c: PushConnection): void {
    if (this.#conns.delete(c)) this.counters.open--;
  }

  #figures() {
    const { directory, http } = this.#ctx;
    return {
      requests: http?.requests ?? 0,
      byStatus: { ...http?.byStatus },
      routes: directory.routes().length,
      push: { ...this.counters },
      directory: { ...directory.counters },
    };
  }

  #host(route: Route): SubscriptionHost {
    const { directory, vnic, logger } = this.#ctx;
    return {
      vnic,
      timeoutMs: this.limits.fetchTimeoutMs,
      counters: this.counters,
      route: () => directory.route(route.area, route.name),
      pick: (r: Route): NodeId | undefined => directory.pick(r),
      fault: (err) => logger?.error({ err, service: route.name, area: route.area }, 'gateway: push fault'),
    };
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let identity: string;
    try {
      identity = checkUpgrade(req, { origins: this.#origins, accessCookie: this.#o.accessCookie ?? ACCESS_COOKIE });
      if (this.#conns.size >= this.limits.maxConnections) {
        throw new HttpError(503, l8error('L8_ERR_LIMIT', `at most ${this.limits.maxConnections} connections`));
      }
    } catch (err) {
      this.#refuse(socket, err);
      return;
    }
    this.#authenticate(identity).then(
      (expiresAt) => this.#accept(req, socket, head, identity, expiresAt),
      (err: unknown) => this.#refuse(socket, err),
    );
  }

  /**
   * Checks `token` as the gateway's AAA does, if it has any: resolves with its expiry (epoch ms; undefined
   * for none).
   * @throws HttpError 401 L8_ERR_AUTH without a token (unless anonymous) or with one the authority refuses
   */
  async #authenticate(token: string): Promise<number | undefined> {
    const check = this.#ctx.authenticate;
    if (check === undefined) return undefined;
    try {
      const expiresAt = (await check(token))?.expiresAt;
      return expiresAt === undefined ? undefined : expiresAt * 1000;
    } catch (err) {
      throw err instanceof HttpError ? err : new HttpError(401, toL8Error(err, 'L8_ERR_AUTH'));
    }
  }

  #accept(req: IncomingMessage, socket: Duplex, head: Buffer, identity: string, expiresAt: number | undefined): void {
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new PushConnection(ws, identity, this, expiresAt);
      this.#conns.add(c);
      this.counters.connections++;
      this.counters.open++;
    });
  }

  #refuse(socket: Duplex, err: unknown): void {
    this.counters.refused++;
    const e = err instanceof HttpError ? err : new HttpError(400, l8error('L8_ERR_INVALID_ARGUMENT', 'bad upgrade'));
    refuseUpgrade(socket, e);
  }

  /** Pings every connection, and closes those whose token expired or no longer validates (revoked). */
  #heartbeat(): void {
    for (const c of this.#conns) {
      c.heartbeat();
      if (this.#ctx.authenticate !== undefined && c.identity !== '' && !c.closing) this.#recheck(c);
    }
  }

  #recheck(c: PushConnection): void {
    this.#authenticate(c.identity).catch((err: unknown) => {
      if (c.closing) return;
      this.counters.expired++;
      c.close(WsClose.UNAUTHORIZED, (err as HttpError).error?.code ?? 'L8_ERR_AUTH');
    });
  }

  /** Ends the subscriptions of every route that is gone or whose model changed. */
  #routesChanged(): void {
    for (const [k, f] of [...this.#feeds]) {
      const route = this.#ctx.directory.route(f.area, f.name);
      if (route !== undefined && route.fingerprint === f.fingerprint) continue;
      this.#feeds.delete(k);
      const why = route === undefined ? 'is no longer published' : 'changed its model: subscribe again';
      f.endAll(l8error('L8_ERR_NO_SERVICE', `${f.name} in area ${f.area} ${why}`));
    }
  }
}
