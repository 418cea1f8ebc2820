import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { NodeStats } from './record.ts';

/** Counters a link keeps, as FramedLink.stats has them. */
export interface TrafficCounters {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * Samples this process's load for its health record. One per node; `close()` stops the event-loop
 * delay histogram.
 */
export class StatsSampler {
  readonly #delay = monitorEventLoopDelay({ resolution: 20 });

  constructor() {
    this.#delay.enable();
  }

  /** Current stats with the given traffic counters; resets the event-loop delay window. */
  sample(traffic: TrafficCounters): NodeStats {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const delayMs = Number.isFinite(this.#delay.percentile(99)) ? this.#delay.percentile(99) / 1e6 : 0;
    this.#delay.reset();
    return {
      framesIn: traffic.framesIn,
      framesOut: traffic.framesOut,
      bytesIn: traffic.bytesIn,
      bytesOut: traffic.bytesOut,
      cpuUs: cpu.user + cpu.system,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      eventLoopDelayMs: Math.round(delayMs * 100) / 100,
    };
  }

  /** Stops sampling. */
  close(): void {
    this.#delay.disable();
  }
}
