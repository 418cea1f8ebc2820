import type { HealthEvent, HealthRecord } from '@layer8/health';
import { Action, type NodeId } from '@layer8/protocol';
import { WEB_SERVICE, type WebDescriptor } from '@layer8/services';
import type { VNic } from '@layer8/vnic';
import { checkAnswer, modelKey } from './descriptor-check.ts';
import { buildModel, offersByRoute, type Route, type RouteModel, routeKey, routeOf } from './route.ts';

/** Where the directory and the gateway log (a pino logger fits). */
export interface GatewayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of a {@link Directory}. */
export interface DirectoryOptions {
  readonly vnic: VNic;
  readonly logger?: GatewayLogger;
  /** Deadline of one descriptor fetch, ms. Default 5000. */
  readonly fetchTimeoutMs?: number;
  /** First delay before a failed fetch is retried, ms (doubling, 5 tries). Default 500. */
  readonly retryMs?: number;
}

/** Counters of a directory (they only grow). */
export interface DirectoryCounters {
  /** Descriptor fetches sent. */
  fetches: number;
  /** Fetches that failed (timeout, node gone, malformed answer). */
  fetchFailures: number;
  /** Descriptors refused: malformed, a duplicate in one answer, or a model that does not build. */
  refused: number;
  /** Times a rebuild found two descriptors for one (area, service) (the winner is in `Route`). */
  conflicts: number;
}

/** What the directory knows of one node that hosts `l8.web`. */
interface NodeState {
  /** The node's (service, area) list when its descriptors were asked for. */
  signature: string;
  descriptors: readonly WebDescriptor[];
  /** Bumped by every fetch; an answer of an older fetch is dropped. */
  generation: number;
  retry: NodeJS.Timeout | undefined;
}

const MAX_TRIES = 5;
const NO_LOG: GatewayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The services the gateway publishes, learnt from the overlay: every node that hosts `l8.web` (from
 * health) is asked for its descriptors when it appears and whenever its list of services changes, and
 * forgotten when it leaves. Routes are kept per (area, service) with the nodes that offer them; a route
 * no node offers is gone. Two different descriptors of one (area, service): {@link winner} decides and
 * the conflict is counted and logged.
 *
 * Invariant: `#routes` is the function of `#nodes` computed by the last `#rebuild`, and `#revision`
 * changes exactly when `#routes` does.
 */
export class Directory {
  readonly counters: DirectoryCounters = { fetches: 0, fetchFailures: 0, refused: 0, conflicts: 0 };
  readonly #vnic: VNic;
  readonly #log: GatewayLogger;
  readonly #fetchMs: number;
  readonly #retryMs: number;
  readonly #nodes = new Map<NodeId, NodeState>();
  #routes = new Map<string, Route>();
  /**
   * Models by {@link modelKey}: built once, kept while a node offers a descriptor with it, shared by the
   * routes of one model (so the OpenAPI document names each message once).
   */
  readonly #models = new Map<string, RouteModel>();
  readonly #listeners = new Set<() => void>();
  readonly #turns = new Map<string, number>();
  #revision = 0;
  #stop: (() => void) | undefined;

  constructor(options: DirectoryOptions) {
    this.#vnic = options.vnic;
    this.#log = options.logger ?? NO_LOG;
    this.#fetchMs = options.fetchTimeoutMs ?? 5000;
    this.#retryMs = options.retryMs ?? 500;
  }

