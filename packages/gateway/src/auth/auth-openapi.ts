import type { OpenApiDocument } from '../openapi.ts';
import { ACCESS_COOKIE, AUTH_PATH, CSRF_HEADER, REFRESH_COOKIE } from './auth-cookies.ts';

const ERROR = { $ref: '#/components/responses/Error' };
const str = { type: 'string' };
const code = { type: 'string', pattern: '^[0-9]{6}$' };
const session = {
  type: 'object',
  required: ['user', 'roles', 'expiresIn', 'tokenType'],
  properties: {
    user: str,
    roles: { type: 'array', items: str },
    expiresIn: { type: 'integer', description: 'Lifetime of the access token, seconds' },
    tokenType: { type: 'string', enum: ['Bearer', 'cookie'] },
    accessToken: { ...str, description: 'Bearer mode: the access token (JWT)' },
    refreshToken: { ...str, description: 'Bearer mode: the refresh token (single use)' },
    csrfToken: { ...str, description: `Cookie mode: the value to send in ${CSRF_HEADER}` },
  },
};
const refreshBody = {
  type: 'object',
  properties: { refreshToken: { ...str, description: `Without it, the ${REFRESH_COOKIE} cookie` } },
};
const AUTHENTICATED = [{ bearer: [] }, { cookie: [] }];

/**
 * `doc` with the `/auth` endpoints (docs/gateway.md, "AAA") and the cookie security scheme beside the
 * bearer one. The gateway adds them when it runs with `auth`.
 */
export function withAuthPaths(doc: OpenApiDocument): OpenApiDocument {
  const components = (doc.components ?? {}) as Record<string, Record<string, unknown>>;
  const cookie = {
    type: 'apiKey',
    in: 'cookie',
    name: ACCESS_COOKIE,
    description: `The access token set by a cookie login; a request that changes anything also sends ${CSRF_HEADER}`,
  };
  return {
    ...doc,
    security: [{}, { bearer: [] }, { cookie: [] }],
    tags: [...((doc.tags as unknown[]) ?? []), { name: 'auth', description: 'Log in, refresh, log out, two-factor' }],
    paths: { ...(doc.paths as object), ...PATHS },
    components: { ...components, securitySchemes: { ...components.securitySchemes, cookie } },
  };
}

interface Op {
  readonly id: string;
  readonly summary: string;
  readonly request?: object;
  /** The 200 answer's schema; none: 204. */
  readonly answer?: object;
  /** Whether it needs a logged-in user. */
  readonly secured: boolean;
}

function operation(o: Op): object {
  const ok = o.answer === undefined ? { '204': { description: 'Done' } } : { '200': json('Done', o.answer) };
  const content = o.request === undefined ? undefined : { 'application/json': { schema: o.request } };
  return {
    tags: ['auth'],
    summary: o.summary,
    operationId: `auth_${o.id}`,
    security: o.secured ? AUTHENTICATED : [{}],
    ...(content === undefined ? {} : { requestBody: { required: o.id !== 'refresh' && o.id !== 'logout', content } }),
    responses: {
      ...ok,
      '401': { ...ERROR, description: 'Not authenticated (L8_ERR_AUTH, L8_ERR_TOKEN_EXPIRED)' },
      default: ERROR,
    },
  };
}

function json(description: string, schema: object) {
  return { description, content: { 'application/json': { schema } } };
}

const sessionState = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: { type: 'boolean' },
    user: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    expiresAt: { type: 'integer', description: 'Expiry of the token, epoch seconds' },
  },
};

const login = {
  type: 'object',
  required: ['user', 'password'],
  properties: {
    user: { type: 'string', maxLength: 63 },
    password: { type: 'string', maxLength: 1024 },
    totp: { ...code, description: 'The one-time code, once two-factor is on' },
    cookie: { type: 'boolean', description: 'Set the tokens as HttpOnly cookies instead of answering them' },
  },
};
const totpSetup = {
  type: 'object',
  required: ['secret', 'uri'],
  properties: { secret: str, uri: { ...str, description: 'otpauth:// URI for an authenticator app' } },
};
const loginResponses = {
  '401': { ...ERROR, description: 'L8_ERR_AUTH (wrong user, password or code) or L8_ERR_TOTP_REQUIRED' },
  '429': { ...ERROR, description: 'Too many failed logins (L8_ERR_LIMIT); retry after `Retry-After` seconds' },
};

const PATHS: Record<string, object> = {
  [`${AUTH_PATH}/login`]: {
    post: ((o) => ({ ...o, responses: { ...(o as { responses: object }).responses, ...loginResponses } }))(
      operation({
        id: 'login',
        summary: 'Log in with a password (and a one-time code)',
        request: login,
        answer: session,
        secured: false,
      }),
    ),
  },
  [`${AUTH_PATH}/session`]: {
    get: {
      ...(operation({
        id: 'session',
        summary: 'Whether the gateway has AAA and whose the token is',
        answer: sessionState,
        secured: false,
      }) as object),
    },
  },
  [`${AUTH_PATH}/refresh`]: {
    post: operation({
      id: 'refresh',
      summary: 'A new token pair; the refresh token used is spent',
      request: refreshBody,
      answer: session,
      secured: false,
    }),
  },
  [`${AUTH_PATH}/logout`]: {
    post: operation({
      id: 'logout',
      summary: 'Revoke the session and the access token',
      request: refreshBody,
      secured: true,
    }),
  },
  [`${AUTH_PATH}/totp/setup`]: {
    post: operation({
      id: 'totp_setup',
      summary: 'A new two-factor secret, shown once',
      answer: totpSetup,
      secured: true,
    }),
  },
  [`${AUTH_PATH}/totp/verify`]: {
    post: operation({
      id: 'totp_verify',
      summary: 'Turn two-factor on with a code of the new secret',
      request: { type: 'object', required: ['code'], properties: { code } },
      secured: true,
    }),
  },
};
