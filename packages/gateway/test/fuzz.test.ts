import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { OrderSchema } from '@layer8/fixtures';
import { isErrorCode } from '@layer8/protocol';
import fc from 'fast-check';
import { type Gw, published, type Rig, rig } from './kit.ts';

/** One raw HTTP exchange: the request exactly as generated, the answer as received. */
function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; type: string; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const all = { ...headers, ...length };
    const req = request({ host: hostname, port, method, path, headers: all }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const segment = fc.oneof(
  fc.constantFrom(
    'l8',
    '0',
    '1',
    '65535',
    '65536',
    '-1',
    'Orders',
    'Hidden',
    'openapi.json',
    'docs',
    'assets',
    '%2F',
    '%00',
    '..',
    '',
  ),
  fc.stringMatching(/^[A-Za-z0-9%._~-]{0,12}$/),
);
const path = fc
  .oneof(
    fc
      .tuple(fc.constantFrom('0', '7', 'x'), fc.constantFrom('Orders', 'Hidden', 'orders'), fc.option(segment))
      .map(([area, svc, key]) => `/l8/${area}/${svc}${key === null ? '' : `/${key}`}`),
    fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
  )
  .chain((p) =>
    fc.option(fc.stringMatching(/^[A-Za-z0-9=&%+._*'-]{0,40}$/)).map((q) => (q === null ? p : `${p}?${q}`)),
  );
const printable = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'x/y',
    ),
    'x-l8-timeout-ms': fc.oneof(fc.constantFrom('1', '50', '0', '-1', '99999999999', 'x'), printable),
    traceparent: fc.oneof(printable, fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')),
    'x-correlation-id': printable,
    authorization: fc.oneof(printable, fc.constant('Bearer abc.def.ghi')),
  },
  { requiredKeys: [] },
);
const orderish = fc.record(
  {
    id: fc.oneof(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String), fc.double(), fc.string()),
    number: fc.string({ maxLength: 10 }),
    status: fc.oneof(fc.constantFrom('STATUS_OPEN', 'STATUS_X', 2, 99), fc.string()),
    lines: fc.oneof(fc.array(fc.dictionary(fc.constantFrom('no', 'qty', 'sku', 'x'), fc.jsonValue())), fc.jsonValue()),
    tags: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.jsonValue()),
    signature: fc.oneof(fc.base64String(), fc.string()),
  },
  { requiredKeys: [] },
);
const body = fc.option(
  fc.oneof(
    orderish.map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 80 }),
    fc.constant('{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}}}'),
    fc.constant(`${'['.repeat(5000)}${']'.repeat(5000)}`),
  ),
);

describe('fuzz: whatever a client sends, the gateway answers JSON and never fails inside', () => {
  let r: Rig;
  let gw: Gw;

  before(async () => {
    r = await rig();
    const svc = await r.node('a');
    const actions = ['post', 'put', 'patch', 'delete', 'get'] as const;
    await svc.services.activate({ name: 'Orders', type: OrderSchema, web: { actions, maxLimit: 5 } });
    gw = await r.gateway('g', { bodyLimit: 16 * 1024 });
    await published(gw, 'Orders');
  });
  after(() => r.close());

  test('random methods, paths, headers and bodies', async () => {
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
    await fc.assert(
      fc.asyncProperty(method, path, headers, body, async (m, p, h, b) => {
        const sent = m === 'GET' || m === 'HEAD' ? undefined : (b ?? undefined);
        const a = await raw(gw.url, m, p, h, sent);
        const where = `${m} ${p} ${JSON.stringify(h)} ${sent?.slice(0, 200)}`;
        assert.ok(a.status !== 500 && a.status !== 502, `${a.status} ${a.text} for ${where}`);
        if (m === 'HEAD' || a.status === 204) return;
        assert.match(a.type, /^(application\/json|text\/html|text\/css|text\/javascript|image\/png)/, where);
        if (!a.type.startsWith('application/json')) return;
        const json = JSON.parse(a.text) as { code?: unknown; message?: unknown };
        if (a.status >= 400) {
          assert.ok(isErrorCode(json.code) && typeof json.message === 'string', `${a.text} for ${where}`);
        }
      }),
      { numRuns: 400 },
    );
    assert.equal(gw.gateway.counters.byStatus[500], undefined);
  });
});
