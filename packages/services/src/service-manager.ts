import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { keysOf, type NotificationSet, type TypeRegistry } from '@layer8/model';
import { l8error, serviceKey } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import { postgresStore, type Store, sqliteStore } from '@layer8/store';
import type { HandlerContext, Incoming, Subscription, VNic } from '@layer8/vnic';
import { type LocalReader, ServiceClient } from './client.ts';
import { newCounters, type ServiceCounters, type ServiceLevelAgreement } from './sla.ts';
import { changesOf, type InstanceState, StatefulInstance } from './stateful-service.ts';
import { StatelessInstance } from './stateless-service.ts';
import { type WebDescriptor, WebPublisher, webDescriptor } from './web.ts';

/** Options of a {@link ServiceManager}. */
export interface ServiceManagerOptions {
  /** The model types of the services (and of what clients read). */
  readonly registry: TypeRegistry;
  /** Authorizes every request (identity carried in the frame) and scopes GET results; none: allow all. */
  readonly provider?: SecurityProvider;
  /** Where SQLite files go when an SLA says `{ sqlite: '' }`. */
  readonly dataDir?: string;
}

/** A running service as `services()` lists it. */
export interface ServiceStatus {
  readonly name: string;
  readonly area: number;
  readonly contract: string;
  readonly stateful: boolean;
  readonly state: InstanceState;
  readonly counters: Readonly<ServiceCounters>;
}

/** Listener of a service's committed writes (local and replicated). */
export type ChangeListener = (n: NotificationSet) => void;

interface Running {
  readonly sla: ServiceLevelAgreement;
  readonly counters: ServiceCounters;
  readonly instance: StatefulInstance | StatelessInstance;
  readonly subs: Subscription[];
  readonly store: Store | undefined;
  readonly listeners: Set<ChangeListener>;
  readonly stopHealth: () => void;
  /** What the gateway may publish of it (undefined: not web-exposed). */
  readonly web: WebDescriptor | undefined;
}

/**
 * The service manager of one VNic (DESIGN.md §7): activates services from their SLA, deactivates them,
 * and hands out typed clients. One per VNic; nothing is global.
 *
 * Invariant: `#running` holds exactly the services whose handlers are subscribed on the VNic.
 */
export class ServiceManager {
  readonly vnic: VNic;
  readonly #o: ServiceManagerOptions;
  readonly #running = new Map<string, Running>();
  readonly #starting = new Map<string, Promise<void>>();
  readonly #web: WebPublisher;

  constructor(vnic: VNic, options: ServiceManagerOptions) {
    this.vnic = vnic;
    this.#o = options;
    this.#web = new WebPublisher(vnic, () => this.webDescriptors());
  }

