/**
 * What the dashboard shows, read from the gateway's own replica of the health table: the VNets and their
 * links, every node with its status, services and load, the services with their instances and state, frame
 * and byte rates, and the latest status changes. Rates come from two successive load figures of a node.
 */
import type { HealthEvent, HealthRecord, HealthView, NodeStats } from '@layer8/health';

/** Status changes kept for the dashboard's event list. */
export const MAX_EVENTS = 50;

/** One node as the dashboard shows it. */
export interface NodeView {
  readonly id: string;
  readonly alias: string;
  readonly vnet: string;
  readonly role: 'vnic' | 'vnet';
  readonly status: 'up' | 'unreachable';
  readonly services: readonly { service: string; area: number; state: string }[];
  readonly uptimeS: number;
  /** CPU use over the last interval, % of one core. */
  readonly cpuPct: number;
  readonly rssMB: number;
  readonly loopDelayMs: number;
  readonly framesPerSec: number;
  readonly bytesPerSec: number;
}

/** A service and where it runs (change streams are left out). */
export interface ServiceView {
  readonly service: string;
  readonly area: number;
  readonly instances: readonly { node: string; alias: string; state: string; status: string }[];
}

/** A status change of a node. */
export interface SystemEvent {
  readonly at: number;
  readonly type: HealthEvent['type'];
  readonly node: string;
  readonly alias: string;
}

/** The whole picture at one moment. */
export interface SystemView {
  readonly at: number;
  readonly vnets: readonly NodeView[];
  /** VNet pairs both up: the VNets form a full mesh, so each such pair has a peer link. */
  readonly links: readonly { readonly a: string; readonly b: string }[];
  readonly nodes: readonly NodeView[];
  readonly services: readonly ServiceView[];
  readonly totals: {
    readonly up: number;
    readonly unreachable: number;
    readonly framesPerSec: number;
    readonly bytesPerSec: number;
  };
  readonly events: readonly SystemEvent[];
}

/** Two successive load figures of a node. */
interface Sample {
  readonly stats: NodeStats;
  readonly at: number;
}

/**
 * Follows a health view and answers {@link SystemView}s.
 *
 * Invariants: `#samples` holds, per node still in the table, its last two distinct load figures (newest
 * last); `#events` holds at most {@link MAX_EVENTS} status changes, newest first.
 */
export class SystemFeed {
  readonly #health: HealthView;
  readonly #clock: () => number;
  readonly #samples = new Map<string, Sample[]>();
  #events: SystemEvent[] = [];
  readonly #stop: () => void;

  constructor(health: HealthView, clock: () => number = Date.now) {
    this.#health = health;
    this.#clock = clock;
    for (const r of health.all()) this.#sample(r);
    this.#stop = health.onChange((e) => this.#onHealth(e));
  }

  /** The picture now. */
  view(): SystemView {
    const records = this.#health.all().sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
    const nodes = records.map((r) => this.#node(r));
    const vnets = nodes.filter((n) => n.role === 'vnet');
    const up = vnets.filter((v) => v.status === 'up');
    const links = up.flatMap((a, i) => up.slice(i + 1).map((b) => ({ a: a.id, b: b.id })));
    const sum = (f: (n: NodeView) => number) => round(nodes.reduce((s, n) => s + f(n), 0));
    const totals = {
      up: nodes.filter((n) => n.status === 'up').length,
      unreachable: nodes.filter((n) => n.status !== 'up').length,
      framesPerSec: sum((n) => (n.role === 'vnet' ? n.framesPerSec : 0)),
      bytesPerSec: sum((n) => (n.role === 'vnet' ? n.bytesPerSec : 0)),
    };
    return { at: this.#clock(), vnets, links, nodes, services: servicesOf(records), totals, events: this.#events };
  }

  /** Stops following the health view. */
  close(): void {
    this.#stop();
  }

  #onHealth(e: HealthEvent): void {
    if (e.type === 'removed') this.#samples.delete(e.record.id);
    else this.#sample(e.record);
    if (e.type === 'changed') return;
    const event = { at: this.#clock(), type: e.type, node: e.record.id, alias: e.record.alias };
    this.#events = [event, ...this.#events].slice(0, MAX_EVENTS);
  }

  #sample(r: HealthRecord): void {
    if (r.stats === undefined) return;
    const list = this.#samples.get(r.id) ?? [];
    const last = list.at(-1);
    if (last !== undefined && last.at === r.updatedAt) return;
    this.#samples.set(r.id, [...list, { stats: r.stats, at: r.updatedAt }].slice(-2));
  }

  #node(r: HealthRecord): NodeView {
    const [a, b] = this.#samples.get(r.id) ?? [];
    const s = r.stats;
    const rate = (f: (x: NodeStats) => number): number =>
      a === undefined || b === undefined || b.at <= a.at
        ? 0
        : round(((f(b.stats) - f(a.stats)) * 1000) / (b.at - a.at));
    return {
      id: r.id,
      alias: r.alias,
      vnet: r.vnet,
      role: r.role,
      status: r.status,
      services: r.services.map((x) => ({ service: x.service, area: x.area, state: x.state ?? 'serving' })),
      uptimeS: Math.max(0, Math.round((this.#clock() - r.startedAt) / 1000)),
      cpuPct: round(rate((x) => x.cpuUs) / 10_000),
      rssMB: round((s?.rssBytes ?? 0) / 1_048_576),
      loopDelayMs: round(s?.eventLoopDelayMs ?? 0),
      framesPerSec: rate((x) => x.framesIn + x.framesOut),
      bytesPerSec: rate((x) => x.bytesIn + x.bytesOut),
    };
  }
}

/** Every service of the table (change streams left out) with its instances, by area and name. */
function servicesOf(records: readonly HealthRecord[]): ServiceView[] {
  const by = new Map<string, { service: string; area: number; instances: ServiceView['instances'][number][] }>();
  for (const r of records) {
    for (const s of r.services) {
      if (s.service.endsWith('.changes')) continue;
      const k = `${s.area}/${s.service}`;
      const entry = by.get(k) ?? { service: s.service, area: s.area, instances: [] };
      entry.instances.push({ node: r.id, alias: r.alias, state: s.state ?? 'serving', status: r.status });
      by.set(k, entry);
    }
  }
  return [...by.values()].sort((x, y) => x.area - y.area || (x.service < y.service ? -1 : 1));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
