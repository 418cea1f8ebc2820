import type { LinkStats } from '@layer8/link';
import { Action } from '@layer8/protocol';
import type { RequestObserver, VNic } from '@layer8/vnic';
import type { Registry } from 'prom-client';
import { FastHistogram, type HistogramSeries } from './fast-histogram.ts';
import { fieldSamples, type Sample, scrapedCounter, scrapedGauge } from './scraped.ts';

/**
 * Buckets of `layer8_request_duration_seconds`: 50 µs (a request on one host) to 30 s (the default
 * deadline), about three per decade.
 */
export const REQUEST_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Action numbers → names (`8` → `HANDLE`), for the `action` label. */
const ACTION_NAMES = new Map<number, string>(Object.entries(Action).map(([name, n]) => [n, name]));

/** Adds every counter of `s` into `into`. */
/** Sets `key` to `value` in `map`; returns `value`. */
function setNew<K, V>(map: Map<K, V>, key: K, value: V): V {
  map.set(key, value);
  return value;
}

function addStats(into: LinkStats, s: LinkStats): void {
  for (const k of Object.keys(into) as (keyof LinkStats)[]) into[k] += s[k];
}

/** Options of {@link VNicMetrics}. */
export interface VNicMetricsOptions {
  /** Buckets of the request histogram, seconds. Default {@link REQUEST_BUCKETS}. */
  readonly buckets?: readonly number[];
}

/**
 * The metrics of a VNic (docs/observability.md): request latency and outcome at the caller and the
 * responder, requests and handlers in flight, drops and link traffic. Pass it as the VNic's
 * `observer` (requests are then timed: one histogram observation per request, nothing without it),
 * then {@link track} the VNic for the gauges and counters read at scrape time.
 *
 * ```ts
 * const metrics = new VNicMetrics(registry);
 * const vnic = new VNic({ provider, observer: metrics });
 * metrics.track(vnic);
 * ```
 */
export class VNicMetrics implements RequestObserver {
  readonly #histogram: FastHistogram;
  /** The histogram's series by side, action, service and code (the values at hand, no key to build). */
  readonly #series = {
    caller: new Map<number, Map<string, Map<string, HistogramSeries>>>(),
    responder: new Map<number, Map<string, Map<string, HistogramSeries>>>(),
  };
  #vnic: VNic | undefined;
  /** Link stats of links already replaced by a reconnect, and the link stats object seen last. */
  readonly #closed: LinkStats = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    refused: 0,
    writes: 0,
    pauses: 0,
  };
  #current: LinkStats | undefined;

  constructor(registry: Registry, options: VNicMetricsOptions = {}) {
    this.#histogram = new FastHistogram(registry, {
      name: 'layer8_request_duration_seconds',
      help: 'Requests by side (caller, responder), service, action and code (OK or L8_ERR_*): duration, and count.',
      labelNames: ['side', 'service', 'action', 'code'],
      buckets: [...(options.buckets ?? REQUEST_BUCKETS)].sort((a, b) => a - b),
    });
    this.#registerScraped(registry);
  }

  /** The VNic whose gauges (in flight, drops, traffic) this reports; one at a time. */
  track(vnic: VNic): this {
    this.#vnic = vnic;
    return this;
  }

  /** {@inheritDoc RequestObserver.called} */
  called(service: string, action: number, code: string, seconds: number): void {
    this.#observe('caller', service, action, code, seconds);
  }

  /** {@inheritDoc RequestObserver.served} */
  served(service: string, action: number, code: string, seconds: number): void {
    this.#observe('responder', service, action, code, seconds);
  }

  #observe(side: 'caller' | 'responder', service: string, action: number, code: string, seconds: number): void {
    const byAction = this.#series[side];
    const byService = byAction.get(action) ?? setNew(byAction, action, new Map());
    const byCode = byService.get(service) ?? setNew(byService, service, new Map());
    const series = byCode.get(code) ?? setNew(byCode, code, this.#add(side, service, action, code));
    series.observe(seconds);
  }

  #add(side: string, service: string, action: number, code: string): HistogramSeries {
    return this.#histogram.add([side, service, ACTION_NAMES.get(action) ?? String(action), code]);
  }

  #registerScraped(registry: Registry): void {
    scrapedGauge(registry, {
      name: 'layer8_vnic_requests_in_flight',
      help: 'Requests this VNic sent that wait for their answer.',
      read: () => (this.#vnic === undefined ? [] : [[{}, this.#vnic.inFlight]]),
    });
    scrapedGauge(registry, {
      name: 'layer8_vnic_handlers',
      help: 'Handlers running (running) and messages waiting for a handler slot (queued).',
      labelNames: ['state'],
      read: () => this.#handlers(),
    });
    scrapedCounter(registry, {
      name: 'layer8_vnic_drops_total',
      help: 'Frames and messages this VNic dropped, by reason (the fields of VNic.drops).',
      labelNames: ['reason'],
      read: () => (this.#vnic === undefined ? [] : fieldSamples('reason', this.#vnic.drops)),
    });
    scrapedCounter(registry, {
      name: 'layer8_vnic_frames_total',
      help: 'Frames received (in) and written (out) on the link to the VNet, reconnects included.',
      labelNames: ['direction'],
      read: () => this.#traffic('framesIn', 'framesOut'),
    });
    scrapedCounter(registry, {
      name: 'layer8_vnic_bytes_total',
      help: 'Bytes received (in) and written (out) on the link to the VNet, reconnects included.',
      labelNames: ['direction'],
      read: () => this.#traffic('bytesIn', 'bytesOut'),
    });
    scrapedGauge(registry, {
      name: 'layer8_vnic_connected',
      help: '1 while the VNic is connected to its VNet, else 0.',
      read: () => (this.#vnic === undefined ? [] : [[{}, this.#vnic.state === 'connected' ? 1 : 0]]),
    });
  }

  #handlers(): Sample[] {
    if (this.#vnic === undefined) return [];
    const h = this.#vnic.handlers;
    return [
      [{ state: 'running' }, h.inFlight],
      [{ state: 'queued' }, h.queued],
    ];
  }

  /**
   * In and out totals of every link the VNic had: a reconnect brings a new stats object, and the old
   * one (final once its link closed) is added to the closed totals when the new one is first seen. A
   * link that came and went between two scrapes is not counted.
   */
  #traffic(inField: keyof LinkStats, outField: keyof LinkStats): Sample[] {
    const now = this.#vnic?.linkStats;
    if (now !== this.#current) {
      if (this.#current !== undefined) addStats(this.#closed, this.#current);
      this.#current = now;
    }
    const total = (f: keyof LinkStats): number => this.#closed[f] + (now?.[f] ?? 0);
    return [
      [{ direction: 'in' }, total(inField)],
      [{ direction: 'out' }, total(outField)],
    ];
  }
}