  /**
   * Brings up (name, area): its store, its handlers on the overlay, and (stateful) the state of another
   * instance. Resolves once it serves. Activating a running service again does nothing.
   * @throws L8_ERR_UNSUPPORTED for the `transactional` and `replicated` contracts (not available yet);
   *   L8_ERR_UNKNOWN_TYPE for a type the registry lacks; L8_ERR_STORAGE when the store cannot open
   */
  activate<D extends DescMessage>(sla: ServiceLevelAgreement<D>): Promise<void> {
    const k = serviceKey(sla.name, sla.area ?? 0);
    if (this.#running.has(k)) return Promise.resolve();
    let starting = this.#starting.get(k);
    if (starting === undefined) {
      starting = this.#start(sla as unknown as ServiceLevelAgreement).finally(() => this.#starting.delete(k));
      this.#starting.set(k, starting);
    }
    return starting;
  }

  /** Takes (name, area) off the overlay (it leaves the VNet's service table and every node's health) and closes its store. */
  async deactivate(name: string, area = 0): Promise<boolean> {
    const k = serviceKey(name, area);
    await this.#starting.get(k)?.catch(() => undefined);
    const r = this.#running.get(k);
    if (r === undefined) return false;
    this.#running.delete(k);
    this.#web.update();
    if (r.instance instanceof StatefulInstance) r.instance.close();
    for (const s of r.subs) s.close();
    r.stopHealth();
    await r.store?.close();
    return true;
  }

  /** Deactivates every service. */
  async close(): Promise<void> {
    for (const r of [...this.#running.values()]) await this.deactivate(r.sla.name, r.sla.area ?? 0);
  }

  /** A typed client of (name, area) through this VNic. */
  client<D extends DescMessage>(name: string, area: number, type: D): ServiceClient<MessageShape<D>> {
    const k = serviceKey(name, area);
    const local = () => {
      const i = this.#running.get(k)?.instance;
      return i instanceof StatefulInstance ? (i as unknown as LocalReader<MessageShape<D>>) : undefined;
    };
    return new ServiceClient(this.vnic, this.#o.registry, { name, area, type }, local);
  }

  /** Calls `listener` for every committed write of a service running here (its own and replicated). */
  onChange(name: string, area: number, listener: ChangeListener): () => void {
    const r = this.#running.get(serviceKey(name, area));
    if (r === undefined) throw l8error('L8_ERR_NO_SERVICE', `${name}/${area} does not run here`);
    r.listeners.add(listener);
    return () => r.listeners.delete(listener);
  }

  /** The services running here. */
  services(): ServiceStatus[] {
    return [...this.#running.values()].map((r) => ({
      name: r.sla.name,
      area: r.sla.area ?? 0,
      contract: contractName(r.sla),
      stateful: r.instance instanceof StatefulInstance,
      state: r.instance instanceof StatefulInstance ? r.instance.state : 'serving',
      counters: { ...r.counters },
    }));
  }

  /** The descriptors of the web-exposed services running here (what {@link WEB_SERVICE} answers). */
  webDescriptors(): WebDescriptor[] {
    return [...this.#running.values()].flatMap((r) => (r.web === undefined ? [] : [r.web]));
  }

  /** The stateful instance of (name, area) running here (tests and tools read its cache). */
  instance(name: string, area = 0): StatefulInstance | undefined {
    const i = this.#running.get(serviceKey(name, area))?.instance;
    return i instanceof StatefulInstance ? i : undefined;
  }

  async #start(sla: ServiceLevelAgreement): Promise<void> {
    checkContract(sla);
    this.#o.registry.get(sla.type.typeName);
    const stateful = sla.stateful ?? keysOf(sla.type).primary.length > 0;
    const counters = newCounters();
    const listeners = new Set<ChangeListener>();
    if (!stateful) return this.#startStateless(sla, counters, listeners);
    const store = await this.#openStore(sla);
    const instance = new StatefulInstance(sla, {
      vnic: this.vnic,
      registry: this.#o.registry,
      provider: this.#o.provider,
      counters,
      store,
      emit: (n) => emit(listeners, n),
    });
    const area = sla.area ?? 0;
    const handle = (m: Incoming, ctx: HandlerContext) => this.#bounded(sla, counters, () => instance.handle(m, ctx));
    const limit = sla.concurrency === undefined ? {} : { concurrency: sla.concurrency };
    const main = this.vnic.subscribe({ service: sla.name, area }, handle, { state: 'recovering', ...limit });
    const subs = [this.vnic.subscribe({ service: changesOf(sla.name), area }, (m) => instance.onChange(m)), main];
    const stopHealth = this.#catchUpOnReturn(instance, counters);
    const web = webDescriptor(sla, true);
    this.#running.set(serviceKey(sla.name, area), { sla, counters, instance, subs, store, listeners, stopHealth, web });
    await instance.recover();
    main.setState('serving');
    this.#web.update();
  }

  #startStateless(sla: ServiceLevelAgreement, counters: ServiceCounters, listeners: Set<ChangeListener>): void {
    const instance = new StatelessInstance(sla, this.#o.registry, this.#o.provider);
    const area = sla.area ?? 0;
    const subs = [
      this.vnic.subscribe(
        { service: sla.name, area },
        (m, ctx) => this.#bounded(sla, counters, () => instance.handle(m, ctx)),
        sla.concurrency === undefined ? {} : { concurrency: sla.concurrency },
      ),
    ];
    const web = webDescriptor(sla, false);
    const running = { sla, counters, instance, subs, store: undefined, listeners, stopHealth: () => undefined, web };
    this.#running.set(serviceKey(sla.name, area), running);
    this.#web.update();
  }

  /** Runs a handler with the SLA's deadline and counts it; a hanging handler fails with L8_ERR_TIMEOUT. */
  async #bounded<R>(sla: ServiceLevelAgreement, counters: ServiceCounters, run: () => Promise<R>): Promise<R> {
    counters.requests++;
    const ms = sla.handlerTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(l8error('L8_ERR_TIMEOUT', `${sla.name}'s handler took over ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([run(), late]);
    } catch (err) {
      counters.errors++;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** An instance that comes back (after a partition or a restart) and this one exchange what they missed. */
  #catchUpOnReturn(instance: StatefulInstance, counters: ServiceCounters): () => void {
    const { name, area = 0 } = instance.sla;
    const down = new Set<string>();
    return this.vnic.health.onChange((e) => {
      const hosts = e.record.services.some((s) => s.service === name && s.area === area);
      if (!hosts || e.record.id === this.vnic.id) return;
      if (e.type === 'unreachable' || e.type === 'removed') down.add(e.record.id);
      else if (e.record.status === 'up' && down.delete(e.record.id)) {
        void instance.sync.recoverFrom(instance.replica, counters, e.record.id);
      }
    });
  }

  async #openStore(sla: ServiceLevelAgreement): Promise<Store | undefined> {
    const spec = sla.storage ?? 'none';
    const options = { type: sla.type, registry: this.#o.registry };
    if (spec === 'none') return undefined;
    if ('store' in spec) return spec.store;
    if ('postgres' in spec) return postgresStore({ connectionString: spec.postgres }, options);
    const dir = spec.sqlite === '' ? (this.#o.dataDir ?? '.') : spec.sqlite;
    mkdirSync(dir, { recursive: true });
    return sqliteStore(join(dir, `${sla.name}-${sla.area ?? 0}.sqlite`), options);
  }
}

function emit(listeners: Set<ChangeListener>, n: NotificationSet): void {
  for (const l of listeners) {
    try {
      l(n);
    } catch {
      // a listener's fault is its own
    }
  }
}

function contractName(sla: ServiceLevelAgreement): string {
  const c = sla.contract ?? 'best-effort';
  return typeof c === 'string' ? c : `replicated(${c.replicated})`;
}

/** @throws L8_ERR_UNSUPPORTED for a contract that needs the coordination layer */
function checkContract(sla: ServiceLevelAgreement): void {
  const c = contractName(sla);
  if (c === 'best-effort') return;
  throw l8error(
    'L8_ERR_UNSUPPORTED',
    `${sla.name}: the ${c} contract needs the coordination layer (not available yet)`,
    {
      data: { contract: c },
    },
  );
}
