import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { TypeRegistry } from '@layer8/model';
import { DevProvider } from '@layer8/security';
import { ServiceManager } from '@layer8/services';
import { VNic } from '@layer8/vnic';
import { children, passphraseFile, spawnL8, stop, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

/** `promtool check metrics` on `text`: what it says (nothing when the scrape follows the conventions). */
function promtoolCheckMetrics(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
  if (r.error) assert.fail(`promtool: ${r.error.message} (.ci/run installs Debian's prometheus package for it)`);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** The value of the sample line that starts with `series` (name and labels as prom-client writes them). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** GETs `url` until it answers 200 (the gateway learns services from health, a moment after they start). */
async function published(url: string, err: () => string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await fetch(url)).status === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${url} was not published: ${err()}`);
}

describe('the /metrics of a live VNet and gateway pass promtool check metrics', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('l8 vnet start --metrics and l8 gateway start --metrics, with traffic through both', async () => {
    const pass = passphraseFile(dir, 'cli-live-metrics-pass');
    const v = await spawnL8(
      ['vnet', 'start', '--host', '127.0.0.5', '--port', '0', '--no-socket', '--dev-passphrase-file', pass].concat([
        '--metrics',
        '127.0.0.1:0',
      ]),
      /listening on tcp ([\d.]+):(\d+)[\s\S]*metrics at (http:\/\/\S+)/,
    );
    const vnet = `${v.match[1]}:${v.match[2]}`;
    const vnic = new VNic({ provider: new DevProvider({ passphrase: 'cli-live-metrics-pass', warn: () => {} }), vnet });
    await vnic.connect();
    const services = new ServiceManager(vnic, { registry: new TypeRegistry().register(EmptySchema) });
    await services.activate({
      name: 'Hello',
      type: EmptySchema,
      stateful: false,
      web: { actions: ['get'] },
      handlers: { get: () => ({ hello: 'world' }) },
    });
    const g = await spawnL8(
      ['gateway', 'start', '--port', '0', '--vnet', vnet, '--dev-passphrase-file', pass, '--metrics', '127.0.0.1:0'],
      /listening on (http:\/\/127\.0\.0\.1:\d+) [\s\S]*l8 gateway metrics at (http:\/\/\S+)/,
    );
    const [url, metricsUrl] = [g.match[1] as string, g.match[2] as string];
    await published(`${url}/l8/0/Hello`, g.err);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/l8/0/Hello`)).status, 200);
    assert.equal((await fetch(`${url}/no/such/route`)).status, 404);

    const gw = await (await fetch(metricsUrl)).text();
    assert.equal(promtoolCheckMetrics(gw).trim(), '');
    const unmatched = 'layer8_gateway_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}';
    assert.equal(sample(gw, unmatched), 1);
    const ok =
      'layer8_gateway_http_request_duration_seconds_count{method="GET",route="/l8/:area/:service",status="200"}';
    assert.ok((sample(gw, ok) ?? 0) >= 4, 'the polling GET and three more');
    assert.equal(sample(gw, 'layer8_gateway_routes'), 1);
    assert.equal(sample(gw, 'layer8_vnic_connected'), 1, "the gateway's VNic");
    assert.ok((sample(gw, 'process_cpu_seconds_total') ?? 0) > 0, 'the process metrics');
    const caller = 'layer8_request_duration_seconds_count{side="caller",service="Hello",action="GET",code="OK"}';
    assert.ok((sample(gw, caller) ?? 0) >= 4, "the gateway's VNic timed its requests to Hello");

    const vn = await (await fetch(v.match[3] as string)).text();
    assert.equal(promtoolCheckMetrics(vn).trim(), '');
    assert.equal(sample(vn, 'layer8_vnet_links{link_kind="local"}'), 2, 'the service node and the gateway');
    assert.equal(sample(vn, 'layer8_vnet_links{link_kind="peer"}'), 0);
    assert.equal(sample(vn, 'layer8_health_nodes{status="up",role="vnic"}'), 2);

    await stop(g.child);
    await services.close();
    await vnic.close();
    await stop(v.child);
  });
});
