import fastifyCookie from '@fastify/cookie';
import { type L8Error, l8error } from '@layer8/protocol';
import type { IssuedToken, RevokedToken, UserAuthority, UserIdentity } from '@layer8/security';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http-errors.ts';
import { identityOf } from '../request-context.ts';
import {
  AUTH_PATH,
  accessCookie,
  type CookieSession,
  checkCsrf,
  clearSessionCookies,
  csrfOf,
  refreshCookie,
  setSessionCookies,
} from './auth-cookies.ts';
import { LoginLimiter, type LoginLimits } from './login-limiter.ts';
import { RefreshStore } from './refresh-store.ts';
import { TotpStore } from './totp-store.ts';

/** `GET` answers whether the gateway has AAA and whose the request's token is ({@link SessionState}). */
export const SESSION_PATH = `${AUTH_PATH}/session`;

/** `GET /auth/session`: whether the gateway has AAA and, when the request's token is valid, whose it is. */
export interface SessionState {
  readonly auth: boolean;
  readonly user?: string;
  readonly roles?: readonly string[];
  /** Expiry of the token, epoch seconds. */
  readonly expiresAt?: number;
}

/** Options of the gateway's AAA endpoints (`GatewayOptions.auth`, docs/gateway.md "AAA"). */
export interface AuthOptions {
  /** Checks passwords, issues, validates and revokes tokens: the TLS provider of a node holding `token.key`. */
  readonly authority: UserAuthority;
  /** Where `refresh-tokens.json` and `totp.json` live (0600). Default: the authority's security directory. */
  readonly dir?: string;
  /** Lifetime of access tokens, seconds. Default 900 (15 minutes). */
  readonly accessTtlSeconds?: number;
  /** Lifetime of a session (its chain of refresh tokens), seconds. Default 43200 (12 hours). */
  readonly refreshTtlSeconds?: number;
  /** Failed-login limits. Defaults: 5 per user and 20 per address in 15 minutes, lock-outs from 15 minutes, doubling. */
  readonly limits?: LoginLimits;
  /** Issuer shown in authenticator apps. Default `Layer8`. */
  readonly totpIssuer?: string;
  /** The clock, epoch ms (tests). Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Whether a request without a token goes on as the gateway itself (a member: the services' rules for the
   * role `member` apply). Default false: with auth on, a request without a token is 401 `L8_ERR_AUTH`.
   */
  readonly anonymous?: boolean;
}

type Body = Record<string, unknown>;
/** Names and passwords are bounded before any work is done on them. */
const MAX_NAME = 63;
const MAX_PASSWORD = 1024;

/**
 * The AAA endpoints under `/auth` and the identity of every other request: a Bearer token, else the
 * access cookie (with the CSRF check), validated here by the authority before the request goes on, and
 * validated again by the service (docs/gateway.md, "AAA").
 */
export class AuthApi {
  readonly #a: UserAuthority;
  readonly #refresh: RefreshStore;
  readonly #totp: TotpStore;
  readonly #limiter: LoginLimiter;
  readonly #accessTtl: number;
  readonly #sessionTtl: number;
  readonly #now: () => number;
  readonly #anonymous: boolean;

