import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OrderSchema } from '@layer8/fixtures';
import { Action, type L8Error } from '@layer8/protocol';
import { Validator } from '@seriousme/openapi-schema-validator';
import {
  ACL,
  bearer,
  codeOf,
  cookieHeader,
  login,
  order,
  type Session,
  setCookies,
  totpCode,
  USERS,
} from './auth-kit.ts';
import { type Gw, http, PASSWORD, published, type Rig, rig } from './kit.ts';

const ALL = 'select * from Order sort-by id';

describe('AAA over HTTP: login, tokens, refresh, logout, TOTP, cookies, rate limits', () => {
  let r: Rig;
  let gw: Gw;
  /** The clock of the gateway's limiter, refresh and TOTP stores (epoch ms); tests move it. */
  let clock = Date.now();
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(gw.url, method, path, body, headers);
  const session = async (user: string, more: Record<string, unknown> = {}) => {
    const a = await login(gw.url, { user, password: PASSWORD, ...more });
    assert.equal(a.status, 200, a.text);
    return a.json as Session;
  };
  /** A GET of Orders sent straight over the overlay to the service, bypassing the gateway. */
  const direct = (identity: string) =>
    gw.vnic.request({ service: 'Orders', area: 0 }, { q: ALL }, { action: Action.GET, identity, timeoutMs: 5000 }).then(
      () => 'allowed',
      (e: L8Error) => e.code,
    );

  before(async () => {
    r = await rig({ acl: ACL, users: USERS });
    const svc = await r.node('a', true);
    await svc.services.activate({
      name: 'Orders',
      type: OrderSchema,
      web: { actions: ['post', 'put', 'patch', 'delete', 'get'] },
    });
    const limits = { perUser: 3, perAddress: 1000, windowMs: 60_000, lockoutMs: 10_000 };
    gw = await r.gateway('g', { auth: { authority: r.ca.provider('g'), limits, now: () => clock } });
    await published(gw, 'Orders');
  });
  after(() => r.close());

  test('a login gives a short-lived Bearer token; the service allows, refuses and scopes per role', async () => {
    const alice = await session('alice');
    assert.deepEqual([alice.tokenType, alice.roles, alice.expiresIn], ['Bearer', ['writer'], 900]);
    assert.match(alice.refreshToken ?? '', /^[A-Za-z0-9_-]{43}$/);
    const carol = await session('carol');
    const posted = await call('POST', '/l8/0/Orders', order(1, 'alice'), bearer(alice.accessToken));
    assert.equal(posted.status, 201, posted.text);
    const refused = await call('POST', '/l8/0/Orders', order(2, 'carol'), bearer(carol.accessToken));
    assert.deepEqual([refused.status, codeOf(refused)], [403, 'L8_ERR_FORBIDDEN']);
    const mine = await call('GET', '/l8/0/Orders', undefined, bearer(alice.accessToken));
    assert.deepEqual((mine.json as { total: number }).total, 1);
    const theirs = await call('GET', '/l8/0/Orders', undefined, bearer(carol.accessToken));
    assert.deepEqual([theirs.status, (theirs.json as { total: number }).total], [200, 0], 'scoped to carol');
    const anonymous = await call('GET', '/l8/0/Orders');
    assert.deepEqual([anonymous.status, codeOf(anonymous)], [401, 'L8_ERR_AUTH'], 'no token: log in first');
    const garbage = await call('GET', '/l8/0/Orders', undefined, bearer('not-a-token'));
    assert.deepEqual([garbage.status, codeOf(garbage)], [401, 'L8_ERR_AUTH']);
    assert.equal(await direct(carol.accessToken as string), 'allowed', 'the service allows carol to GET');
  });

  // the same work too: verifyUser checks an unknown user's password against a dummy scrypt hash (users.ts)
  test('a wrong password and an unknown user get the same answer', async () => {
    const wrong = await login(gw.url, { user: 'grace', password: 'wrong-password' });
    const unknown = await login(gw.url, { user: 'nobody-here', password: 'wrong-password' });
    assert.deepEqual(
      [wrong.status, wrong.json],
      [401, { code: 'L8_ERR_AUTH', message: 'unknown user or wrong password' }],
    );
    assert.deepEqual([unknown.status, unknown.json], [wrong.status, wrong.json]);
    const bad = await login(gw.url, { user: 'grace', password: 7 });
    assert.deepEqual([bad.status, codeOf(bad)], [400, 'L8_ERR_INVALID_ARGUMENT']);
  });

  test('refresh rotates; the old refresh token is refused, and reusing it ends the whole session', async () => {
    const first = await session('bob');
    const refreshed = await call('POST', '/auth/refresh', { refreshToken: first.refreshToken });
    assert.equal(refreshed.status, 200, refreshed.text);
    const second = refreshed.json as Session;
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal((await call('GET', '/l8/0/Orders', undefined, bearer(second.accessToken))).status, 200);
    const reuse = await call('POST', '/auth/refresh', { refreshToken: first.refreshToken });
    assert.deepEqual([reuse.status, codeOf(reuse)], [401, 'L8_ERR_AUTH']);
    assert.match((reuse.json as { message: string }).message, /already used/);
    const next = await call('POST', '/auth/refresh', { refreshToken: second.refreshToken });
    assert.deepEqual([next.status, codeOf(next)], [401, 'L8_ERR_AUTH'], 'the family is revoked');
    for (const token of [first.accessToken, second.accessToken] as string[]) {
      const a = await call('GET', '/l8/0/Orders', undefined, bearer(token));
      assert.deepEqual([a.status, codeOf(a)], [401, 'L8_ERR_AUTH'], 'its access tokens too, at the gateway');
      assert.equal(await direct(token), 'L8_ERR_AUTH', 'and at the service');
    }
  });

  test('logout revokes the access token at the gateway and at the service, and the refresh token', async () => {
    const s = await session('alice');
    const token = s.accessToken as string;
    assert.equal(await direct(token), 'allowed');
    const out = await call('POST', '/auth/logout', undefined, bearer(token));
    assert.equal(out.status, 204, out.text);
    const after = await call('GET', '/l8/0/Orders', undefined, bearer(token));
    assert.deepEqual(
      [after.status, codeOf(after), (after.json as { message: string }).message],
      [401, 'L8_ERR_AUTH', 'user token revoked'],
    );
    assert.equal(await direct(token), 'L8_ERR_AUTH', 'a request that bypasses the gateway is refused the same way');
    const refresh = await call('POST', '/auth/refresh', { refreshToken: s.refreshToken });
    assert.equal(refresh.status, 401);
    const again = await call('POST', '/auth/logout', undefined, bearer(token));
    assert.deepEqual([again.status, codeOf(again)], [401, 'L8_ERR_AUTH'], 'nothing left to log out');
    assert.equal(statSync(join(r.ca.dir, 'refresh-tokens.json')).mode & 0o777, 0o600);
  });

  test('TOTP: set-up once, verify turns it on, then login needs a fresh code; a code never works twice', async () => {
    const s = await session('dave');
    const setup = await call('POST', '/auth/totp/setup', undefined, bearer(s.accessToken));
    assert.equal(setup.status, 200, setup.text);
    const { secret, uri } = setup.json as { secret: string; uri: string };
    assert.match(uri, /^otpauth:\/\/totp\/Layer8:dave\?.*secret=/);
    const wrong = await call('POST', '/auth/totp/verify', { code: '000000' }, bearer(s.accessToken));
    assert.equal(wrong.status, 401);
    const ok = await call('POST', '/auth/totp/verify', { code: totpCode(secret, clock) }, bearer(s.accessToken));
    assert.equal(ok.status, 204, ok.text);
    assert.equal(statSync(join(r.ca.dir, 'totp.json')).mode & 0o777, 0o600);
    const twice = await call('POST', '/auth/totp/setup', undefined, bearer(s.accessToken));
    assert.deepEqual([twice.status, codeOf(twice)], [409, 'L8_ERR_CONFLICT'], 'the secret is shown once');
    const none = await login(gw.url, { user: 'dave', password: PASSWORD });
    assert.deepEqual([none.status, codeOf(none)], [401, 'L8_ERR_TOTP_REQUIRED']);
    const replay = await login(gw.url, { user: 'dave', password: PASSWORD, totp: totpCode(secret, clock) });
    assert.deepEqual([replay.status, codeOf(replay)], [401, 'L8_ERR_AUTH'], 'the code verify used');
    clock += 30_000;
    const fresh = totpCode(secret, clock);
    assert.equal((await login(gw.url, { user: 'dave', password: PASSWORD, totp: fresh })).status, 200);
    const reused = await login(gw.url, { user: 'dave', password: PASSWORD, totp: fresh });
    assert.deepEqual([reused.status, codeOf(reused)], [401, 'L8_ERR_AUTH'], 'a replayed code');
    clock += 30_000;
    const late = await login(gw.url, { user: 'dave', password: 'wrong-password', totp: totpCode(secret, clock) });
    assert.equal(codeOf(late), 'L8_ERR_AUTH', 'the code does not stand in for the password');
  });

  test('cookie mode: HttpOnly, Secure, SameSite=Strict cookies; writes need the CSRF header', async () => {
    const logged = await login(gw.url, { user: 'erin', password: PASSWORD, cookie: true });
    assert.equal(logged.status, 200, logged.text);
    const body = logged.json as Session;
    assert.equal(body.accessToken, undefined, 'no token in the body');
    const cookies = setCookies(logged);
    for (const name of ['__Host-l8-access', '__Secure-l8-refresh']) {
      const attributes = cookies.get(name)?.attributes ?? [];
      for (const a of ['httponly', 'secure', 'samesite=strict']) assert.ok(attributes.includes(a), `${name}: ${a}`);
    }
    assert.ok(cookies.get('__Secure-l8-refresh')?.attributes.includes('path=/auth'));
    assert.equal(cookies.get('__Host-l8-csrf')?.value, body.csrfToken);
    const jar = cookieHeader(logged);
    const csrf = { cookie: jar, 'x-l8-csrf': body.csrfToken as string };
    const noCsrf = await call('POST', '/l8/0/Orders', order(50, 'erin'), { cookie: jar });
    assert.deepEqual([noCsrf.status, codeOf(noCsrf)], [403, 'L8_ERR_FORBIDDEN']);
    const badCsrf = await call('POST', '/l8/0/Orders', order(50, 'erin'), { ...csrf, 'x-l8-csrf': 'x'.repeat(43) });
    assert.equal(badCsrf.status, 403);
    assert.equal((await call('POST', '/l8/0/Orders', order(50, 'erin'), csrf)).status, 201);
    const read = await call('GET', '/l8/0/Orders', undefined, { cookie: jar });
    assert.deepEqual([read.status, (read.json as { total: number }).total], [200, 1], 'a GET needs no CSRF header');
    assert.equal((await call('POST', '/auth/refresh', undefined, { cookie: jar })).status, 403);
    const refreshed = await call('POST', '/auth/refresh', undefined, csrf);
    assert.equal(refreshed.status, 200, refreshed.text);
    const jar2 = cookieHeader(refreshed);
    const csrf2 = { cookie: jar2, 'x-l8-csrf': (refreshed.json as Session).csrfToken as string };
    assert.equal((await call('POST', '/auth/logout', undefined, { cookie: jar2 })).status, 403);
    const out = await call('POST', '/auth/logout', undefined, csrf2);
    assert.equal(out.status, 204);
    assert.equal(setCookies(out).get('__Host-l8-access')?.value, '', 'cleared');
    assert.equal((await call('GET', '/l8/0/Orders', undefined, { cookie: jar2 })).status, 401);
  });

  test('failed logins per user: locked after the limit with 429 and Retry-After, doubling; success resets', async () => {
    const fail = () => login(gw.url, { user: 'frank', password: 'wrong-password' });
    for (let i = 0; i < 2; i++) assert.equal((await fail()).status, 401);
    assert.equal((await login(gw.url, { user: 'frank', password: PASSWORD })).status, 200, 'under the limit');
    for (let i = 0; i < 2; i++) assert.equal((await fail()).status, 401, 'the success reset the count');
    assert.equal((await fail()).status, 401);
    const locked = await login(gw.url, { user: 'frank', password: PASSWORD });
    assert.deepEqual([locked.status, codeOf(locked), locked.headers.get('retry-after')], [429, 'L8_ERR_LIMIT', '10']);
    clock += 10_001;
    for (let i = 0; i < 3; i++) assert.equal((await fail()).status, 401);
    const again = await fail();
    assert.deepEqual([again.status, again.headers.get('retry-after')], [429, '20'], 'the second lock-out doubles');
    clock += 20_001;
    assert.equal((await login(gw.url, { user: 'frank', password: PASSWORD })).status, 200);
  });

  test('failed logins per address: many user names from one address lock the address', async () => {
    const limits = { perUser: 100, perAddress: 4, windowMs: 60_000, lockoutMs: 5_000 };
    const g2 = await r.gateway('g2', { auth: { authority: r.ca.provider('g2'), limits } });
    for (const user of ['u1', 'u2', 'u3', 'u4']) {
      assert.equal((await login(g2.url, { user, password: 'wrong-password' })).status, 401);
    }
    const locked = await login(g2.url, { user: 'heidi', password: PASSWORD });
    assert.deepEqual([locked.status, locked.headers.get('retry-after')], [429, '5']);
  });

  test('behind a trusted proxy the address of the login limits is the forwarded one', async () => {
    const limits = { perUser: 100, perAddress: 2, windowMs: 60_000, lockoutMs: 5_000 };
    const auth = { authority: r.ca.provider('g3'), limits };
    const g3 = await r.gateway('g3', { auth, trustProxy: '127.0.0.1' });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (const user of ['p1', 'p2']) {
      assert.equal((await login(g3.url, { user, password: 'wrong-password' }, from('203.0.113.7'))).status, 401);
    }
    const locked = await login(g3.url, { user: 'heidi', password: PASSWORD }, from('203.0.113.7'));
    assert.equal(locked.status, 429, 'that client is locked out');
    const other = await login(g3.url, { user: 'heidi', password: PASSWORD }, from('198.51.100.9'));
    assert.equal(other.status, 200, 'another client behind the same proxy is not');
  });

  test('the OpenAPI document has the /auth endpoints and the bearer and cookie schemes, and is valid', async () => {
    const doc = (await call('GET', '/openapi.json')).json as {
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, { type: string; in?: string; name?: string }> };
    };
    for (const p of ['/auth/login', '/auth/refresh', '/auth/logout', '/auth/totp/setup', '/auth/totp/verify']) {
      assert.ok(doc.paths[p], p);
    }
    assert.deepEqual(doc.components.securitySchemes.cookie, {
      ...doc.components.securitySchemes.cookie,
      type: 'apiKey',
      in: 'cookie',
      name: '__Host-l8-access',
    });
    assert.equal(doc.components.securitySchemes.bearer?.type, 'http');
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
  });
});
