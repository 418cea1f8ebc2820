import assert from 'node:assert/strict';
import { get } from 'node:http';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/** One sample of a scrape: its series name (`…_bucket`, `…_count` for a histogram), labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed scrape: the samples, and each metric family's `# TYPE`. */
export interface Scrape {
  readonly samples: readonly Sample[];
  readonly types: ReadonlyMap<string, string>;
}

/** GETs `url` over HTTP: status, content type and body. */
export function httpGet(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
  });
}

/** A sample value of the text format as a number (`+Inf`, `-Inf` and `NaN` included). */
function numberOf(text: string | undefined): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const n = Number(text);
  assert.ok(!Number.isNaN(n) || text === 'NaN', `a sample value: ${text}`);
  return n;
}

/** The samples of plain families (counters, gauges, untyped), named after their family. */
function plainSamples(families: readonly ParsedFamily[]): Sample[] {
  return families
    .filter((f) => f.type !== 'HISTOGRAM' && f.type !== 'SUMMARY')
    .flatMap((f) => f.metrics.map((m) => ({ name: f.name, labels: m.labels ?? {}, value: numberOf(m.value) })));
}

/**
 * The `_bucket`, `_sum` and `_count` samples of the histogram families `names`, every label kept.
 * parse-prometheus-text-format folds a histogram's samples into one object per family and so loses
 * every label but `le` when a histogram has several label sets (its issues #8 and #13). Without its
 * `# TYPE` line a histogram's series parse as untyped families of their own, labels and all, which is
 * what this reads: the text is parsed a second time with those lines left out.
 */
function histogramSamples(text: string, names: readonly string[]): Sample[] {
  if (names.length === 0) return [];
  const typeLines = new Set(names.map((n) => `# TYPE ${n} histogram`));
  const untyped = parsePrometheusTextFormat(
    text
      .split('\n')
      .filter((l) => !typeLines.has(l))
      .join('\n'),
  );
  const series = new Set(names.flatMap((n) => [`${n}_bucket`, `${n}_sum`, `${n}_count`]));
  return plainSamples(untyped.filter((f) => series.has(f.name)));
}

/**
 * Parses the Prometheus text exposition format with parse-prometheus-text-format (a port of
 * Prometheus' own parser, not a regex): fails on a line that is not of the format.
 */
export function parse(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const types = new Map(families.map((f) => [f.name, f.type.toLowerCase()]));
  assert.ok(!types.has('summary'), 'Layer8 exposes no summaries');
  const histograms = families.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name);
  return { samples: [...plainSamples(families), ...histogramSamples(text, histograms)], types };
}

/** Scrapes `url`: checks the status and the content type, and parses the body. */
export async function scrape(url: string): Promise<Scrape> {
  const r = await httpGet(url);
  assert.equal(r.status, 200, r.body);
  assert.ok(r.type.startsWith('text/plain; version=0.0.4'), r.type);
  return parse(r.body);
}

/** The samples of `name` whose labels include `labels`. */
export function matching(s: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
}

/** The value of the one sample of `name` with `labels`; fails when there is none or more than one. */
export function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = matching(s, name, labels);
  assert.equal(found.length, 1, `one sample of ${name} ${JSON.stringify(labels)}, got ${JSON.stringify(found)}`);
  return (found[0] as Sample).value;
}

/** How much the sample of `name` with `labels` grew from `before` to `after` (0 where `before` had none). */
export function delta(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  const was = matching(before, name, labels);
  return value(after, name, labels) - (was.length === 0 ? 0 : value(before, name, labels));
}

/** Scrapes `url` until `ok` holds for the scrape (every 10 ms, up to 5 s); returns that scrape. */
export async function scrapeUntil(url: string, ok: (s: Scrape) => boolean, what: string): Promise<Scrape> {
  const end = performance.now() + 5000;
  for (;;) {
    const s = await scrape(url);
    if (ok(s)) return s;
    if (performance.now() > end) assert.fail(`timed out waiting for ${what} in ${url}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
