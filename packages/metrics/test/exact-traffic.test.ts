import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type L8Error, newNodeId } from '@layer8/protocol';
import { type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { type Incoming, VNic } from '@layer8/vnic';
import {
  BreakerMetrics,
  type MetricsServer,
  newRegistry,
  type Registry,
  registerVNetMetrics,
  serveMetrics,
  VNicMetrics,
} from '../src/index.ts';
import { delta, matching, type Scrape, scrape, scrapeUntil, value } from './scrape-kit.ts';

/**
 * Heartbeats go only on a link idle for half of this, and load statistics every `QUIET_MS`: both far
 * beyond a test's life, so every frame counted between two scrapes is one the test sent.
 */
const QUIET_MS = 600_000;
const OK_REQUESTS = 20;
const FAILING = 3;
const UNREACHABLE = 2;

/** A node with its metrics served on a registry of its own. */
interface Served {
  readonly url: string;
  readonly server: MetricsServer;
}

async function served(register: (r: Registry) => void): Promise<Served> {
  const registry = newRegistry();
  register(registry);
  const server = await serveMetrics(registry, { port: 0 });
  return { url: server.url, server };
}

/** The four scrapes of the test: both VNets, the caller and the responder. */
type Scrapes = { v1: Scrape; v2: Scrape; caller: Scrape; responder: Scrape };

describe('counters match the traffic sent, exactly (two TLS VNets on 127.0.0.2 and .3, a VNic on each)', () => {
  const dir = tempDir('l8-exact-');
  let ca: TempOverlay;
  const vnets: VNet[] = [];
  const vnics: VNic[] = [];
  const endpoints = new Map<keyof Scrapes, Served>();
  const stalled: (() => void)[] = [];
  let healthy = false;

  async function vnic(name: string, on: VNet, key: keyof Scrapes): Promise<VNic> {
    const registry = newRegistry();
    const metrics = new VNicMetrics(registry);
    const breakers = new BreakerMetrics(registry);
    const n = new VNic({
      provider: ca.provider(name),
      vnet: { path: on.addresses.unix as string },
      alias: name,
      heartbeatMs: QUIET_MS,
      statsMs: QUIET_MS,
      observer: metrics,
      onBreaker: breakers.onChange,
      breaker: { failures: 2, coolDownMs: 200 },
    });
    metrics.track(n);
    breakers.track(n);
    await n.connect();
    vnics.push(n);
    const server = await serveMetrics(registry, { port: 0 });
    endpoints.set(key, { url: server.url, server });
    return n;
  }

  async function scrapeAll(): Promise<Scrapes> {
    const at = (k: keyof Scrapes) => scrape((endpoints.get(k) as Served).url);
    return { v1: await at('v1'), v2: await at('v2'), caller: await at('caller'), responder: await at('responder') };
  }

  before(async () => {
    ca = await tempOverlay(['caller', 'responder'], { vnets: ['v1', 'v2'] });
    for (const [name, host] of [
      ['v1', '127.0.0.2'],
      ['v2', '127.0.0.3'],
    ] as const) {
      const peers = vnets.map((v) => v.addresses.tcp);
      const socketPath = `${dir.path}/${name}.sock`;
      const opts = { provider: ca.provider(name), host, port: 0, socketPath, peers, alias: name };
      const v = new VNet({ ...opts, heartbeatMs: QUIET_MS, statsMs: QUIET_MS });
      await v.start();
      vnets.push(v);
      endpoints.set(name, await served((r) => registerVNetMetrics(r, v)));
    }
    const caller = await vnic('caller', vnets[0] as VNet, 'caller');
    const responder = await vnic('responder', vnets[1] as VNet, 'responder');
    responder.subscribe({ service: 'echo' }, (m) => {
      const body = m.json() as { fail?: boolean };
      if (body.fail === true) throw new Error('asked to fail');
      return body;
    });
    responder.subscribe({ service: 'stall' }, () =>
      healthy ? 'well' : new Promise<string>((r) => stalled.push(() => r('late'))),
    );
    await waitFor(() => caller.health.instances('stall', 0).length === 1, { what: 'the caller sees the responder' });
    await waitFor(() => vnets.every((v) => v.health.size === 4), { what: 'both VNets see all four nodes' });
  });

  after(async () => {
    for (const r of stalled) r();
    for (const e of endpoints.values()) await e.server.close();
    await Promise.all(vnics.map((n) => n.close()));
    for (const v of vnets.reverse()) await v.close();
    ca.remove();
    dir.remove();
  });

  test('requests, failures and drops: per-code counts, and frames and bytes on every hop', async () => {
    const [caller] = vnics as [VNic];
    const before = await quiet(scrapeAll);
    const replies = await Promise.all(
      Array.from({ length: OK_REQUESTS }, (_, i) => caller.request({ service: 'echo' }, { i }, { timeoutMs: 10_000 })),
    );
    assert.deepEqual(
      replies.map((r) => ((r as Incoming).json() as { i: number }).i),
      Array.from({ length: OK_REQUESTS }, (_, i) => i),
    );
    for (let i = 0; i < FAILING; i++) {
      await assert.rejects(caller.request({ service: 'echo' }, { fail: true }), { code: 'L8_ERR_HANDLER' });
    }
    for (let i = 0; i < UNREACHABLE; i++) {
      await assert.rejects(caller.request({ service: 'echo', node: newNodeId() }, {}), (e: L8Error) => {
        return e.code === 'L8_ERR_UNREACHABLE';
      });
    }
    const after = await scrapeAll();
    checkRequests(before, after);
    checkHops(before, after);
  });

  test('a failing node opens its breaker, the cool-down half-opens it, a good probe closes it', async () => {
    const [caller] = vnics as [VNic];
    const stall = { service: 'stall', area: '0', alias: 'responder', node: (vnics[1] as VNic).id };
    const url = (endpoints.get('caller') as Served).url;
    for (let i = 0; i < 2; i++) {
      await assert.rejects(caller.request({ service: 'stall' }, {}, { timeoutMs: 30 }), { code: 'L8_ERR_TIMEOUT' });
    }
    const opened = await scrape(url);
    assert.equal(value(opened, 'layer8_breaker_transitions_total', { service: 'stall', to: 'open' }), 1);
    const halfOpen = (s: Scrape) => matching(s, 'layer8_breaker_state', { ...stall, state: 'half-open' }).length === 1;
    await scrapeUntil(url, halfOpen, 'the breaker half-open after its cool-down');
    healthy = true;
    assert.equal(((await caller.request({ service: 'stall' }, {})) as Incoming).json(), 'well');
    const closed = await scrape(url);
    assert.deepEqual(matching(closed, 'layer8_breaker_state'), [], 'a closed breaker has no series');
    for (const [to, n] of [
      ['open', 1],
      ['half-open', 1],
      ['closed', 1],
    ] as const) {
      assert.equal(value(closed, 'layer8_breaker_transitions_total', { service: 'stall', area: '0', to }), n, to);
    }
    assert.equal(value(closed, 'layer8_request_duration_seconds_count', caller_('stall', 'L8_ERR_TIMEOUT')), 2);
  });
});

const caller_ = (service: string, code: string) => ({ side: 'caller', service, action: 'HANDLE', code });
const responder_ = (service: string, code: string) => ({ side: 'responder', service, action: 'HANDLE', code });

/** Scrapes until two scrapes in a row count the same frames everywhere: no frame of the setup is still in flight. */
async function quiet(scrapeAll: () => Promise<Scrapes>): Promise<Scrapes> {
  const frames = (s: Scrapes): string =>
    JSON.stringify(Object.values(s).map((x) => x.samples.filter((y) => y.name.endsWith('frames_total'))));
  let last = await scrapeAll();
  await waitFor(
    async () => {
      const next = await scrapeAll();
      const same = frames(next) === frames(last);
      last = next;
      return same;
    },
    { what: 'no frame in flight' },
  );
  return last;
}

function checkRequests(b: Scrapes, a: Scrapes): void {
  const count = 'layer8_request_duration_seconds_count';
  assert.equal(delta(b.caller, a.caller, count, caller_('echo', 'OK')), OK_REQUESTS);
  assert.equal(delta(b.caller, a.caller, count, caller_('echo', 'L8_ERR_HANDLER')), FAILING);
  assert.equal(delta(b.caller, a.caller, count, caller_('echo', 'L8_ERR_UNREACHABLE')), UNREACHABLE);
  assert.equal(delta(b.responder, a.responder, count, responder_('echo', 'OK')), OK_REQUESTS);
  assert.equal(delta(b.responder, a.responder, count, responder_('echo', 'L8_ERR_HANDLER')), FAILING);
  assert.equal(matching(a.responder, count, responder_('echo', 'L8_ERR_UNREACHABLE')).length, 0);
  const inf = { ...caller_('echo', 'OK'), le: '+Inf' };
  assert.equal(delta(b.caller, a.caller, 'layer8_request_duration_seconds_bucket', inf), OK_REQUESTS);
  assert.equal(value(a.caller, 'layer8_vnic_requests_in_flight'), 0);
  assert.equal(delta(b.v1, a.v1, 'layer8_vnet_drops_total', { reason: 'unreachable' }), UNREACHABLE);
  assert.equal(delta(b.v2, a.v2, 'layer8_vnet_drops_total', { reason: 'unreachable' }), 0);
}

/**
 * Frames on every hop: the caller's requests reach the responder across both VNets and the peer link,
 * the answers come back the same way, and v1 answers each request for an unknown node itself. Bytes
 * are checked end against end: what one side of a link wrote, the other read.
 */
function checkHops(b: Scrapes, a: Scrapes): void {
  const answered = OK_REQUESTS + FAILING;
  const sent = answered + UNREACHABLE;
  const vnicFrames = (s: keyof Scrapes, direction: string) =>
    delta(b[s], a[s], 'layer8_vnic_frames_total', { direction });
  const vnetFrames = (s: 'v1' | 'v2', direction: string, link_kind: string) =>
    delta(b[s], a[s], 'layer8_vnet_frames_total', { direction, link_kind });
  assert.deepEqual(
    [vnicFrames('caller', 'out'), vnetFrames('v1', 'in', 'local'), vnetFrames('v1', 'out', 'peer')],
    [sent, sent, answered],
  );
  assert.deepEqual([vnetFrames('v2', 'in', 'peer'), vnetFrames('v2', 'out', 'local')], [answered, answered]);
  assert.deepEqual([vnicFrames('responder', 'in'), vnicFrames('responder', 'out')], [answered, answered]);
  assert.deepEqual([vnetFrames('v2', 'in', 'local'), vnetFrames('v2', 'out', 'peer')], [answered, answered]);
  assert.deepEqual([vnetFrames('v1', 'in', 'peer'), vnetFrames('v1', 'out', 'local')], [answered, sent]);
  assert.equal(vnicFrames('caller', 'in'), sent);
  const bytes = (s: keyof Scrapes, labels: Record<string, string>, vnic = false) =>
    delta(b[s], a[s], vnic ? 'layer8_vnic_bytes_total' : 'layer8_vnet_bytes_total', labels);
  const link = (direction: string, link_kind: string) => ({ direction, link_kind });
  assert.equal(bytes('caller', { direction: 'out' }, true), bytes('v1', link('in', 'local')));
  assert.equal(bytes('v1', link('out', 'peer')), bytes('v2', link('in', 'peer')));
  assert.equal(bytes('v2', link('out', 'local')), bytes('responder', { direction: 'in' }, true));
  assert.equal(bytes('responder', { direction: 'out' }, true), bytes('v2', link('in', 'local')));
  assert.equal(bytes('v2', link('out', 'peer')), bytes('v1', link('in', 'peer')));
  assert.equal(bytes('v1', link('out', 'local')), bytes('caller', { direction: 'in' }, true));
  assert.ok(bytes('caller', { direction: 'out' }, true) > sent * 8, 'every frame has a header');
}
