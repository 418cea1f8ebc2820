import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram } from 'prom-client';
import { newRegistry } from '../src/index.ts';
import { matching, parse, value } from './scrape-kit.ts';

test('the scrape kit reads what prom-client writes: labelled histograms, escapes and types, exactly', async () => {
  const registry = newRegistry({ labels: { instance: 'kit' } });
  const h = new Histogram({
    name: 'kit_seconds',
    help: 'h',
    labelNames: ['side'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  for (const v of [0.05, 0.5, 5]) h.observe({ side: 'caller' }, v);
  h.observe({ side: 'responder' }, 0.5);
  const c = new Counter({ name: 'kit_total', help: 'c', labelNames: ['path'], registers: [registry] });
  c.inc({ path: 'C:\\dir "x"\nnext' }, 7);
  new Gauge({ name: 'kit_gauge', help: 'g', registers: [registry] }).set(-2.5);
  const s = parse(await registry.metrics());
  assert.deepEqual(
    [...s.types].filter(([n]) => n.startsWith('kit_')),
    [
      ['kit_seconds', 'histogram'],
      ['kit_total', 'counter'],
      ['kit_gauge', 'gauge'],
    ],
  );
  const caller = { side: 'caller', instance: 'kit' };
  assert.equal(value(s, 'kit_seconds_count', caller), 3);
  assert.equal(value(s, 'kit_seconds_sum', caller), 5.55);
  assert.equal(value(s, 'kit_seconds_count', { side: 'responder' }), 1);
  assert.deepEqual(
    matching(s, 'kit_seconds_bucket', caller).map((b) => [b.labels.le, b.value]),
    [
      ['0.1', 1],
      ['1', 2],
      ['+Inf', 3],
    ],
  );
  assert.equal(value(s, 'kit_seconds_bucket', { side: 'responder', le: '0.1' }), 0);
  assert.equal(value(s, 'kit_total', { path: 'C:\\dir "x"\nnext' }), 7, 'escaped label values come back as written');
  assert.equal(value(s, 'kit_gauge'), -2.5);
});

test('the scrape kit refuses text that is not the format', () => {
  assert.throws(() => parse('# TYPE x counter\nx{a="1" b="2"} 1\n'), /invalid line/i);
  assert.throws(() => parse('# TYPE x counter extra\nx 1\n'), /invalid line/i);
  assert.throws(() => parse('x{a=1} 1\n'), /invalid line/i);
  assert.throws(() => parse('# TYPE x counter\nx one\n'), /a sample value: one/);
});
