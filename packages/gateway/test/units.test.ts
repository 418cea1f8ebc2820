import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { OrderSchema } from '@layer8/fixtures';
import { ERROR_CODES, type ErrorCode, l8error } from '@layer8/protocol';
import { DevProvider } from '@layer8/security';
import { webDescriptor } from '@layer8/services';
import { VNic } from '@layer8/vnic';
import fc from 'fast-check';
import { errorAnswer, HttpError } from '../src/http-errors.ts';
import { checkDescriptor, fingerprint, Gateway, HTTP_STATUS, pagedQuery, statusOf, winner } from '../src/index.ts';
import { deadlineOf, identityOf, RandomIds, traceOf } from '../src/request-context.ts';

describe('the status table', () => {
  test('every code has a status: the table, else 503 when retryable and 500 when not', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const expected = HTTP_STATUS[code] ?? (ERROR_CODES[code].retryable ? 503 : 500);
      assert.equal(statusOf(code), expected, code);
    }
    const named: [ErrorCode, number][] = [
      ['L8_ERR_NOT_FOUND', 404],
      ['L8_ERR_CONFLICT', 409],
      ['L8_ERR_FORBIDDEN', 403],
      ['L8_ERR_AUTH', 401],
      ['L8_ERR_TOKEN_EXPIRED', 401],
      ['L8_ERR_INVALID_ARGUMENT', 400],
      ['L8_ERR_QUERY', 400],
      ['L8_ERR_DECODE', 400],
      ['L8_ERR_LIMIT', 400],
      ['L8_ERR_TIMEOUT', 504],
      ['L8_ERR_NO_SERVICE', 503],
      ['L8_ERR_UNAVAILABLE', 503],
      ['L8_ERR_BACKPRESSURE', 503],
      ['L8_ERR_STORAGE', 503],
      ['L8_ERR_HANDLER', 500],
    ];
    for (const [code, status] of named) assert.equal(statusOf(code), status, code);
  });

  test('answers: Retry-After on 503, WWW-Authenticate on 401, no message of an unknown failure', () => {
    const busy = errorAnswer(l8error('L8_ERR_UNAVAILABLE', 'recovering'));
    assert.deepEqual(busy, {
      status: 503,
      headers: { 'retry-after': '1' },
      body: { code: 'L8_ERR_UNAVAILABLE', message: 'recovering' },
    });
    assert.equal(errorAnswer(l8error('L8_ERR_AUTH', 'x')).headers['www-authenticate'], 'Bearer');
    const bug = errorAnswer(new TypeError('secret internals'));
    assert.equal(bug.status, 500);
    assert.equal(bug.body.code, 'L8_ERR_INTERNAL');
    assert.doesNotMatch(bug.body.message, /secret/);
    const tooBig = errorAnswer(
      Object.assign(new Error('too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }),
    );
    assert.deepEqual([tooBig.status, tooBig.body.code], [413, 'L8_ERR_LIMIT']);
    const own = errorAnswer(new HttpError(405, l8error('L8_ERR_UNSUPPORTED', 'no'), { allow: 'GET' }));
    assert.deepEqual([own.status, own.headers.allow], [405, 'GET']);
  });
});

