import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { Counter } from 'prom-client';
import { METRICS_PATH, newRegistry, parseListenAddress, scrapedGauge, serveMetrics } from '../src/index.ts';
import { httpGet, scrape, value } from './scrape-kit.ts';

describe('serveMetrics', () => {
  test('serves the registry at /metrics only, for GET and HEAD', async () => {
    const registry = newRegistry({ labels: { instance: 'test-1' } });
    const c = new Counter({ name: 'layer8_test_total', help: 'a test counter', registers: [registry] });
    c.inc(3);
    const server = await serveMetrics(registry, { port: 0 });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.equal(value(await scrape(server.url), 'layer8_test_total', { instance: 'test-1' }), 3);
    const base = server.url.slice(0, -METRICS_PATH.length);
    assert.equal((await httpGet(`${base}/`)).status, 404);
    assert.equal((await httpGet(`${server.url}?x=1`)).status, 200, 'a query string is ignored');
    assert.equal((await httpGet(server.url, 'POST')).status, 405);
    const head = await httpGet(server.url, 'HEAD');
    assert.deepEqual([head.status, head.body], [200, '']);
    await server.close();
    await server.close();
    await assert.rejects(httpGet(server.url), /ECONNREFUSED/);
  });

  test('answers 500 when a collector throws, and goes on serving', async () => {
    const registry = newRegistry();
    let broken = true;
    scrapedGauge(registry, {
      name: 'layer8_test_flaky',
      help: 'fails on its first scrape',
      read: () => {
        if (broken) throw new Error('collector broke');
        return [[{}, 1]];
      },
    });
    const server = await serveMetrics(registry, { port: 0 });
    const r = await httpGet(server.url);
    assert.equal(r.status, 500);
    assert.match(r.body, /collector broke/);
    broken = false;
    assert.equal(value(await scrape(server.url), 'layer8_test_flaky'), 1);
    await server.close();
  });

  test('refuses a non-loopback host unless allowed (no authentication, no TLS)', async () => {
    await assert.rejects(serveMetrics(newRegistry(), { host: '0.0.0.0', port: 0 }), (e: L8Error) => {
      assert.equal(e.code, 'L8_ERR_INSECURE');
      assert.match(e.message, /--metrics-remote/);
      return true;
    });
    const server = await serveMetrics(newRegistry(), { host: '0.0.0.0', port: 0, allowRemote: true });
    assert.ok(server.port > 0);
    await server.close();
    const v6 = await serveMetrics(newRegistry(), { host: '::1', port: 0 });
    assert.match(v6.url, /^http:\/\/\[::1\]:\d+\/metrics$/);
    assert.equal((await httpGet(v6.url)).status, 200);
    await v6.close();
  });

  test('a port in use fails with L8_ERR_CONNECT', async () => {
    const first = await serveMetrics(newRegistry(), { port: 0 });
    await assert.rejects(serveMetrics(newRegistry(), { port: first.port }), { code: 'L8_ERR_CONNECT' });
    await first.close();
  });

  test('parseListenAddress reads HOST:PORT, IPv6 in brackets, port 0 allowed', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
    assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
    for (const bad of ['127.0.0.1', ':9464', '127.0.0.1:70000', '::1:9464', 'host:port', '']) {
      assert.throws(() => parseListenAddress(bad), { code: 'L8_ERR_INVALID_ARGUMENT' }, bad);
    }
  });
});
