import assert from 'node:assert/strict';
import { get } from 'node:http';

/** One sample line of the Prometheus text format. */
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

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;

/** Parses the Prometheus text exposition format (what prom-client writes). */
export function parse(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name = '', type = ''] = line.split(' ');
      types.set(name, type);
    } else if (line !== '' && !line.startsWith('#')) {
      const m = LINE.exec(line);
      assert.ok(m, `a sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(LABEL)].map((l) => [l[1], l[2]]));
      samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
    }
  }
  return { samples, types };
}

/** Scrapes `url`: checks the status and the content type, and parses the body. */
export async function scrape(url: string): Promise<Scrape> {
  const r = await httpGet(url);
  assert.equal(r.status, 200, r.body);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
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
