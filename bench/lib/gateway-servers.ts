/**
 * Worker process of the gateway benchmark: one HTTP front of a system under test, driven over IPC by
 * bench/gateway.ts. `gateway`: the Layer8 gateway on a VNic of its own (auth off); `fastify`: the
 * in-process ceiling, a bare Fastify 5 route answering the same JSON from a Map; `molService` and
 * `molWeb`: the Moleculer 0.15 peer, an `orders` service and moleculer-web in front of it over the TCP
 * transporter; `writer`: a VNic that PATCHes orders through the overlay at a steady rate (ws-fanout).
 */
import type { AddressInfo } from 'node:net';
import { toJson } from '@bufbuild/protobuf';
import { OrderSchema } from '@layer8/fixtures';
import { Gateway } from '@layer8/gateway';
import { TlsProvider } from '@layer8/security';
import { ServiceManager } from '@layer8/services';
import { VNic } from '@layer8/vnic';
import Fastify from 'fastify';
import moleculer from 'moleculer';
import ApiGateway from 'moleculer-web';
import { serve, until } from './overlay-ipc.ts';
import { Driver } from './overlay-load.ts';
import type { MolNode } from './overlay-moleculer.ts';
import { demoOrder, orderRegistry, priorityPatch } from './services-order.ts';

/** Where a node's TLS files are and which node it is. */
export interface NodeArgs {
  readonly dir: string;
  readonly node: string;
  readonly path: string;
}

/**
 * The body of GET /l8/0/Orders/<key> at the Layer8 gateway (canonical JSON with implicit fields, as its
 * model-json.ts writes it): what the ceiling and the peer answer too.
 */
export function orderBody(id: number): { item: unknown; version: number } {
  return { item: toJson(OrderSchema, demoOrder(id), { alwaysEmitImplicit: true }), version: 1 };
}

function bodies(keys: number): Map<string, { item: unknown; version: number }> {
  const m = new Map<string, { item: unknown; version: number }>();
  for (let i = 1; i <= keys; i++) m.set(String(i), orderBody(i));
  return m;
}

const closers: (() => Promise<unknown>)[] = [];
const driver = new Driver();

async function vnicOf(a: NodeArgs): Promise<VNic> {
  const vnic = new VNic({
    provider: new TlsProvider({ dir: a.dir, node: a.node }),
    vnet: { path: a.path },
    alias: a.node,
  });
  await vnic.connect();
  closers.push(() => vnic.close());
  return vnic;
}

/** Starts the Layer8 gateway (auth off) and waits until it publishes Orders; answers its URL. */
async function gateway(a: NodeArgs & { maxConnections: number }): Promise<string> {
  const vnic = await vnicOf(a);
  const gw = new Gateway({ vnic, port: 0, ws: { maxConnections: a.maxConnections } });
  const { url } = await gw.start();
  closers.unshift(() => gw.close());
  await until(() => gw.directory.route(0, 'Orders') !== undefined, 20_000, 'Orders published at the gateway');
  return url;
}

/** Starts the ceiling: GET /l8/0/Orders/:key answered from a Map in this process. */
async function ceiling(a: { keys: number }): Promise<string> {
  const m = bodies(a.keys);
  const app = Fastify({ logger: false });
  app.get('/l8/0/Orders/:key', async (req, reply) => {
    const body = m.get((req.params as { key: string }).key);
    return body ?? reply.code(404).send({ code: 'L8_ERR_NOT_FOUND' });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

function broker(node: MolNode, all: readonly MolNode[]): moleculer.ServiceBroker {
  return new moleculer.ServiceBroker({
    nodeID: node.id,
    namespace: 'bench-gw',
    logger: false,
    metrics: { enabled: false },
    tracing: { enabled: false },
    transporter: {
      type: 'TCP',
      options: { udpDiscovery: false, port: node.port, urls: all.map((n) => `127.0.0.1:${n.port}/${n.id}`).join(',') },
    },
  });
}

/** Starts the Moleculer `orders` service (action `get`, the same JSON from a Map). */
async function molService(a: { node: MolNode; all: MolNode[]; keys: number }): Promise<void> {
  const m = bodies(a.keys);
  const b = broker(a.node, a.all);
  b.createService({
    name: 'orders',
    actions: { get: (ctx: moleculer.Context<{ key: string }>) => m.get(ctx.params.key) },
  });
  await b.start();
  closers.push(() => b.stop());
}

/** Starts moleculer-web with GET /l8/0/Orders/:key → orders.get, waits for the service; answers its URL. */
async function molWeb(a: { node: MolNode; all: MolNode[] }): Promise<string> {
  const b = broker(a.node, a.all);
  const routes = [{ path: '/l8/0/Orders', mappingPolicy: 'restrict', aliases: { 'GET /:key': 'orders.get' } }];
  const svc = b.createService({
    name: 'api',
    mixins: [ApiGateway as unknown as moleculer.ServiceSchema],
    settings: { port: 0, ip: '127.0.0.1', routes, logRequest: null, logResponse: null, log4XXResponses: false },
  }) as unknown as { server: { address(): AddressInfo } };
  await b.start();
  closers.push(() => b.stop());
  await b.waitForServices(['orders'], 15_000);
  return `http://127.0.0.1:${svc.server.address().port}`;
}

let writes: ServiceManager | undefined;

/** Connects the writer's VNic and waits until it sees Orders. */
async function writerNode(a: NodeArgs): Promise<void> {
  const vnic = await vnicOf(a);
  const services = new ServiceManager(vnic, { registry: orderRegistry() });
  closers.unshift(() => services.close());
  await until(() => vnic.health.instances('Orders', 0).length > 0, 20_000, 'Orders in health');
  writes = services;
}

/**
 * Starts PATCHes of `keys` in turn (priority = a counter) through the overlay at `rate` per second,
 * issued every 10 ms as they fall due; a write that fails counts as an error.
 */
function write(a: { rate: number; keys: number[] }): void {
  if (writes === undefined) throw new Error('call writerNode first');
  const c = writes.client('Orders', 0, OrderSchema);
  let n = 0;
  const t0 = performance.now();
  driver.pump(async () => {
    const due = Math.floor(((performance.now() - t0) * a.rate) / 1000) - n;
    const batch: Promise<unknown>[] = [new Promise((r) => setTimeout(r, 10))];
    for (let i = 0; i < due; i++, n++) batch.push(c.patch(priorityPatch(a.keys[n % a.keys.length] as number, n + 1)));
    await Promise.all(batch);
    return due;
  });
}

serve({
  gateway,
  ceiling,
  molService,
  molWeb,
  writerNode,
  write,
  mark: () => driver.mark(),
  stop: () => driver.stop(),
  close: async () => {
    for (const c of closers) await c().catch(() => undefined);
  },
});
