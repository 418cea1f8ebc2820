/**
 * Login, refresh and logout against the gateway's `/auth` endpoints in cookie mode: the access token stays in
 * an HttpOnly cookie (which also authenticates `/ws`); mutating requests echo the readable CSRF cookie in
 * `x-l8-csrf` (docs/gateway.md, "AAA").
 */

const CSRF_COOKIE = '__Host-l8-csrf';
const CSRF_HEADER = 'x-l8-csrf';

/** The CSRF token of the session, or '' when not logged in. */
export function csrf() {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join('='));
  }
  return '';
}

/** A same-origin JSON request: `{ ok, status, json }` (json is `{}` when the answer has none). */
export async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = csrf();
  if (method !== 'GET' && token !== '') headers[CSRF_HEADER] = token;
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await r.json().catch(() => ({}));
  return { ok: r.ok, status: r.status, json };
}

/** Logs in; the cookies are set by the answer. */
export function login(user, password, totp) {
  return call('POST', '/auth/login', { user, password, cookie: true, ...(totp ? { totp } : {}) });
}

/** A new access token from the refresh cookie; false when the session is over. */
export async function refresh() {
  if (csrf() === '') return false;
  return (await call('POST', '/auth/refresh', {})).ok;
}

/**
 * The session as the gateway sees it (`GET /auth/session`): `{ auth, user? }`; `auth` false when the
 * gateway has no AAA; undefined when it cannot be reached.
 */
export async function session() {
  try {
    const r = await call('GET', '/auth/session');
    return r.ok ? r.json : undefined;
  } catch {
    return undefined;
  }
}

/** Ends the session (the cookies are cleared by the answer). */
export function logout() {
  return call('POST', '/auth/logout', {});
}
