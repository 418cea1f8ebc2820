/**
 * The `system` topic of the WebSocket push endpoint (docs/gateway.md, "Dashboard"): the dashboard's picture
 * of the overlay ({@link SystemFeed}) and the gateway's own counters, sent to each watcher at once, then
 * every `intervalMs` and soon after a node is added, becomes unreachable or is removed.
 */
import type { HealthView } from '@layer8/health';
import { l8error } from '@layer8/protocol';
import type { UserAuthority } from '@layer8/security';
import { SystemFeed } from './system-feed.ts';
import { type DashboardView, errorMessage, type GatewayFigures, type ServerMessage } from './ws-protocol.ts';

/** Options of the `system` topic (`WsOptions.system`). */
export interface SystemTopicOptions {
  /** Interval of the views sent to each watcher, ms. Default 1000. */
  readonly intervalMs?: number;
  /**
   * With `auth`: the roles that may watch (one of them is enough; `*`: any logged-in user). Default
   * `['admin']`. Without `auth` every client the origin check lets in may watch, as it may use REST.
   */
  readonly roles?: readonly string[];
}

/** What the topic reads. */
export interface SystemContext {
  readonly health: HealthView;
  /** Validates watchers' tokens; undefined when the gateway has no `auth`. */
  readonly authority: UserAuthority | undefined;
  /** The gateway's figures now. */
  figures(): GatewayFigures;
}

/** Delay between a status change and the view it causes (changes within it go in one view), ms. */
const SOON_MS = 50;
/** How often a watcher's token is validated again (expiry, revocation), ms. */
const RECHECK_MS = 30_000;

/**
 * The watchers of the `system` topic and the one {@link SystemFeed} they share. One view is computed per
 * send, for every watcher.
 *
 * Invariants: `#timer` runs exactly while `#watches` is not empty; a watch is in `#watches` only once its
 * identity was authorized.
 */
export class SystemHub {
  readonly #ctx: SystemContext;
  readonly #intervalMs: number;
  readonly #roles: readonly string[];
  readonly #watches = new Set<SystemWatch>();
  #feed: SystemFeed | undefined;
  #stopHealth: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(ctx: SystemContext, o: SystemTopicOptions = {}) {
    this.#ctx = ctx;
    this.#intervalMs = o.intervalMs ?? 1000;
    this.#roles = o.roles ?? ['admin'];
  }

  /** Starts following health, so the events of the view go back to the gateway's start. */
  start(): void {
    if (this.#closed || this.#stopHealth !== undefined) return;
    this.#feed ??= new SystemFeed(this.#ctx.health);
    this.#stopHealth = this.#ctx.health.onChange((e) => e.type !== 'changed' && this.#sendSoon());
  }

  /** Starts a watch for a client: authorized first, then a view at once and on every send. */
  watch(id: string, identity: string, send: (m: ServerMessage) => void): SystemWatch {
    const w = new SystemWatch(id, identity, send);
    w.onEnd = () => this.#remove(w);
    this.#authorize(identity).then(
      () => this.#add(w),
      (err: unknown) => w.end(err),
    );
    return w;
  }

  /** Stops following health and sending. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#stopHealth?.();
    this.#feed?.close();
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#watches.clear();
  }

  /** The view now. */
  view(): DashboardView {
    this.#feed ??= new SystemFeed(this.#ctx.health);
    return { ...this.#feed.view(), gateway: this.#ctx.figures() };
  }

  /** Resolves when `identity` may watch. @throws L8_ERR_AUTH, L8_ERR_TOKEN_EXPIRED, L8_ERR_FORBIDDEN */
  async #authorize(identity: string): Promise<void> {
    const authority = this.#ctx.authority;
    if (authority === undefined) return;
    if (identity === '') throw l8error('L8_ERR_AUTH', 'log in first: the system topic needs a token');
    const who = await authority.validateToken(identity);
    if (this.#roles.includes('*') || who.roles.some((r) => this.#roles.includes(r))) return;
    throw l8error('L8_ERR_FORBIDDEN', `the system topic needs one of the roles ${this.#roles.join(', ')}`);
  }

  #add(w: SystemWatch): void {
    if (this.#closed || w.ended) return;
    this.#watches.add(w);
    w.checked = Date.now();
    w.send(this.view());
    this.#timer ??= setInterval(() => this.#tick(), this.#intervalMs).unref();
  }

  #remove(w: SystemWatch): void {
    this.#watches.delete(w);
    if (this.#watches.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    this.#sendAll();
    const now = Date.now();
    for (const w of this.#watches) if (now - w.checked >= RECHECK_MS) this.#recheck(w, now);
  }

  /** Validates a watcher's token again: an expired, revoked or demoted one ends its watch. */
  #recheck(w: SystemWatch, now: number): void {
    w.checked = now;
    this.#authorize(w.identity).catch((err: unknown) => w.end(err));
  }

  #sendSoon(): void {
    if (this.#soon !== undefined || this.#watches.size === 0) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.#sendAll();
    }, SOON_MS).unref();
  }

  #sendAll(): void {
    if (this.#watches.size === 0) return;
    const view = this.view();
    for (const w of [...this.#watches]) w.send(view);
  }
}

/** One client's watch of the `system` topic. */
export class SystemWatch {
  readonly id: string;
  readonly identity: string;
  readonly #send: (m: ServerMessage) => void;
  /** When its identity was last authorized, epoch ms. */
  checked = 0;
  #ended = false;
  /** Called once when the watch ends, however it ends. */
  onEnd: () => void = () => undefined;

  constructor(id: string, identity: string, send: (m: ServerMessage) => void) {
    this.id = id;
    this.identity = identity;
    this.#send = send;
  }

  /** Whether it has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Sends one view. */
  send(view: DashboardView): void {
    if (!this.#ended) this.#send({ op: 'system', id: this.id, view });
  }

  /** Ends the watch; with `err`, the client is told why (`{op:'error', id}`). Idempotent. */
  end(err?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (err !== undefined) this.#send(errorMessage(err, this.id));
    this.onEnd();
  }
}
