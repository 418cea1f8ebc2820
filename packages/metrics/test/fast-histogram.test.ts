import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../src/fast-histogram.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const labelNames = ['side', 'code'] as const;

/** The same observations through prom-client's Histogram and through FastHistogram: the scrapes are equal. */
async function scrapes(observations: readonly [string, string, number][]): Promise<[string, string]> {
  const slow = new Registry();
  const fast = new Registry();
  const h = new Histogram({ name: 'x_seconds', help: 'h', labelNames, buckets: BUCKETS, registers: [slow] });
  const f = new FastHistogram(fast, { name: 'x_seconds', help: 'h', labelNames, buckets: BUCKETS });
  const series = new Map<string, ReturnType<FastHistogram['add']>>();
  for (const [side, code, v] of observations) {
    h.observe({ side, code }, v);
    const key = `${side}/${code}`;
    const s = series.get(key) ?? f.add([side, code]);
    series.set(key, s);
    s.observe(v);
  }
  return [await slow.metrics(), await fast.metrics()];
}

/** A scrape's lines in a stable order (series order may differ between the two). */
const sorted = (text: string): string[] => text.split('\n').filter(Boolean).sort();

test('FastHistogram scrapes exactly what prom-client would for the same observations', async () => {
  const obs = fc.tuple(
    fc.constantFrom('caller', 'responder'),
    fc.constantFrom('OK', 'L8_ERR_TIMEOUT'),
    fc.oneof(fc.constantFrom(...BUCKETS, 0, 100), fc.double({ min: 0, max: 20, noNaN: true })),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(obs, { maxLength: 60 }), async (observations) => {
      const [slow, fast] = await scrapes(observations);
      assert.deepEqual(sorted(fast), sorted(slow));
    }),
    { numRuns: 200 },
  );
});

test('a value on a bound counts in that bound; reset forgets every series', async () => {
  const r = new Registry();
  const f = new FastHistogram(r, { name: 'y_seconds', help: 'h', labelNames: ['a'], buckets: [1, 2] });
  const s = f.add(['v']);
  for (const v of [1, 2, 3]) s.observe(v);
  const text = await r.metrics();
  assert.match(text, /y_seconds_bucket\{le="1",a="v"\} 1/);
  assert.match(text, /y_seconds_bucket\{le="2",a="v"\} 2/);
  assert.match(text, /y_seconds_bucket\{le="\+Inf",a="v"\} 3/);
  assert.match(text, /y_seconds_count\{a="v"\} 3/);
  f.reset();
  assert.doesNotMatch(await r.metrics(), /y_seconds_count/);
});
