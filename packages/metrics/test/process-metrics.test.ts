import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { file_layer8_demo_v1_demo, OrderSchema } from '@layer8/fixtures';
import { Gateway, UNMATCHED_ROUTE, WS_PROTOCOL } from '@layer8/gateway';
import { TypeRegistry } from '@layer8/model';
import { ServiceManager } from '@layer8/services';
import { devProvider, tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import WebSocket from 'ws';
import { type MetricsServer, newRegistry, registerServiceMetrics, serveMetrics, VNicMetrics } from '../src/index.ts';
import { delta, scrape, value } from './scrape-kit.ts';

const ORDERS = '/l8/0/Orders';
const order = (id: number) => ({ id: String(id), number: `M-${id}`, status: 'STATUS_OPEN', city: 'Oslo' });

describe('a gateway and a services process expose their own metrics', () => {
  const dir = tempDir('l8-proc-metrics-');
  let vnet: VNet;
  let node: VNic;
  let services: ServiceManager;
  let gwVnic: VNic;
  let gateway: Gateway;
  let base: string;
  let servicesMetrics: MetricsServer;
  const gatewayRegistry = newRegistry();

  before(async () => {
    vnet = new VNet({ provider: devProvider(), host: '127.0.0.1', port: 0, socketPath: `${dir.path}/v.sock` });
    await vnet.start();
    node = new VNic({ provider: devProvider(), vnet: { path: `${dir.path}/v.sock` }, alias: 'orders-node' });
    await node.connect();
    services = new ServiceManager(node, { registry: new TypeRegistry().register(file_layer8_demo_v1_demo) });
    const servicesRegistry = newRegistry();
    registerServiceMetrics(servicesRegistry, services);
    servicesMetrics = await serveMetrics(servicesRegistry, { port: 0 });
    await services.activate({ name: 'Orders', type: OrderSchema, web: { actions: ['post', 'get'] } });
    const vnicMetrics = new VNicMetrics(gatewayRegistry);
    gwVnic = new VNic({ provider: devProvider(), vnet: { path: `${dir.path}/v.sock` }, observer: vnicMetrics });
    vnicMetrics.track(gwVnic);
    await gwVnic.connect();
    gateway = new Gateway({ vnic: gwVnic, port: 0, metrics: { registry: gatewayRegistry, serve: true } });
    base = (await gateway.start()).url;
    await waitFor(() => gateway.directory.route(0, 'Orders') !== undefined, { what: 'Orders published' });
  });

  after(async () => {
    await servicesMetrics.close();
    await gateway.close();
    await services.close();
    await Promise.all([gwVnic.close(), node.close()]);
    await vnet.close();
    dir.remove();
  });

  test('the gateway counts HTTP answers by method, route and status, WebSockets, and its VNic', async () => {
    const before = await scrape(`${base}/metrics`);
    for (let i = 1; i <= 3; i++) assert.equal((await post(base, order(i))).status, 201);
    assert.equal((await fetch(`${base}${ORDERS}/2`)).status, 200);
    assert.equal((await fetch(`${base}${ORDERS}/99`)).status, 404);
    assert.equal((await fetch(`${base}/no/such/path`)).status, 404);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, [WS_PROTOCOL]);
    await once(ws, 'open');
    const s = await scrape(`${base}/metrics`);
    const count = (method: string, route: string, status: string) =>
      delta(before, s, 'layer8_gateway_http_request_duration_seconds_count', { method, route, status });
    assert.equal(count('POST', '/l8/:area/:service', '201'), 3);
    assert.equal(count('GET', '/l8/:area/:service/:key', '200'), 1);
    assert.equal(count('GET', '/l8/:area/:service/:key', '404'), 1);
    assert.equal(count('GET', UNMATCHED_ROUTE, '404'), 1);
    assert.equal(count('GET', '/metrics', '200'), 1, 'the scrape before this one');
    assert.equal(value(s, 'layer8_gateway_ws_connections'), 1);
    assert.equal(delta(before, s, 'layer8_gateway_ws_events_total', { event: 'connections' }), 1);
    assert.equal(value(s, 'layer8_gateway_routes'), 1);
    const caller = { side: 'caller', service: 'Orders', code: 'OK' };
    assert.equal(delta(before, s, 'layer8_request_duration_seconds_count', { ...caller, action: 'POST' }), 3);
    ws.terminate();
    await waitFor(async () => value(await scrape(`${base}/metrics`), 'layer8_gateway_ws_connections') === 0, {
      what: 'the WebSocket gone from the gauge',
    });
  });

  test("a services process counts each service's items, requests and errors", async () => {
    const before = await scrape(servicesMetrics.url);
    const client = services.client('Orders', 0, OrderSchema);
    assert.equal((await client.get('select * from Order')).total, 3);
    await assert.rejects(client.get('select * from Nothing where'), { code: 'L8_ERR_QUERY' });
    const s = await scrape(servicesMetrics.url);
    const orders = { service: 'Orders', area: '0' };
    assert.equal(value(s, 'layer8_service_items', orders), 3);
    assert.equal(delta(before, s, 'layer8_service_requests_total', orders), 2);
    assert.equal(delta(before, s, 'layer8_service_errors_total', orders), 1);
    assert.equal(
      value(s, 'layer8_service_errors_total', orders),
      2,
      "the gateway's GET of a missing key, the bad query",
    );
    assert.equal(value(s, 'layer8_service_replication_total', { ...orders, what: 'unsent' }), 0);
  });

  test("a closed gateway's metrics leave the registry", async () => {
    const other = newRegistry();
    const g = new Gateway({ vnic: gwVnic, port: 0, metrics: { registry: other } });
    await g.start();
    assert.notEqual(other.getSingleMetric('layer8_gateway_routes'), undefined);
    await g.close();
    assert.deepEqual(await other.getMetricsAsJSON(), []);
    const again = new Gateway({ vnic: gwVnic, port: 0, metrics: { registry: other } });
    assert.notEqual(other.getSingleMetric('layer8_gateway_routes'), undefined, 'registered again');
    await again.close();
  });
});

function post(base: string, body: object): Promise<Response> {
  return fetch(`${base}${ORDERS}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
