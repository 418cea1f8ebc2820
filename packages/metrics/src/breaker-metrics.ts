import type { NodeId } from '@layer8/protocol';
import type { BreakerListener, BreakerState, VNic } from '@layer8/vnic';
import type { Registry } from 'prom-client';
import { type Sample, scrapedCounter, scrapedGauge } from './scraped.ts';

/** One breaker that is not closed: whose calls it guards and its state. */
interface OpenBreaker {
  readonly service: string;
  readonly area: number;
  readonly node: NodeId;
  state: BreakerState;
}

/**
 * The circuit breakers of one VNic as metrics (docs/operations.md): the VNic tells {@link onChange} about
 * every state change (its `onBreaker` option), and the breakers that are not closed, and the transitions
 * so far, are read at scrape time. A closed breaker is the same as none (the VNic forgets it), so it has
 * no series. {@link track} the VNic to label each breaker with its node's alias.
 *
 * ```ts
 * const breakers = new BreakerMetrics(registry);
 * const vnic = new VNic({ provider, observer: metrics, onBreaker: breakers.onChange });
 * breakers.track(vnic);
 * ```
 *
 * Invariants: `#open` holds exactly the breakers whose last reported state is `open` or `half-open`
 * (the VNic keeps at most 4096 breakers, so this is bounded too); `#transitions` only grows.
 */
export class BreakerMetrics {
  readonly #open = new Map<string, OpenBreaker>();
  /** Transitions by `service area to`. */
  readonly #transitions = new Map<string, { service: string; area: number; to: BreakerState; n: number }>();
  #vnic: VNic | undefined;

  /** Registers `layer8_breaker_state` and `layer8_breaker_transitions_total` in `registry`. */
  constructor(registry: Registry) {
    scrapedGauge(registry, {
      name: 'layer8_breaker_state',
      help: 'Circuit breakers of this caller that are not closed: 1 per (service, area, node), labelled with its state (open, half-open).',
      labelNames: ['service', 'area', 'node', 'alias', 'state'],
      read: () => this.#states(),
    });
    scrapedCounter(registry, {
      name: 'layer8_breaker_transitions_total',
      help: 'Circuit breaker state changes of this caller, by service, area and the state moved to.',
      labelNames: ['service', 'area', 'to'],
      read: () =>
        [...this.#transitions.values()].map((t) => [{ service: t.service, area: String(t.area), to: t.to }, t.n]),
    });
  }

  /** The listener to pass as the VNic's `onBreaker`. */
  readonly onChange: BreakerListener = ({ service, area, node, to }) => {
    const key = `${area}/${service}/${node}`;
    if (to === 'closed') this.#open.delete(key);
    else this.#open.set(key, { service, area, node, state: to });
    const tk = `${area}/${service}/${to}`;
    const t = this.#transitions.get(tk) ?? { service, area, to, n: 0 };
    t.n++;
    this.#transitions.set(tk, t);
  };

  /** The VNic whose health table names the breakers' nodes (the `alias` label). */
  track(vnic: VNic): this {
    this.#vnic = vnic;
    return this;
  }

  #states(): Sample[] {
    const alias = (node: NodeId): string => this.#vnic?.health.get(node)?.alias ?? '';
    return [...this.#open.values()].map((b) => [
      { service: b.service, area: String(b.area), node: b.node, alias: alias(b.node), state: b.state },
      1,
    ]);
  }
}
