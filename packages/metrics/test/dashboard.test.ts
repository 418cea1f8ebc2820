import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { allMetrics } from './all-metrics.ts';

const DOCS = new URL('../../../docs/operations/', import.meta.url);

/** Series Prometheus makes itself for every target. */
const PROMETHEUS_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

/** Every series name a scrape of a Layer8 process can hold: each metric, and a histogram's three series. */
async function exported(): Promise<Set<string>> {
  const all = await allMetrics();
  const names = new Set(PROMETHEUS_SERIES);
  for (const m of await all.registry.getMetricsAsJSON()) {
    const series = String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => m.name + s) : [m.name];
    for (const s of series) names.add(s);
  }
  await all.close();
  return names;
}

/**
 * The metric names a PromQL expression selects, read with Prometheus' own PromQL grammar (lezer-promql).
 * Grafana's interval variables are given a value first; an expression that does not parse fails.
 */
function metricNames(expr: string): string[] {
  const promql = expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m');
  const names: string[] = [];
  parser.parse(promql).iterate({
    enter: (node) => {
      assert.ok(!node.type.isError, `PromQL that parses: ${expr} (at ${node.from})`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.push(promql.slice(node.from, node.to));
      }
    },
  });
  assert.ok(names.length > 0, `an expression that selects a metric: ${expr}`);
  return names;
}

/** Every `expr` of a Grafana dashboard's panels, rows' panels included, and its variables' queries. */
function dashboardQueries(dashboard: DashboardJson): string[] {
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const variables = dashboard.templating.list.map((v) => /^label_values\((.*), *\w+\)$/.exec(v.query.query)?.[1]);
  return [...exprs, ...variables].map((e) => {
    assert.ok(typeof e === 'string' && e !== '', 'every query has an expression');
    return e;
  });
}

interface DashboardJson {
  readonly title: string;
  readonly uid: string;
  readonly panels: { type: string; panels?: DashboardJson['panels']; targets?: { expr: string; refId: string }[] }[];
  readonly templating: { list: { name: string; query: { query: string } }[] };
}

test('the Grafana dashboard is valid JSON whose every query uses metrics Layer8 exports', async () => {
  const names = await exported();
  const dashboard = JSON.parse(readFileSync(new URL('grafana-dashboard.json', DOCS), 'utf8')) as DashboardJson;
  assert.equal(dashboard.uid, 'layer8-overlay');
  const queries = dashboardQueries(dashboard);
  assert.ok(queries.length >= 30, `${queries.length} queries`);
  const used = new Set(queries.flatMap(metricNames));
  for (const name of used) assert.ok(names.has(name), `${name} is a metric Layer8 exports`);
  for (const family of ['layer8_breaker_state', 'layer8_gateway_ws_connections', 'layer8_service_items']) {
    assert.ok(used.has(family), `the dashboard shows ${family}`);
  }
});

test('the alerting rules use metrics Layer8 exports, and cover the alerts operations.md lists', async () => {
  const names = await exported();
  const rules = parseYaml(readFileSync(new URL('alerts.yml', DOCS), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const alerts = rules.groups.flatMap((g) => g.rules);
  for (const r of alerts) for (const name of metricNames(r.expr)) assert.ok(names.has(name), `${r.alert}: ${name}`);
  const docs = readFileSync(new URL('../operations.md', DOCS), 'utf8');
  const listed = [...docs.matchAll(/^\| `(Layer8\w+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(
    listed,
    alerts.map((r) => r.alert),
  );
});