describe('request headers', () => {
  const limits = { defaultMs: 10_000, maxMs: 30_000 };
  test('x-l8-timeout-ms: default, capped, or refused', () => {
    assert.equal(deadlineOf({}, limits), 10_000);
    assert.equal(deadlineOf({ 'x-l8-timeout-ms': '250' }, limits), 250);
    assert.equal(deadlineOf({ 'x-l8-timeout-ms': '9999999999' }, limits), 30_000);
    assert.equal(deadlineOf({}, { defaultMs: 10_000, maxMs: 500 }), 500);
    for (const bad of ['0', '', ' ', '1e3', '12345678901', '0x10']) {
      assert.throws(() => deadlineOf({ 'x-l8-timeout-ms': bad }, limits), HttpError, bad);
    }
  });

  test('traceparent: a valid one is kept, anything else starts a new trace', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    assert.deepEqual(traceOf({ traceparent: `00-${id}-00f067aa0ba902b7-01` }), { traceId: id, flags: '01' });
    for (const bad of [
      `ff-${id}-00f067aa0ba902b7-01`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${id}-${'0'.repeat(16)}-01`,
      'x',
    ]) {
      const t = traceOf({ traceparent: bad });
      assert.notEqual(t.traceId, id, bad);
      assert.match(t.traceId, /^[0-9a-f]{32}$/);
    }
    fc.assert(
      fc.property(fc.string(), fc.string(), (tp, corr) => {
        assert.match(traceOf({ traceparent: tp, 'x-correlation-id': corr }).traceId, /^[0-9a-f]{32}$/);
      }),
    );
  });

  test('Authorization: Bearer only', () => {
    assert.equal(identityOf({}), '');
    assert.equal(identityOf({ authorization: 'Bearer a.b.c' }), 'a.b.c');
    for (const bad of ['Bearer', 'Bearer a b', 'Basic abc', 'bearer ', `Bearer ${'x'.repeat(9000)}`]) {
      assert.throws(() => identityOf({ authorization: bad }), HttpError, bad);
    }
  });
});

describe('queries', () => {
  test('limit and page go over the query’s own; no limit means maxLimit; above it is refused', () => {
    assert.deepEqual(pagedQuery({}, 'a.B', 100), { q: 'select * from a.B limit 100', limit: 100, page: 0 });
    const q = "select * from Order where city = 'x' limit 5 page 1";
    assert.deepEqual(pagedQuery({ q }, 'Order', 100), { q, limit: 5, page: 1 });
    assert.equal(
      pagedQuery({ q, limit: '7', page: '0' }, 'Order', 100).q,
      "select * from Order where city = 'x' limit 7",
    );
    assert.throws(
      () => pagedQuery({ limit: '101' }, 'Order', 100),
      (e: HttpError) => e.error.code === 'L8_ERR_LIMIT',
    );
    assert.throws(
      () => pagedQuery({ q: 'select' }, 'Order', 100),
      (e: HttpError) => e.error.code === 'L8_ERR_QUERY',
    );
    assert.throws(() => pagedQuery({ q: 'x'.repeat(9000) }, 'Order', 100), HttpError);
  });
});

describe('descriptors from peers', () => {
  const good = webDescriptor({ name: 'Orders', type: OrderSchema, web: { actions: ['get', 'get', 'post'] } }, true);
  test('a well-formed one is copied (actions once each); anything off is refused', () => {
    assert.deepEqual(checkDescriptor(good)?.actions, ['get', 'post']);
    const bad = [
      { ...good, name: '' },
      { ...good, name: 'x'.repeat(256) },
      { ...good, area: 1.5 },
      { ...good, type: 7 },
      { ...good, maxLimit: 0 },
      { ...good, stateful: 'yes' },
      { ...good, primaryKey: 'id' },
      { ...good, primaryKey: [1] },
      { ...good, files: 5 },
      'Orders',
    ];
    for (const b of bad) assert.equal(checkDescriptor(b), undefined, JSON.stringify(b).slice(0, 80));
  });

  test('the winner does not depend on the order offers arrive in', () => {
    const d = good as NonNullable<typeof good>;
    const other = { ...d, actions: ['get' as const] };
    const offers = [
      { node: 'c' as never, descriptor: other, fingerprint: fingerprint(other) },
      { node: 'b' as never, descriptor: d, fingerprint: fingerprint(d) },
      { node: 'a' as never, descriptor: other, fingerprint: fingerprint(other) },
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(offers, { minLength: 3 }), (shuffled) => {
        assert.equal(winner(shuffled).node, 'a', 'the descriptor two nodes offer, from its smallest node');
      }),
    );
    assert.equal(winner(offers.slice(1)).node, 'a', 'a tie: the smallest node id');
  });
});

describe('a gateway’s own life', () => {
  let vnic: VNic;
  before(() => {
    vnic = new VNic({
      provider: new DevProvider({ passphrase: 'gateway-unit-test', warn: () => undefined }),
      vnet: '127.0.0.1:1',
    });
  });
  after(() => vnic.close());

  test('a request the HTTP parser refuses gets the JSON error body, then the connection closes', async () => {
    const gateway = new Gateway({ vnic, port: 0 });
    const { port, url } = await gateway.start();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('NOT HTTP AT ALL\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.deepEqual(JSON.parse(text.split('\r\n\r\n')[1] as string), {
      code: 'L8_ERR_INVALID_ARGUMENT',
      message: 'the request is not valid HTTP',
    });
    const list = await fetch(`${url}/l8`);
    assert.deepEqual(await list.json(), { services: [] });
    await gateway.close();
  });

  test('a port in use fails start with L8_ERR_CONNECT naming the cause', async () => {
    const first = new Gateway({ vnic, port: 0 });
    const { port } = await first.start();
    const second = new Gateway({ vnic, port });
    await assert.rejects(
      second.start(),
      (e: Error) => (e as { code?: string }).code === 'L8_ERR_CONNECT' && /EADDRINUSE/.test(e.message),
    );
    await second.close();
    await first.close();
  });
});

test('random ids come from a refilled pool: hex of the asked length, never repeated', () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = ids.hex(i % 2 === 0 ? 16 : 8);
    assert.match(id, i % 2 === 0 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{16}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 2000, 'past several refills of the 4 KiB pool');
  assert.match(traceOf({}, ids.hex).traceId, /^[0-9a-f]{32}$/);
});
