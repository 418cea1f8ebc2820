import { once } from 'node:events';
import { withDeadline } from '@layer8/testkit';
import WebSocket from 'ws';
import { WS_PROTOCOL } from '../src/index.ts';

/** A message the gateway sent, as parsed JSON. */
export interface Msg {
  readonly op: string;
  readonly id?: string;
  readonly code?: string;
  readonly key?: string;
  readonly version?: number;
  readonly kind?: 'upsert' | 'delete';
  readonly item?: Record<string, unknown>;
  readonly fromVersion?: number;
  readonly changes?: readonly { path: string; op: string; value?: unknown }[];
  readonly items?: readonly { key: string; version: number; item: Record<string, unknown> }[];
  readonly total?: number;
}

/** What a client holds of one subscription: key → version and item, as it applied the messages. */
export type Held = Map<string, { version: number; item: Record<string, unknown> }>;

/** Options of {@link WsClient.open}. */
export interface OpenOptions {
  readonly token?: string;
  readonly origin?: string;
  readonly protocols?: string[];
  readonly path?: string;
}

/**
 * A real `ws` client of the gateway's `/ws` that records every message and applies snapshots and changes
 * the way a browser client would, so tests compare its state with a GET.
 */
export class WsClient {
  readonly ws: WebSocket;
  readonly messages: Msg[] = [];
  readonly held = new Map<string, Held>();
  /** Changes this client could not apply (there must be none). */
  readonly errors: string[] = [];
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => this.#onMessage(JSON.parse(data.toString()) as Msg));
  }

  /** Connects to `${url}/ws`; rejects with the HTTP status when the upgrade is refused. */
  static async open(url: string, o: OpenOptions = {}): Promise<WsClient> {
    const headers: Record<string, string> = {};
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.origin !== undefined) headers.origin = o.origin;
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${o.path ?? '/ws'}`, o.protocols ?? [WS_PROTOCOL], {
      headers,
    });
    const c = new WsClient(ws);
    const refused = once(ws, 'unexpected-response').then(([, res]) => {
      throw Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode as number });
    });
    await Promise.race([once(ws, 'open'), refused]);
    return c;
  }

  /** Sends one JSON message. */
  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }

  /** Subscribes and waits for the first snapshot (or error) of `id`. */
  async subscribe(id: string, service: string, q?: string, area = 0): Promise<Msg> {
    const from = this.messages.length;
    this.send({ op: 'subscribe', id, area, service, ...(q === undefined ? {} : { q }) });
    return this.next((m) => m.id === id && (m.op === 'snapshot' || m.op === 'error'), `snapshot of ${id}`, from);
  }

  /** Waits for the first message from index `from` on that `pred` accepts. */
  async next(pred: (m: Msg) => boolean, what: string, from = 0, ms = 10_000): Promise<Msg> {
    const found = () => this.messages.slice(from).find(pred);
    return withDeadline(
      (async () => {
        for (;;) {
          const m = found();
          if (m !== undefined) return m;
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      what,
    );
  }

  /** Waits until the state held for `id` satisfies `pred`. */
  until(id: string, pred: (h: Held) => boolean, what: string, ms = 10_000): Promise<Msg> {
    return this.next(() => pred(this.held.get(id) ?? new Map()), what, 0, ms);
  }

  /** Messages of subscription `id` from index `from` on. */
  of(id: string, from = 0): Msg[] {
    return this.messages.slice(from).filter((m) => m.id === id);
  }

  /** Closes the connection. */
  close(): void {
    this.ws.terminate();
  }

  #onMessage(m: Msg): void {
    this.messages.push(m);
    try {
      if (m.id !== undefined) this.#apply(m.id, m);
    } catch (err) {
      this.errors.push((err as Error).message);
    }
    const w = this.#waiters;
    this.#waiters = [];
    for (const resolve of w) resolve();
  }

  #apply(id: string, m: Msg): void {
    if (m.op === 'snapshot') {
      this.held.set(id, new Map((m.items ?? []).map((i) => [i.key, { version: i.version, item: i.item }])));
      return;
    }
    const h = this.held.get(id);
    if (m.op !== 'change' || h === undefined || m.key === undefined) return;
    if (m.kind === 'delete') h.delete(m.key);
    else if (m.item !== undefined) h.set(m.key, { version: m.version as number, item: m.item });
    else h.set(m.key, { version: m.version as number, item: patched(h.get(m.key), m) });
  }
}

/** Applies a change set of top-level fields (what the tests patch); throws on one the client cannot apply. */
function patched(held: { version: number; item: Record<string, unknown> } | undefined, m: Msg) {
  if (held === undefined || held.version !== m.fromVersion) {
    throw new Error(`change of ${m.key} from ${m.fromVersion} but the client holds ${held?.version}`);
  }
  const item = { ...held.item };
  for (const c of m.changes ?? []) {
    const name = c.path.replace(/_([a-z])/g, (_s, ch: string) => ch.toUpperCase());
    if (c.op === 'delete') delete item[name];
    else item[name] = c.value;
  }
  return item;
}
