import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Order, OrderSchema, Status } from '@layer8/fixtures';
import { tempDir } from '@layer8/testkit';
import { type Gw, http, type Node, published, type Rig, rig } from './kit.ts';

const ORDER = {
  id: '9007199254740993',
  number: 'A-1',
  customerId: 'c1',
  status: 'STATUS_OPEN',
  lines: [{ no: 1, sku: 'X', qty: 2, price: 9.5 }],
  tags: { color: 'red' },
  signature: 'AQID',
  createdMs: '1700000000000',
  city: 'Paris',
};

describe('REST over the overlay: canonical JSON in, the service’s answer out', () => {
  let r: Rig;
  let svc: Node;
  let gw: Gw;
  const data = tempDir('l8-gw-data-');
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(gw.url, method, path, body, headers);

  before(async () => {
    r = await rig();
    svc = await r.node('a');
    await svc.services.activate({
      name: 'Orders',
      type: OrderSchema,
      storage: { sqlite: data.path },
      web: { actions: ['post', 'put', 'patch', 'delete', 'get'], maxLimit: 50 },
    });
    await svc.services.activate({ name: 'Archive', area: 3, type: OrderSchema, web: { actions: ['get'] } });
    gw = await r.gateway('g', { bodyLimit: 64 * 1024 });
    await published(gw, 'Orders');
    await published(gw, 'Archive', 3);
  });
  after(async () => {
    await r.close();
    data.remove();
  });

  test('POST, GET, PUT, PATCH and DELETE round trip with int64 as strings and enums by name', async () => {
    const posted = await call('POST', '/l8/0/Orders', ORDER);
    assert.equal(posted.status, 201, posted.text);
    assert.equal(posted.headers.get('location'), '/l8/0/Orders/9007199254740993');
    const { item, version } = posted.json as { item: Record<string, unknown>; version: number };
    assert.equal(version, 1);
    assert.equal(item.id, '9007199254740993', 'an int64 beyond 2^53 survives as a string');
    assert.equal(item.status, 'STATUS_OPEN');
    assert.equal(item.createdMs, '1700000000000');
    assert.equal(item.signature, 'AQID');
    assert.deepEqual(item.lines, [{ no: 1, sku: 'X', qty: 2, price: 9.5 }]);
    assert.equal(item.gift, undefined, 'an unset optional field is left out');
    assert.equal(item.weight, 0, 'implicit fields are written with their defaults');

    const got = await call('GET', '/l8/0/Orders/9007199254740993');
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, posted.json);
    const stored = svc.services.instance('Orders')?.cache.get('9007199254740993') as Order | undefined;
    assert.deepEqual(
      [stored?.id, stored?.status, [...(stored?.signature ?? [])]],
      [9007199254740993n, Status.OPEN, [1, 2, 3]],
    );

    const put = await call('PUT', '/l8/0/Orders', { ...ORDER, city: 'Lyon', status: 2 });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(pick(put.json, 'city', 'status'), { city: 'Lyon', status: 'STATUS_PAID', version: 2 });
    const patched = await call('PATCH', '/l8/0/Orders', { id: ORDER.id, customer_id: 'c9' });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(pick(patched.json, 'customerId', 'city'), { customerId: 'c9', city: 'Lyon', version: 3 });

    const deleted = await call('DELETE', '/l8/0/Orders/9007199254740993');
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    const gone = await call('GET', '/l8/0/Orders/9007199254740993');
    assert.equal(gone.status, 404);
    assert.equal((gone.json as { code: string }).code, 'L8_ERR_NOT_FOUND');
    assert.equal((await call('DELETE', '/l8/0/Orders/9007199254740993')).status, 404);
  });

  test('the service’s refusals come back with their code and status', async () => {
    const body = { ...ORDER, id: '77', number: 'U-77' };
    assert.equal((await call('POST', '/l8/0/Orders', body)).status, 201);
    const again = await call('POST', '/l8/0/Orders', body);
    assert.deepEqual([again.status, code(again)], [409, 'L8_ERR_CONFLICT']);
    const patchMissing = await call('PATCH', '/l8/0/Orders', { id: '78', city: 'Nice' });
    assert.deepEqual([patchMissing.status, code(patchMissing)], [404, 'L8_ERR_NOT_FOUND']);
    const noKey = await call('POST', '/l8/0/Orders', { number: 'no-key' });
    assert.deepEqual([noKey.status, code(noKey)], [400, 'L8_ERR_INVALID_ARGUMENT']);
    const badQuery = await call('GET', `/l8/0/Orders?q=${encodeURIComponent('select * from Order where')}`);
    assert.deepEqual([badQuery.status, code(badQuery)], [400, 'L8_ERR_QUERY']);
  });

  test('GET with L8QL pages with ?limit and ?page and says the total; a query gets maxLimit at most', async () => {
    for (let i = 1; i <= 12; i++) {
      const o = { id: String(1000 + i), number: `Q-${i}`, city: i % 2 === 0 ? 'Oslo' : 'Rome' };
      assert.equal((await call('POST', '/l8/0/Orders', o)).status, 201);
    }
    const q = encodeURIComponent("select * from Order where city = 'Oslo' sort-by id");
    const first = await call('GET', `/l8/0/Orders?q=${q}&limit=4`);
    assert.equal(first.status, 200, first.text);
    const page = first.json as { items: { id: string }[]; versions: number[]; total: number; limit: number };
    assert.deepEqual(
      page.items.map((o) => o.id),
      ['1002', '1004', '1006', '1008'],
    );
    assert.deepEqual([page.total, page.limit, page.versions], [6, 4, [1, 1, 1, 1]]);
    const second = await call('GET', `/l8/0/Orders?q=${q}&limit=4&page=1`);
    assert.deepEqual(
      (second.json as typeof page).items.map((o) => o.id),
      ['1010', '1012'],
    );
    const inQuery = await call(
      'GET',
      `/l8/0/Orders?q=${encodeURIComponent('select * from Order sort-by id limit 2 page 1')}`,
    );
    assert.equal((inQuery.json as typeof page).items.length, 2);
    const all = await call('GET', '/l8/0/Orders');
    assert.deepEqual(pick(all.json, 'total', 'limit'), { total: 13, limit: 50 });
    const over = await call('GET', '/l8/0/Orders?limit=51');
    assert.deepEqual([over.status, code(over)], [400, 'L8_ERR_LIMIT']);
    const overInQuery = await call('GET', `/l8/0/Orders?q=${encodeURIComponent('select * from Order limit 500')}`);
    assert.deepEqual([overInQuery.status, code(overInQuery)], [400, 'L8_ERR_LIMIT']);
    for (const bad of ['limit=0', 'limit=x', 'page=-1', 'q=a&q=b']) {
      const a = await call('GET', `/l8/0/Orders?${bad}`);
      assert.deepEqual([a.status, code(a)], [400, 'L8_ERR_INVALID_ARGUMENT'], bad);
    }
  });

  test('a body that does not fit the model is a 400 naming the field, before anything is sent', async () => {
    const cases: [unknown, RegExp][] = [
      [{ id: 'x' }, /Order\.id/],
      [{ id: '5', status: 'STATUS_NOPE' }, /Status/],
      [{ id: '5', nope: 1 }, /"nope" is unknown/],
      [{ id: '5', lines: [{ qty: 'many' }] }, /OrderLine\.qty/],
      ['{"id": 9007199254740993}', /id is a 64-bit integer beyond 2\^53/],
      ['{"id": "5", "flags": {"true": 12345678901234567890}}', /flags\.true is a 64-bit integer/],
      ['{"id": "5", "lines_by_no": {"1": {"no": 12345678901234567890}}}', /OrderLine\.no/],
      [[{ id: '5' }], /must be a JSON object/],
      ['"just a string"', /must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const a = await call('POST', '/l8/0/Orders', body);
      assert.deepEqual([a.status, code(a)], [400, 'L8_ERR_INVALID_ARGUMENT'], JSON.stringify(body));
      assert.match((a.json as { message: string }).message, message);
    }
    const notJson = await call('POST', '/l8/0/Orders', '{"id": ');
    assert.deepEqual([notJson.status, code(notJson)], [400, 'L8_ERR_INVALID_ARGUMENT']);
    const text = await call('POST', '/l8/0/Orders', 'id=5', { 'content-type': 'text/plain' });
    assert.deepEqual([text.status, code(text)], [415, 'L8_ERR_INVALID_ARGUMENT']);
    const big = await call('POST', '/l8/0/Orders', { id: '5', city: 'x'.repeat(70 * 1024) });
    assert.deepEqual([big.status, code(big)], [413, 'L8_ERR_LIMIT']);
    const poisoned = await call('POST', '/l8/0/Orders', '{"id":"5","__proto__":{"admin":true}}');
    assert.deepEqual([poisoned.status, code(poisoned)], [400, 'L8_ERR_INVALID_ARGUMENT']);
  });

  test('unknown services are 404 L8_ERR_NO_SERVICE; actions not exposed are 405 with Allow', async () => {
    const unknown = await call('GET', '/l8/0/Nope');
    assert.deepEqual([unknown.status, code(unknown)], [404, 'L8_ERR_NO_SERVICE']);
    const wrongArea = await call('GET', '/l8/3/Orders');
    assert.deepEqual([wrongArea.status, code(wrongArea)], [404, 'L8_ERR_NO_SERVICE']);
    const badArea = await call('GET', '/l8/70000/Orders');
    assert.deepEqual([badArea.status, code(badArea)], [400, 'L8_ERR_INVALID_ARGUMENT']);
    const readOnly = await call('POST', '/l8/3/Archive', { id: '1' });
    assert.deepEqual([readOnly.status, code(readOnly)], [405, 'L8_ERR_UNSUPPORTED']);
    assert.equal(readOnly.headers.get('allow'), 'GET, HEAD');
    const deleteAll = await call('DELETE', '/l8/0/Orders');
    assert.deepEqual([deleteAll.status, deleteAll.headers.get('allow')], [405, 'GET, HEAD, POST, PUT, PATCH']);
    const postItem = await call('POST', '/l8/0/Orders/5', { id: '5' });
    assert.deepEqual([postItem.status, postItem.headers.get('allow')], [405, 'GET, HEAD, DELETE']);
    const elsewhere = await call('GET', '/nothing/here');
    assert.deepEqual([elsewhere.status, code(elsewhere)], [404, 'L8_ERR_NOT_FOUND']);
    assert.equal((await call('GET', '/l8/3/Archive')).status, 200);
    const head = await call('HEAD', '/l8/3/Archive');
    assert.deepEqual([head.status, head.text], [200, '']);
  });

  test('two services of one model share its schemas in /openapi.json', async () => {
    const doc = (await call('GET', '/openapi.json')).json as { components: { schemas: object } };
    assert.deepEqual(Object.keys(doc.components.schemas).sort(), [
      'L8Error',
      'layer8.demo.v1.Address',
      'layer8.demo.v1.Order',
      'layer8.demo.v1.OrderLine',
    ]);
    const [orders, archive] = [gw.gateway.directory.route(0, 'Orders'), gw.gateway.directory.route(3, 'Archive')];
    assert.equal(orders?.model, archive?.model);
  });

  test('GET /l8 lists what is published with the nodes that offer it', async () => {
    const a = await call('GET', '/l8');
    const services = (a.json as { services: { name: string; area: number; nodes: string[] }[] }).services;
    assert.deepEqual(
      services.map((s) => [s.area, s.name, s.nodes]),
      [
        [0, 'Orders', [svc.vnic.id]],
        [3, 'Archive', [svc.vnic.id]],
      ],
    );
  });
});

function code(a: { json: unknown }): string | undefined {
  return (a.json as { code?: string } | undefined)?.code;
}

function pick(json: unknown, ...fields: string[]): Record<string, unknown> {
  const { item, version, ...rest } = json as { item?: Record<string, unknown>; version?: number };
  const from = item ?? rest;
  const out: Record<string, unknown> = Object.fromEntries(fields.map((f) => [f, (from as Record<string, unknown>)[f]]));
  if (version !== undefined) out.version = version;
  return out;
}
