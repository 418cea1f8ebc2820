/**
 * Worker process of the overlay benchmark for Moleculer 0.15 in its fastest setup: the TCP transporter
 * with static URLs (direct TCP between nodes, no UDP discovery), metrics, tracing and logging off, and
 * the JSON serializer (`moleculer`) or its fastest built-in binary one, CBOR over cbor-x
 * (`moleculer-cbor`). Payloads are 100-character strings, the cheapest thing the serializers carry.
 */
import moleculer from 'moleculer';
import { serve, until } from './overlay-ipc.ts';
import { Driver, PUMP_WINDOW } from './overlay-load.ts';

/** One broker node: its id and TCP port. */
export interface MolNode {
  readonly id: string;
  readonly port: number;
}

/** Arguments of the `brokers` operation: the nodes this process runs, every node, the services they offer. */
export interface BrokersArgs {
  readonly nodes: readonly MolNode[];
  readonly all: readonly MolNode[];
  /** `echo` (the action echo.echo) and `sink` (events st and mc), each optional. */
  readonly services: readonly ('echo' | 'sink')[];
  /** Moleculer's serializer: `JSON` (default) or `CBOR`. */
  readonly serializer?: 'JSON' | 'CBOR';
}

const PAYLOAD = 'a'.repeat(100);
const WINDOW = PUMP_WINDOW;
const driver = new Driver();
const brokers: moleculer.ServiceBroker[] = [];

function count(): void {
  driver.received++;
}

const SCHEMAS: Record<'echo' | 'sink', moleculer.ServiceSchema> = {
  echo: { name: 'echo', actions: { echo: (ctx: moleculer.Context) => ctx.params } },
  sink: { name: 'sink', events: { st: count, mc: count } },
};

function broker(node: MolNode, all: readonly MolNode[], serializer: 'JSON' | 'CBOR'): moleculer.ServiceBroker {
  return new moleculer.ServiceBroker({
    nodeID: node.id,
    serializer,
    namespace: 'bench',
    logger: false,
    metrics: { enabled: false },
    tracing: { enabled: false },
    transporter: {
      type: 'TCP',
      options: { udpDiscovery: false, port: node.port, urls: all.map((n) => `127.0.0.1:${n.port}/${n.id}`).join(',') },
    },
  });
}

async function startBrokers(a: BrokersArgs): Promise<void> {
  const mine = a.nodes.map((n) => broker(n, a.all, a.serializer ?? 'JSON'));
  for (const b of mine) for (const s of a.services) b.createService(SCHEMAS[s]);
  await Promise.all(mine.map((b) => b.start()));
  brokers.push(...mine);
}

function first(): moleculer.ServiceBroker {
  const b = brokers[0];
  if (b === undefined) throw new Error('no broker in this process');
  return b;
}

/** Keeps two windows of sends in flight: each promise settles when the TCP write callback fires. */
function pipelined(send: () => Promise<unknown>): () => Promise<number> {
  let previous: Promise<unknown> = Promise.resolve();
  return async () => {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < WINDOW; i++) batch.push(send());
    await previous;
    previous = Promise.all(batch);
    return WINDOW;
  };
}

serve({
  brokers: startBrokers,
  /** Waits until the first broker of this process sees `nodes` other nodes and offers of `services`. */
  wait: async ({ services, nodes }: { services: string[]; nodes: number }) => {
    const b = first();
    await b.waitForServices(services, 15_000);
    const others = (): number => b.registry.nodes.list({ onlyAvailable: true, withServices: false }).length - 1;
    await until(() => others() >= nodes, 15_000, `${nodes} moleculer nodes`);
  },
  requests: ({ concurrency }: { concurrency: number }) => {
    const b = first();
    driver.requests(() => b.call('echo.echo', PAYLOAD), concurrency);
  },
  emit: () => {
    const b = first();
    driver.pump(pipelined(() => b.emit('st', PAYLOAD)));
  },
  broadcast: () => {
    const b = first();
    driver.pump(pipelined(() => b.broadcast('mc', PAYLOAD)));
  },
  mark: () => driver.mark(),
  stop: () => driver.stop(),
  close: async () => {
    await Promise.all(brokers.map((b) => b.stop()));
  },
});
