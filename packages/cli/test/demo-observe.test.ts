import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { children, spawnL8, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

/** Every process of the demo, by the node name its metrics are listed under. */
const NODES = ['demo-v1', 'demo-v2', 'orders-1', 'seats-1', 'orders-2', 'seats-2', 'gateway'];

/** A span an OTLP/HTTP JSON export carried: the `service.name` of its process and its name. */
interface Received {
  readonly service: string;
  readonly span: string;
}

/** What an OTLP/HTTP JSON export body holds, as far as this test reads it. */
interface ExportBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { name: string }[] }[];
  }[];
}

/** A real OTLP/HTTP receiver on 127.0.0.1: records the spans posted to `/v1/traces` and answers 200. */
async function otlpReceiver(): Promise<{ url: string; spans: Received[]; close(): void }> {
  const spans: Received[] = [];
  const read = async (req: IncomingMessage): Promise<ExportBody> => {
    let body = '';
    for await (const chunk of req) body += chunk;
    return JSON.parse(body) as ExportBody;
  };
  const server = createServer((req, res) => {
    void read(req).then((b) => {
      for (const rs of b.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ service, span: s.name });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => server.close() };
}

/** The value of the sample line that starts with `series`, if any. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Polls `ok` every 50 ms until it holds, up to `ms`. */
async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('l8 demo --metrics --otlp: every process serves /metrics (listed for Prometheus), and spans reach the collector', {
  timeout: 180_000,
}, async () => {
  const otlp = await otlpReceiver();
  try {
    await observedDemo(otlp);
  } finally {
    otlp.close();
  }
});

async function observedDemo(otlp: Awaited<ReturnType<typeof otlpReceiver>>): Promise<void> {
  const data = tempDir('l8-demo-observe-');
  const args = ['demo', '--data', data, '--gateway-port', '0', '--metrics', '--otlp', otlp.url];
  const { child, match } = await spawnL8(args, /([\s\S]*)l8 demo ready/);
  const printed = match[1] ?? '';
  const urls = new Map(
    [...printed.matchAll(/l8 demo: metrics of (\S+) at (\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
  );
  assert.deepEqual([...urls.keys()].sort(), [...NODES].sort(), printed);
  const targets = JSON.parse(readFileSync(join(data, 'prometheus-targets.json'), 'utf8')) as {
    targets: string[];
    labels: { instance: string };
  }[];
  assert.deepEqual(
    targets.map((t) => [t.labels.instance, `http://${t.targets[0]}/metrics`]).sort(),
    [...urls].sort(),
    'the file_sd targets are the printed endpoints',
  );
  assert.match(printed, new RegExp(`request spans of the gateway and the services go to ${otlp.url}/v1/traces`));

  const gateway = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\/dashboard \(log in as (\S+), password (\S+)\)/.exec(printed);
  assert.ok(gateway, printed);
  const [, base, user, password] = gateway as unknown as [string, string, string, string];
  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const got = await fetch(`${base}/l8/0/Orders/1`, { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(got.status, 200);

  const scraped = new Map<string, string>();
  for (const [node, url] of urls) {
    const text = await (await fetch(url)).text();
    scraped.set(node, text);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (lint.error) assert.fail(`promtool: ${lint.error.message} (.ci/run installs Debian's prometheus package)`);
    assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', `promtool check metrics on ${node}`);
  }
  const at = (node: string, series: string) => sample(scraped.get(node) ?? '', series);
  const info = (scraped.get('demo-v1') ?? '').split('\n').find((l) => l.startsWith('layer8_vnet_info{'));
  assert.match(info ?? '', /alias="demo-v1"\} 1$/);
  assert.equal(at('demo-v2', 'layer8_vnet_links{link_kind="peer"}'), 1);
  assert.equal(at('orders-1', 'layer8_service_items{service="Orders",area="0"}'), 3, 'the seeded orders');
  assert.equal(at('seats-1', 'layer8_service_items{service="Seats",area="0"}'), 3, 'the seeded seats');
  assert.equal(at('orders-2', 'layer8_vnic_connected'), 1);
  const key =
    'layer8_gateway_http_request_duration_seconds_count{method="GET",route="/l8/:area/:service/:key",status="200"}';
  assert.equal(at('gateway', key), 1, 'the one GET of an order');
  assert.ok((at('demo-v1', 'process_cpu_seconds_total') ?? 0) > 0, "the demo process's own metrics, once");
  assert.equal(at('gateway', 'process_cpu_seconds_total'), undefined, 'the same process: not twice');
  assert.ok((at('orders-2', 'process_cpu_seconds_total') ?? 0) > 0, 'a service process has its own');

  await until(
    () =>
      otlp.spans.some((s) => s.service === 'gateway' && s.span === 'layer8.request') &&
      otlp.spans.some((s) => /^orders-[12]$/.test(s.service) && s.span === 'layer8.handle'),
    30_000,
    `the gateway's request span and an Orders instance's handle span (got ${JSON.stringify(otlp.spans.slice(0, 5))})`,
  );

  const exited = new Promise<number | null>((r) => child.once('exit', r));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
}
