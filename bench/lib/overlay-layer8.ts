/**
 * Worker process of the overlay benchmark for Layer8: one VNet, or a group of VNics (responders,
 * sinks, a requester or a publisher), driven over IPC by bench/overlay.ts.
 */
import { assertNodeId } from '@layer8/protocol';
import { DevProvider, type SecurityProvider, TlsProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { type Handler, VNic } from '@layer8/vnic';
import { PAYLOAD, serve, until } from './overlay-ipc.ts';
import { Driver, PUMP_WINDOW } from './overlay-load.ts';
import type { Observe, WorkerObservability } from './overlay-observe.ts';

/** How a process proves membership: the dev passphrase, or the default TLS provider's node files. */
export type Security = { readonly kind: 'dev' } | { readonly kind: 'tls'; readonly dir: string; readonly node: string };

/** Arguments of the `vnet` operation. */
export interface VNetArgs {
  readonly security: Security;
  readonly host: string;
  readonly socketPath: string;
  readonly peers: readonly { host: string; port: number }[];
  /** Observability to turn on (overlay-observe.ts); none when absent. */
  readonly observe?: Observe;
}

/** What a node does with a service: answer requests with the payload, or count one-way messages. */
export type Role = 'echo' | 'sink';

/** Arguments of the `vnics` operation: `count` VNics on the VNet at `path`, each serving `services`. */
export interface VNicsArgs {
  readonly security: Security;
  readonly path: string;
  /** Attach over TCP loopback to this address instead of the unix socket at `path`. */
  readonly tcp?: { readonly host: string; readonly port: number };
  readonly count: number;
  readonly alias: string;
  readonly services: Readonly<Record<string, Role>>;
  readonly observe?: Observe;
}

const BATCH = PUMP_WINDOW;
const driver = new Driver();
const vnics: VNic[] = [];
let vnet: VNet | undefined;
let observed: WorkerObservability | undefined;

/**
 * This worker's observability in `mode` (one per worker: its VNet and VNics share the tracer), loaded only
 * when asked: merely loading prom-client and the OpenTelemetry SDK into a worker changes its heap enough
 * to cost the unobserved rows up to a third of their rate (V8's GC; see bench/README.md).
 */
async function observability(mode: Observe): Promise<WorkerObservability> {
  const { WorkerObservability } = await import('./overlay-observe.ts');
  observed ??= new WorkerObservability(mode);
  return observed;
}

function provider(s: Security): SecurityProvider {
  if (s.kind === 'tls') return new TlsProvider({ dir: s.dir, node: s.node });
  return new DevProvider({ passphrase: 'bench-passphrase', warn: () => {} });
}

function first(): VNic {
  const n = vnics[0];
  if (n === undefined) throw new Error('no VNic in this process');
  return n;
}

const HANDLERS: Record<Role, Handler> = {
  echo: () => PAYLOAD,
  sink: () => {
    driver.received++;
  },
};

async function startVNet(a: VNetArgs): Promise<{ host: string; port: number }> {
  vnet = new VNet({ provider: provider(a.security), host: a.host, port: 0, socketPath: a.socketPath, peers: a.peers });
  if (a.observe !== undefined) (await observability(a.observe)).vnet(vnet);
  return (await vnet.start()).tcp;
}

async function startVNics(a: VNicsArgs): Promise<string[]> {
  const p = provider(a.security);
  const mine: VNic[] = [];
  for (let i = 0; i < a.count; i++) {
    const o = a.observe === undefined ? undefined : (await observability(a.observe)).vnic();
    const vnet = a.tcp ?? { path: a.path };
    const n = new VNic({ provider: p, vnet, alias: `${a.alias}-${i}`, ...o?.options });
    o?.track(n);
    await n.connect();
    for (const [service, role] of Object.entries(a.services))
      n.subscribe({ service: service, area: 0 }, HANDLERS[role]);
    mine.push(n);
  }
  vnics.push(...mine);
  return mine.map((n) => n.id);
}

/** Sends up to BATCH one-way messages with `send`, stopping early when the link has no room. */
function oneWay(n: VNic, send: () => void): () => number {
  return () => {
    for (let i = 0; i < BATCH; i++) {
      if (!n.canSend(256)) return i;
      send();
    }
    return BATCH;
  };
}

serve({
  vnet: startVNet,
  vnics: startVNics,
  /** Waits until every VNic of this process sees `count` instances of `service`. */
  wait: ({ service, count }: { service: string; count: number }) =>
    until(() => vnics.every((n) => n.health.instances(service, 0).length >= count), 15_000, `${count} × ${service}`),
  status: () => ({
    locals: vnet?.locals.size ?? 0,
    peers: vnet?.peers.size ?? 0,
    drops: vnet?.drops,
    nodes: (vnet ?? first()).health.all().length,
    spans: observed?.spans ?? 0,
  }),
  requests: ({ service, concurrency }: { service: string; concurrency: number }) => {
    const target = { service, area: 0, mode: 'round-robin' } as const;
    const options = { timeoutMs: 10_000 };
    driver.requests((lane) => (vnics[lane % vnics.length] as VNic).request(target, PAYLOAD, options), concurrency);
  },
  unicast: ({ node, service }: { node: string; service: string }) => {
    const n = first();
    const target = { node: assertNodeId(node), service, area: 0 };
    driver.pump(oneWay(n, () => n.send(target, PAYLOAD)));
  },
  multicast: ({ service }: { service: string }) => {
    const n = first();
    const target = { service, area: 0 };
    driver.pump(oneWay(n, () => n.multicast(target, PAYLOAD)));
  },
  mark: () => driver.mark(),
  stop: () => driver.stop(),
  close: async () => {
    await Promise.all(vnics.map((n) => n.close()));
    await vnet?.close();
    await observed?.close();
  },
});