  /** @throws L8_ERR_INVALID_ARGUMENT when there is no directory for the state files */
  constructor(o: AuthOptions) {
    const dir = o.dir ?? o.authority.directory;
    if (dir === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', 'gateway auth needs a directory for its state');
    const now = o.now ?? Date.now;
    this.#a = o.authority;
    this.#now = now;
    this.#anonymous = o.anonymous ?? false;
    this.#accessTtl = o.accessTtlSeconds ?? 900;
    this.#sessionTtl = o.refreshTtlSeconds ?? 43_200;
    this.#refresh = new RefreshStore(dir, this.#sessionTtl, now);
    this.#totp = new TotpStore(dir, o.totpIssuer ?? 'Layer8', now);
    this.#limiter = new LoginLimiter(o.limits, now);
  }

  /** Adds cookie parsing and the `/auth` routes to `app`. */
  register(app: FastifyInstance): void {
    void app.register(fastifyCookie);
    const post = (path: string, fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
      app.post(`${AUTH_PATH}${path}`, fn);
    post('/login', (req, reply) => this.#login(req, reply));
    post('/refresh', (req, reply) => this.#refreshSession(req, reply));
    post('/logout', (req, reply) => this.#logout(req, reply));
    post('/totp/setup', async (req) => this.#totp.setup((await this.#who(req)).user));
    post('/totp/verify', async (req, reply) => {
      await this.#totp.confirm((await this.#who(req)).user, code(body(req), 'code', true) as string);
      return reply.code(204).send();
    });
  }

  /**
   * Who the request's token (Bearer or access cookie) is, for a page deciding whether to show its login:
   * `{ auth: true, user, roles, expiresAt }`, or `{ auth: true }` without a valid one. Never refuses.
   */
  async session(req: FastifyRequest): Promise<SessionState> {
    const token = this.#token(req);
    if (token === '') return { auth: true };
    try {
      const who = await this.#a.validateToken(token);
      return {
        auth: true,
        user: who.user,
        roles: who.roles,
        ...(who.expiresAt === undefined ? {} : { expiresAt: who.expiresAt }),
      };
    } catch {
      return { auth: true };
    }
  }

  /**
   * The token a request carries on to the overlay, validated: Bearer, else the access cookie (CSRF
   * checked), else '' (the gateway acting as a member) when `anonymous` allows it.
   * @throws HttpError 401 without a token (unless `anonymous`), 403 (CSRF); the authority's errors
   */
  async identity(req: FastifyRequest): Promise<string> {
    const token = this.#token(req);
    await this.authenticate(token);
    return token;
  }

  /**
   * Checks a token as every request and WebSocket upgrade is checked: the user it names, or undefined
   * for none ('') when `anonymous` allows it.
   * @throws HttpError 401 without a token (unless `anonymous`); the authority's errors
   */
  async authenticate(token: string): Promise<UserIdentity | undefined> {
    if (token !== '') return this.#a.validateToken(token);
    if (!this.#anonymous) throw new HttpError(401, l8error('L8_ERR_AUTH', 'log in first: no token and no cookie'));
    return undefined;
  }

  #token(req: FastifyRequest): string {
    const bearer = identityOf(req.headers);
    if (bearer !== '') return bearer;
    const cookie = accessCookie(req);
    if (cookie === undefined) return '';
    checkCsrf(req, cookie);
    return cookie;
  }

  async #who(req: FastifyRequest): Promise<UserIdentity> {
    const token = this.#token(req);
    if (token === '') throw new HttpError(401, l8error('L8_ERR_AUTH', 'log in first: no token and no cookie'));
    return this.#a.validateToken(token);
  }

  async #login(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const b = body(req);
    const user = text(b, 'user', MAX_NAME);
    const password = text(b, 'password', MAX_PASSWORD);
    const keys = [user, req.ip] as const;
    const wait = this.#limiter.waitMs(keys);
    if (wait > 0) throw tooMany(wait);
    let roles: readonly string[];
    try {
      roles = await this.#a.verifyPassword(user, password);
      await this.#totp.check(user, code(b, 'totp', false));
    } catch (err) {
      if ((err as L8Error).code === 'L8_ERR_AUTH') this.#limiter.failed(keys);
      throw err;
    }
    this.#limiter.succeeded(keys);
    const access = await this.#a.issueToken({ user, roles }, this.#accessTtl);
    const opened = await this.#refresh.open(user, revocable(access));
    await this.#revoke(opened.revoked);
    const session = { user, roles, access, refresh: opened.token, expiresAt: opened.expiresAt };
    return this.#answer(reply, session, b.cookie === true);
  }

  async #refreshSession(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const b = body(req);
    const fromCookie = b.refreshToken === undefined ? refreshCookie(req) : undefined;
    if (fromCookie !== undefined) checkCsrf(req, accessCookie(req) ?? '');
    const token = fromCookie ?? text(b, 'refreshToken', 256);
    const r = await this.#refresh.rotate(token);
    if (!r.ok) {
      await this.#revoke(r.revoked);
      const why = r.reused ? 'refresh token already used: the session is ended' : 'unknown or expired refresh token';
      throw new HttpError(401, l8error('L8_ERR_AUTH', why));
    }
    const roles = await this.#a.userRoles(r.user);
    if (roles === undefined) {
      await this.#revoke(await this.#refresh.revoke(r.token, undefined));
      throw new HttpError(401, l8error('L8_ERR_AUTH', 'unknown or expired refresh token'));
    }
    const access = await this.#a.issueToken({ user: r.user, roles }, this.#accessTtl);
    await this.#refresh.addAccess(r.family, revocable(access));
    const session = { user: r.user, roles, access, refresh: r.token, expiresAt: r.expiresAt };
    return this.#answer(reply, session, fromCookie !== undefined);
  }

  async #logout(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const b = body(req);
    const token = this.#token(req);
    const who = token === '' ? undefined : await this.#a.validateToken(token).catch(() => undefined);
    const refresh = b.refreshToken === undefined ? refreshCookie(req) : text(b, 'refreshToken', 256);
    if (who === undefined && refresh === undefined) {
      throw new HttpError(401, l8error('L8_ERR_AUTH', 'nothing to log out: no valid token and no refresh token'));
    }
    const revoked = await this.#refresh.revoke(refresh, who?.tokenId);
    const own = who?.tokenId === undefined ? [] : [{ tokenId: who.tokenId, expiresAt: who.expiresAt ?? 0 }];
    await this.#revoke([...revoked, ...own]);
    clearSessionCookies(reply);
    return reply.code(204).send();
  }

  async #revoke(tokens: readonly RevokedToken[]): Promise<void> {
    if (tokens.length > 0) await this.#a.revokeTokens(tokens);
  }

  /** The answer of a login or refresh: the tokens in the body, or in cookies with the CSRF token. */
  #answer(reply: FastifyReply, s: Session, cookies: boolean): unknown {
    const common = { user: s.user, roles: s.roles, expiresIn: this.#accessTtl };
    const sessionSeconds = (s.expiresAt - this.#now()) / 1000;
    if (!cookies) return { ...common, tokenType: 'Bearer', accessToken: s.access.token, refreshToken: s.refresh };
    const c: CookieSession = { accessToken: s.access.token, refreshToken: s.refresh, sessionSeconds };
    setSessionCookies(reply, c);
    return { ...common, tokenType: 'cookie', csrfToken: csrfOf(s.access.token) };
  }
}

interface Session {
  readonly user: string;
  readonly roles: readonly string[];
  readonly access: IssuedToken;
  readonly refresh: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

function revocable(t: IssuedToken): RevokedToken {
  return { tokenId: t.tokenId, expiresAt: t.expiresAt };
}

function tooMany(waitMs: number): HttpError {
  const seconds = Math.ceil(waitMs / 1000);
  const err = l8error('L8_ERR_LIMIT', `too many failed logins: try again in ${seconds} s`);
  return new HttpError(429, err, { 'retry-after': String(seconds) });
}

/** The JSON object body ({} when there is none). @throws HttpError 400 for another JSON value */
function body(req: FastifyRequest): Body {
  const b = req.body ?? {};
  if (typeof b === 'object' && !Array.isArray(b)) return b as Body;
  throw new HttpError(400, l8error('L8_ERR_INVALID_ARGUMENT', 'the body must be a JSON object'));
}

/** A required string field of 1 to `max` characters. @throws HttpError 400 */
function text(b: Body, name: string, max: number): string {
  const v = b[name];
  if (typeof v === 'string' && v.length > 0 && v.length <= max) return v;
  throw new HttpError(400, l8error('L8_ERR_INVALID_ARGUMENT', `${name} must be a string of 1 to ${max} characters`));
}

/** A one-time code field: 6 digits. @throws HttpError 400 when malformed, or absent and `required` */
function code(b: Body, name: string, required: boolean): string | undefined {
  const v = b[name];
  if (v === undefined && !required) return undefined;
  if (typeof v === 'string' && /^[0-9]{6}$/.test(v)) return v;
  throw new HttpError(400, l8error('L8_ERR_INVALID_ARGUMENT', `${name} must be a 6-digit code`));
}
