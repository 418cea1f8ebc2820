/**
 * Worker process of the overload benchmark (bench/overload.ts): a VNet, a responder with two VNics (one
 * service each: `ovl-protected` with the responder's protections, `ovl-unprotected` with all of them off),
 * or a requester that offers an open-loop load at a fixed rate with a deadline and counts the replies that
 * came within it.
 */
import { DevProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { type ConcurrencyLimit, VNic, type VNicOptions } from '@layer8/vnic';
import { PAYLOAD, serve, until } from './overlay-ipc.ts';
import { Histogram } from './overlay-load.ts';
import { type OverloadMark, SERVICES } from './overload-shared.ts';

/**
 * Protected: the defaults (queued requests dropped at their deadline, priority shedding) and an adaptive
 * concurrency limit with its default options. Unprotected: every request goes to the handler at once
 * (no handler bound, so no queue and no deadline check), no shedding by priority, no limit.
 */
const PROTECTED: Partial<VNicOptions> = {};
const PROTECTED_LIMIT: ConcurrencyLimit = { adaptive: true };
const UNPROTECTED: Partial<VNicOptions> = { maxHandlersInFlight: 1_000_000, lowPriorityQueueShare: 1 };

const provider = (): DevProvider => new DevProvider({ passphrase: 'bench-passphrase', warn: () => {} });
const vnics: VNic[] = [];
let vnet: VNet | undefined;

/**
 * A resource that serves one job at a time with `us` of CPU each (a busy loop), one job per turn of the
 * event loop so that the socket is still read in between. Invariant: `#jobs[#head..]` wait, in order.
 */
class CpuResource {
  readonly #us: number;
  #jobs: (() => void)[] = [];
  #head = 0;
  #busy = false;

  constructor(us: number) {
    this.#us = us;
  }

  get waiting(): number {
    return this.#jobs.length - this.#head;
  }

  run(): Promise<void> {
    return new Promise((resolve) => {
      this.#jobs.push(resolve);
      if (!this.#busy) this.#schedule();
    });
  }

  /**
   * Finishes what waits at once, without its CPU (its callers gave up long ago), so that the next
   * measurement starts from an idle service and every handler's slot is given back.
   */
  reset(): void {
    const waiting = this.#jobs.slice(this.#head);
    this.#clear();
    for (const job of waiting) job();
  }

  #clear(): void {
    this.#jobs = [];
    this.#head = 0;
  }

  #schedule(): void {
    this.#busy = true;
    setImmediate(() => this.#next());
  }

  #next(): void {
    const job = this.#jobs[this.#head++];
    if (job === undefined) {
      this.#clear();
      this.#busy = false;
      return;
    }
    const end = performance.now() + this.#us / 1000;
    while (performance.now() < end);
    job();
    this.#schedule();
  }
}

const resources = new Map<string, CpuResource>();

async function responder(a: { path: string; serviceUs: number }): Promise<void> {
  for (const [service, options, limit] of [
    [SERVICES.protected, PROTECTED, PROTECTED_LIMIT],
    [SERVICES.unprotected, UNPROTECTED, undefined],
  ] as const) {
    const n = new VNic({ provider: provider(), vnet: { path: a.path }, alias: service, ...options });
    await n.connect();
    const cpu = new CpuResource(a.serviceUs);
    resources.set(service, cpu);
    n.subscribe({ service }, () => cpu.run().then(() => PAYLOAD), limit === undefined ? {} : { concurrency: limit });
    vnics.push(n);
  }
}

/**
 * The load of a requester: open loop (a timer offering a rate) or closed loop (lanes that send the next
 * request when the last one settled). Invariants: `timer` is set exactly while an open-loop load runs,
 * `lanes` holds the closed-loop lanes running.
 */
const load = {
  timer: undefined as NodeJS.Timeout | undefined,
  lanes: [] as Promise<void>[],
  running: false,
  hist: new Histogram(),
};
const counts = { sent: 0, good: 0, late: 0, refused: 0, timedOut: 0, other: 0, lastError: '' };

function offer(a: { service: string; rate: number; deadlineMs: number }): void {
  const n = vnics[0] as VNic;
  const target = { service: a.service };
  const options = { timeoutMs: a.deadlineMs };
  const t0 = performance.now();
  let due = 0;
  load.timer = setInterval(() => {
    const want = Math.floor((a.rate * (performance.now() - t0)) / 1000);
    // at most 50 ms worth at once: a stall of this process must not turn into one burst
    for (due = Math.max(due, want - Math.ceil(a.rate / 20)); due < want; due++) void send(n, target, options);
  }, 1);
}

/** `concurrency` lanes, each sending its next request once its last one settled. */
function closed(a: { service: string; concurrency: number; deadlineMs: number }): void {
  const n = vnics[0] as VNic;
  const target = { service: a.service };
  const options = { timeoutMs: a.deadlineMs };
  load.running = true;
  const lane = async (): Promise<void> => {
    while (load.running) await send(n, target, options);
  };
  load.lanes = Array.from({ length: a.concurrency }, lane);
}

/** Sends one request and counts its outcome; resolves once counted. */
function send(n: VNic, target: { service: string }, options: { timeoutMs: number }): Promise<void> {
  const started = performance.now();
  counts.sent++;
  return n.request(target, PAYLOAD, options).then(
    () => {
      const us = (performance.now() - started) * 1000;
      if (us > options.timeoutMs * 1000) counts.late++;
      else {
        counts.good++;
        load.hist.record(us);
      }
    },
    (err: { code?: string }) => {
      if (err.code === 'L8_ERR_BACKPRESSURE') counts.refused++;
      else if (err.code === 'L8_ERR_TIMEOUT') counts.timedOut++;
      else {
        counts.other++;
        counts.lastError = String(err.code ?? err);
      }
    },
  );
}

function mark(): OverloadMark {
  const h = load.hist;
  const lat = h.count === 0 ? {} : { p50Us: h.percentile(50), p99Us: h.percentile(99) };
  h.reset();
  const { lastError, ...rest } = counts;
  return { ...rest, ...(lastError === '' ? {} : { lastError }), ...lat };
}

serve({
  vnet: async (a: { host: string; socketPath: string }) => {
    vnet = new VNet({ provider: provider(), host: a.host, port: 0, socketPath: a.socketPath, peers: [] });
    await vnet.start();
  },
  responder,
  requester: async (a: { path: string }) => {
    const n = new VNic({ provider: provider(), vnet: { path: a.path }, alias: 'requester', breaker: false });
    await n.connect();
    vnics.push(n);
    const ready = () => Object.values(SERVICES).every((s) => n.health.instances(s, 0).length === 1);
    await until(ready, 15_000, 'both services');
  },
  offer,
  closed,
  mark,
  stop: async () => {
    clearInterval(load.timer);
    load.timer = undefined;
    load.running = false;
    await Promise.all(load.lanes);
    load.lanes = [];
  },
  /** The responder: what waits at each service's resource, and the protected service's limit. */
  status: () => ({
    waiting: Object.fromEntries([...resources].map(([s, r]) => [s, r.waiting])),
    limit: vnics[0]?.handlerLimit(SERVICES.protected)?.limit,
  }),
  reset: () => {
    for (const r of resources.values()) r.reset();
  },
  close: async () => {
    await Promise.all(vnics.map((n) => n.close()));
    await vnet?.close();
  },
});
