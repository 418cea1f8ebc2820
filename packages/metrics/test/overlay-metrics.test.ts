import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type L8Error, newNodeId } from '@layer8/protocol';
import { devProvider, tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { type Incoming, VNic } from '@layer8/vnic';
import { register as globalRegistry } from 'prom-client';
import {
  type MetricsServer,
  newRegistry,
  type Registry,
  registerVNetMetrics,
  serveMetrics,
  VNicMetrics,
} from '../src/index.ts';
import { matching, type Scrape, scrape, scrapeUntil, value } from './scrape-kit.ts';

/** A VNic with its metrics on a registry of its own, served on 127.0.0.1. */
interface Observed {
  readonly vnic: VNic;
  readonly server: MetricsServer;
}

async function observedVNic(socket: string, alias: string): Promise<Observed> {
  const registry: Registry = newRegistry();
  const metrics = new VNicMetrics(registry);
  // the VNet's own counters are checked: requests must cross it (no same-host short cut)
  const vnic = new VNic({ provider: devProvider(), vnet: { path: socket }, alias, observer: metrics, direct: false });
  metrics.track(vnic);
  await vnic.connect();
  return { vnic, server: await serveMetrics(registry, { port: 0 }) };
}

const ECHO = { service: 'echo' };
const caller = (code: string) => ({ side: 'caller', service: 'echo', action: 'HANDLE', code });
const responder = (code: string) => ({ side: 'responder', service: 'echo', action: 'HANDLE', code });

describe('metrics of a VNet and two VNics, scraped over HTTP', () => {
  const dir = tempDir('l8-metrics-');
  let vnet: VNet;
  let vnetServer: MetricsServer;
  let a: Observed;
  let b: Observed;
  let release: () => void = () => undefined;

  before(async () => {
    vnet = new VNet({ provider: devProvider(), host: '127.0.0.1', port: 0, socketPath: `${dir.path}/v.sock` });
    await vnet.start();
    const registry = newRegistry();
    registerVNetMetrics(registry, vnet);
    vnetServer = await serveMetrics(registry, { port: 0 });
    b = await observedVNic(`${dir.path}/v.sock`, 'responder');
    b.vnic.subscribe(ECHO, (m) => {
      const body = m.json() as { fail?: boolean };
      if (body.fail === true) throw new Error('asked to fail');
      return body;
    });
    b.vnic.subscribe({ service: 'slow' }, () => new Promise<string>((r) => (release = () => r('done'))));
    a = await observedVNic(`${dir.path}/v.sock`, 'caller');
    await waitFor(() => a.vnic.health.all().some((r) => r.services.some((s) => s.service === 'slow')), {
      what: 'the caller sees the responder',
    });
  });

  after(async () => {
    for (const s of [vnetServer, a.server, b.server]) await s.close();
    await Promise.all([a.vnic.close(), b.vnic.close()]);
    await vnet.close();
    dir.remove();
  });

  test('requests, a handler error, a drop and a refused handshake show in the scrapes', async () => {
    const before = await scrape(vnetServer.url);
    for (let i = 0; i < 5; i++) await a.vnic.request(ECHO, { i }, { timeoutMs: 5000 });
    for (let i = 0; i < 2; i++) await assert.rejects(a.vnic.request(ECHO, { fail: true }), { code: 'L8_ERR_HANDLER' });
    await assert.rejects(a.vnic.request({ ...ECHO, node: newNodeId() }, {}), { code: 'L8_ERR_UNREACHABLE' });
    const stranger = new VNic({ provider: devProvider('not-the-passphrase'), vnet: { path: `${dir.path}/v.sock` } });
    await assert.rejects(stranger.connect(), (e: L8Error) => e.code === 'L8_ERR_AUTH');
    await stranger.close();

    const refused = { result: 'refused', code: 'L8_ERR_AUTH' };
    const counted = (s: Scrape): boolean => matching(s, 'layer8_vnet_handshakes_total', refused).length > 0;
    checkVNet(before, await scrapeUntil(vnetServer.url, counted, 'the refused handshake'));
    checkCaller(await scrape(a.server.url));
    checkResponder(await scrape(b.server.url));
  });

  test('requests and handlers in flight are gauges read at scrape time', async () => {
    const pending = a.vnic.request({ service: 'slow' }, {}, { timeoutMs: 10_000 });
    const running = (s: Scrape): boolean => value(s, 'layer8_vnic_handlers', { state: 'running' }) === 1;
    await scrapeUntil(b.server.url, running, 'the slow handler running');
    assert.equal(value(await scrape(a.server.url), 'layer8_vnic_requests_in_flight'), 1);
    release();
    assert.equal(((await pending) as Incoming).json(), 'done');
    assert.equal(value(await scrape(a.server.url), 'layer8_vnic_requests_in_flight'), 0);
    const slow = { side: 'responder', service: 'slow', action: 'HANDLE', code: 'OK' };
    assert.equal(value(await scrape(b.server.url), 'layer8_request_duration_seconds_count', slow), 1);
  });

  test("nothing is registered in prom-client's global registry", async () => {
    assert.doesNotMatch(await globalRegistry.metrics(), /layer8_/);
  });
});

function checkVNet(before: Scrape, s: Scrape): void {
  assert.equal(s.types.get('layer8_vnet_frames_total'), 'counter');
  assert.equal(s.types.get('layer8_health_nodes'), 'gauge');
  for (const direction of ['in', 'out']) {
    const labels = { direction, link_kind: 'local' };
    const gained = value(s, 'layer8_vnet_frames_total', labels) - value(before, 'layer8_vnet_frames_total', labels);
    assert.ok(gained >= 8, `${direction}: 8 requests and their answers crossed the VNet (${gained})`);
    assert.ok(value(s, 'layer8_vnet_bytes_total', labels) > value(before, 'layer8_vnet_bytes_total', labels));
  }
  assert.equal(value(s, 'layer8_vnet_links', { link_kind: 'local' }), 2);
  assert.equal(value(s, 'layer8_vnet_links', { link_kind: 'peer' }), 0);
  assert.equal(value(s, 'layer8_vnet_drops_total', { reason: 'unreachable' }), 1);
  assert.equal(value(s, 'layer8_vnet_drops_total', { reason: 'spoofed' }), 0);
  assert.equal(value(s, 'layer8_vnet_handshakes_total', { result: 'accepted', code: 'OK' }), 2);
  assert.equal(value(s, 'layer8_vnet_handshakes_total', { result: 'refused', code: 'L8_ERR_AUTH' }), 1);
  assert.equal(value(s, 'layer8_health_nodes', { status: 'up', role: 'vnic' }), 2);
  assert.equal(value(s, 'layer8_health_nodes', { status: 'up', role: 'vnet' }), 1);
  assert.equal(value(s, 'layer8_health_nodes', { status: 'unreachable', role: 'vnic' }), 0);
  assert.ok(value(s, 'layer8_vnet_send_queue_bytes', { link_kind: 'local' }) >= 0);
  assert.equal(value(s, 'layer8_vnet_backpressure_pauses_total', { link_kind: 'local' }), 0);
  assert.ok(value(s, 'layer8_vnet_control_total', { what: 'rebuilds' }) >= 2);
  assert.deepEqual(
    matching(s, 'layer8_vnet_info').map((x) => x.value),
    [1],
  );
}

function checkCaller(s: Scrape): void {
  assert.equal(s.types.get('layer8_request_duration_seconds'), 'histogram');
  assert.equal(value(s, 'layer8_request_duration_seconds_count', caller('OK')), 5);
  assert.equal(value(s, 'layer8_request_duration_seconds_count', caller('L8_ERR_HANDLER')), 2);
  assert.equal(value(s, 'layer8_request_duration_seconds_count', caller('L8_ERR_UNREACHABLE')), 1);
  assert.equal(value(s, 'layer8_request_duration_seconds_bucket', { ...caller('OK'), le: '+Inf' }), 5);
  assert.ok(value(s, 'layer8_request_duration_seconds_sum', caller('OK')) > 0);
  assert.equal(matching(s, 'layer8_request_duration_seconds_count', { side: 'responder' }).length, 0);
  assert.equal(value(s, 'layer8_vnic_requests_in_flight'), 0);
  assert.equal(value(s, 'layer8_vnic_connected'), 1);
  assert.ok(value(s, 'layer8_vnic_frames_total', { direction: 'out' }) >= 8);
}

function checkResponder(s: Scrape): void {
  assert.equal(value(s, 'layer8_request_duration_seconds_count', responder('OK')), 5);
  assert.equal(value(s, 'layer8_request_duration_seconds_count', responder('L8_ERR_HANDLER')), 2);
  assert.equal(matching(s, 'layer8_request_duration_seconds_count', { side: 'caller' }).length, 0);
  assert.equal(value(s, 'layer8_vnic_handlers', { state: 'queued' }), 0);
  assert.equal(value(s, 'layer8_vnic_drops_total', { reason: 'forged_replies' }), 0);
  assert.ok(value(s, 'layer8_vnic_frames_total', { direction: 'in' }) >= 7);
  assert.ok(value(s, 'layer8_vnic_bytes_total', { direction: 'in' }) > 0);
}