  /** Starts following health (the nodes already known are asked at once). Idempotent. */
  start(): void {
    if (this.#stop !== undefined) return;
    this.#stop = this.#vnic.health.onChange((e) => this.#onHealth(e));
    for (const r of this.#vnic.health.all()) this.#onHealth({ type: 'added', record: r });
  }

  /** Stops following health and forgets every route. Idempotent. */
  close(): void {
    this.#stop?.();
    this.#stop = undefined;
    for (const id of [...this.#nodes.keys()]) this.#forget(id, false);
    this.#rebuild();
  }

  /** Changes every time the set of routes or one of them changes. */
  get revision(): number {
    return this.#revision;
  }

  /** The route of (area, name), if a node offers it. */
  route(area: number, name: string): Route | undefined {
    return this.#routes.get(routeKey(area, name));
  }

  /** Every route, by area then name. */
  routes(): Route[] {
    return [...this.#routes.values()].sort((a, b) => a.area - b.area || (a.name < b.name ? -1 : 1));
  }

  /** Calls `listener` after every change of the routes; returns the function that removes it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The node a request of `route` goes to: round-robin over its nodes that health shows reachable and
   * hosting it, those that serve before those still recovering; undefined when none is.
   */
  pick(route: Route): NodeId | undefined {
    const up = this.#vnic.health.instances(route.name, route.area);
    const offered = new Set(route.nodes);
    const mine = up.filter((r) => offered.has(r.id));
    const serving = mine.filter((r) => stateOf(r, route) !== 'recovering');
    const from = (serving.length > 0 ? serving : mine).map((r) => r.id).sort();
    if (from.length === 0) return undefined;
    const k = routeKey(route.area, route.name);
    const turn = this.#turns.get(k) ?? 0;
    this.#turns.set(k, (turn + 1) % 0x40000000);
    return from[turn % from.length];
  }

  #onHealth(e: HealthEvent): void {
    const r = e.record;
    const gone = e.type === 'removed' || e.type === 'unreachable' || r.status !== 'up';
    if (gone || !r.services.some((s) => s.service === WEB_SERVICE && s.area === 0)) {
      if (this.#nodes.has(r.id)) this.#forget(r.id, true);
      return;
    }
    const signature = signatureOf(r);
    if (this.#nodes.get(r.id)?.signature !== signature) this.#fetch(r.id, signature, 0);
  }

  #forget(id: NodeId, rebuild: boolean): void {
    const s = this.#nodes.get(id);
    clearTimeout(s?.retry);
    this.#nodes.delete(id);
    if (rebuild && s !== undefined && s.descriptors.length > 0) this.#rebuild();
  }

  #fetch(id: NodeId, signature: string, tries: number): void {
    const s = this.#nodes.get(id) ?? { signature, descriptors: [], generation: 0, retry: undefined };
    clearTimeout(s.retry);
    s.retry = undefined;
    s.signature = signature;
    const generation = ++s.generation;
    this.#nodes.set(id, s);
    this.counters.fetches++;
    const target = { service: WEB_SERVICE, area: 0, node: id };
    const current = () => this.#nodes.get(id)?.generation === generation;
    this.#vnic
      .request(target, {}, { action: Action.GET, timeoutMs: this.#fetchMs })
      .then((m) => m.json()) // an answer that is not JSON fails the fetch like a timeout
      .then(
        (answer) => current() && this.#learn(id, s, answer),
        (err: unknown) => current() && this.#failed(id, s, err, tries),
      )
      .catch((err: unknown) => this.#log.error({ err, node: id }, 'gateway: directory fault'));
  }

  #learn(id: NodeId, s: NodeState, answer: unknown): void {
    const checked = checkAnswer(answer);
    const usable = checked.descriptors.filter((d) => this.#model(d, id) !== undefined);
    this.counters.refused += checked.refused + checked.descriptors.length - usable.length;
    if (checked.refused > 0) this.#log.warn({ node: id, refused: checked.refused }, 'gateway: malformed descriptors');
    s.descriptors = usable;
    this.#rebuild();
  }

  #failed(id: NodeId, s: NodeState, err: unknown, tries: number): void {
    this.counters.fetchFailures++;
    const code = (err as { code?: string }).code;
    this.#log.warn({ node: id, code, tries: tries + 1 }, 'gateway: descriptor fetch failed');
    if (tries + 1 >= MAX_TRIES) return;
    s.retry = setTimeout(() => this.#fetch(id, s.signature, tries + 1), this.#retryMs * 2 ** tries).unref();
  }

  /** The model of `d`, built once per model key; undefined (logged) when it does not build. */
  #model(d: WebDescriptor, node: NodeId): RouteModel | undefined {
    const f = modelKey(d);
    const known = this.#models.get(f);
    if (known !== undefined) return known;
    try {
      const model = buildModel(d);
      this.#models.set(f, model);
      return model;
    } catch (err) {
      this.#log.warn({ node, service: d.name, area: d.area, err }, 'gateway: descriptor model does not build');
      return undefined;
    }
  }

  #rebuild(): void {
    const nodes = new Map([...this.#nodes].map(([id, s]) => [id, s.descriptors] as const));
    const next = new Map<string, Route>();
    const offered = offersByRoute(nodes);
    for (const [k, offers] of offered) {
      const route = routeOf(offers, (d) => this.#models.get(modelKey(d)) as RouteModel);
      next.set(k, route);
      if (route.conflicting.length > 0 && !sameConflict(this.#routes.get(k), route)) this.#conflict(route);
    }
    const held = new Set([...offered.values()].flatMap((offers) => offers.map((o) => modelKey(o.descriptor))));
    for (const f of this.#models.keys()) if (!held.has(f)) this.#models.delete(f);
    const changed = !sameRoutes(this.#routes, next);
    this.#routes = next;
    if (!changed) return;
    this.#revision++;
    for (const k of this.#turns.keys()) if (!next.has(k)) this.#turns.delete(k);
    this.#log.info({ routes: [...next.keys()], revision: this.#revision }, 'gateway: routes changed');
    for (const l of this.#listeners) this.#tell(l);
  }

  #tell(listener: () => void): void {
    try {
      listener();
    } catch (err) {
      this.#log.error({ err }, 'gateway: a directory listener failed');
    }
  }

  #conflict(route: Route): void {
    this.counters.conflicts++;
    const { name, area, nodes, conflicting } = route;
    this.#log.warn({ service: name, area, chosen: nodes, conflicting }, 'gateway: conflicting descriptors');
  }
}

/** What identifies a node's list of services (states left out: a service that starts serving changes nothing). */
function signatureOf(r: HealthRecord): string {
  return r.services
    .map((s) => `${s.area}/${s.service}`)
    .sort()
    .join('\n');
}

function stateOf(r: HealthRecord, route: Route): string | undefined {
  return r.services.find((s) => s.service === route.name && s.area === route.area)?.state;
}

function sameConflict(before: Route | undefined, now: Route): boolean {
  return (
    before !== undefined &&
    before.conflicting.join() === now.conflicting.join() &&
    before.fingerprint === now.fingerprint
  );
}

function sameRoutes(a: ReadonlyMap<string, Route>, b: ReadonlyMap<string, Route>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, r] of b) {
    const o = a.get(k);
    if (o === undefined || o.fingerprint !== r.fingerprint || o.nodes.join() !== r.nodes.join()) return false;
  }
  return true;
}
