import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serveMetrics } from '../src/index.ts';
import { allMetrics } from './all-metrics.ts';
import { httpGet } from './scrape-kit.ts';

const DOCS = fileURLToPath(new URL('../../../docs/operations/', import.meta.url));

/**
 * Runs Prometheus' `promtool` with `args` (and `input` on stdin); fails, never skips, when it is not
 * installed: `.ci/run` installs Debian's `prometheus` package for it.
 */
export function promtool(args: string[], input?: string): string {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60_000 });
  assert.ifError(
    r.error && Object.assign(r.error, { message: `promtool: ${r.error.message} (apt-get install prometheus)` }),
  );
  assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

test('promtool accepts the shipped alerting rules and the sample scrape configuration', () => {
  assert.match(promtool(['check', 'rules', `${DOCS}alerts.yml`]), /SUCCESS: 9 rules found/);
  assert.match(promtool(['check', 'config', `${DOCS}prometheus.yml`]), /SUCCESS: .*valid prometheus config/);
});

test('promtool check metrics finds nothing to say about a scrape of every Layer8 metric', async () => {
  const all = await allMetrics();
  const server = await serveMetrics(all.registry, { port: 0 });
  const scraped = await httpGet(server.url);
  await server.close();
  await all.close();
  assert.equal(scraped.status, 200);
  assert.match(
    scraped.body,
    /^layer8_gateway_http_request_duration_seconds_count\{/m,
    'a labelled histogram with samples',
  );
  assert.match(scraped.body, /^layer8_breaker_state\{/m);
  assert.equal(promtool(['check', 'metrics'], scraped.body).trim(), '');
});
