import { createHash, timingSafeEqual } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import { l8error } from '@layer8/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http-errors.ts';

/** The access token's cookie (HttpOnly; `__Host-`: Secure, Path=/, no Domain, so no sibling host can set it). */
export const ACCESS_COOKIE = '__Host-l8-access';
/** The refresh token's cookie (HttpOnly, Path=/auth: only the auth endpoints ever see it). */
export const REFRESH_COOKIE = '__Secure-l8-refresh';
/** The CSRF token's cookie: readable by the page's scripts, which echo it in {@link CSRF_HEADER}. */
export const CSRF_COOKIE = '__Host-l8-csrf';
/** The header a cookie-authenticated request that changes anything must carry (double submit). */
export const CSRF_HEADER = 'x-l8-csrf';
/** The path of the auth endpoints, and of the refresh cookie. */
export const AUTH_PATH = '/auth';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BASE: CookieSerializeOptions = { secure: true, sameSite: 'strict', path: '/' };

/**
 * The CSRF token of an access token: a hash of it. A page learns it from the login answer or the
 * readable cookie; another site can neither read the HttpOnly access cookie nor this value, so it cannot
 * forge the header. It needs no server state and every gateway of the overlay computes the same.
 */
export function csrfOf(accessToken: string): string {
  return createHash('sha256').update(`l8-csrf\0${accessToken}`).digest('base64url');
}

/** What a login or refresh puts in cookies. */
export interface CookieSession {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Lifetime of the session (the refresh token), seconds: the cookies last as long. */
  readonly sessionSeconds: number;
}

/**
 * Sets the session cookies: access (HttpOnly, Path=/), refresh (HttpOnly, Path=/auth) and CSRF
 * (readable), all Secure and SameSite=Strict. The access cookie outlives its token (the token's own
 * expiry governs), so a refresh can still prove the CSRF token bound to it.
 */
export function setSessionCookies(reply: FastifyReply, s: CookieSession): void {
  const maxAge = Math.max(1, Math.floor(s.sessionSeconds));
  reply.setCookie(ACCESS_COOKIE, s.accessToken, { ...BASE, httpOnly: true, maxAge });
  reply.setCookie(REFRESH_COOKIE, s.refreshToken, { ...BASE, httpOnly: true, path: AUTH_PATH, maxAge });
  reply.setCookie(CSRF_COOKIE, csrfOf(s.accessToken), { ...BASE, httpOnly: false, maxAge });
}

/** Clears the session cookies (logout). */
export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(ACCESS_COOKIE, { ...BASE, httpOnly: true });
  reply.clearCookie(REFRESH_COOKIE, { ...BASE, httpOnly: true, path: AUTH_PATH });
  reply.clearCookie(CSRF_COOKIE, BASE);
}

/** The access token of the request's cookie, or undefined. */
export function accessCookie(req: FastifyRequest): string | undefined {
  return cookie(req, ACCESS_COOKIE);
}

/** The refresh token of the request's cookie, or undefined. */
export function refreshCookie(req: FastifyRequest): string | undefined {
  return cookie(req, REFRESH_COOKIE);
}

/**
 * Checks the CSRF header of a request authenticated by the access cookie `token`: needed on every method
 * but GET, HEAD and OPTIONS. @throws HttpError 403 L8_ERR_FORBIDDEN when missing or wrong
 */
export function checkCsrf(req: FastifyRequest, token: string): void {
  if (SAFE_METHODS.has(req.method)) return;
  const sent = req.headers[CSRF_HEADER];
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  const expected = Buffer.from(csrfOf(token));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    const err = l8error('L8_ERR_FORBIDDEN', `a request authenticated by cookie needs the ${CSRF_HEADER} header`);
    throw new HttpError(403, err);
  }
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  const value = (req.cookies as Record<string, string | undefined> | undefined)?.[name];
  return value === undefined || value === '' || value.length > 8192 ? undefined : value;
}
