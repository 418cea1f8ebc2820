import type { AccessFile } from '@layer8/security';
import { Secret, TOTP } from 'otpauth';
import { type Answer, http } from './kit.ts';

/** clerk: GET Orders; writer: everything on Orders; results scoped by customerId. */
export const ACL: AccessFile = {
  rules: [
    { role: 'clerk', service: 'Orders', actions: ['GET'] },
    { role: 'writer', service: 'Orders', actions: ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] },
  ],
  scopes: [{ service: 'Orders', field: 'customerId' }],
};

/** One user per test, so failed logins of one test never lock another's user. */
export const USERS = {
  alice: ['writer'],
  bob: ['writer'],
  carol: ['clerk'],
  dave: ['writer'],
  erin: ['writer'],
  frank: ['writer'],
  grace: ['writer'],
  heidi: ['writer'],
} as const;

/** The answer of a login or refresh. */
export interface Session {
  readonly user: string;
  readonly roles: string[];
  readonly tokenType: string;
  readonly expiresIn: number;
  readonly accessToken?: string;
  readonly refreshToken?: string;
  readonly csrfToken?: string;
}

/** An order of `customer` as canonical JSON. */
export function order(id: number, customer: string): Record<string, unknown> {
  return { id: String(id), number: `A-${id}`, customerId: customer, status: 'STATUS_OPEN', city: 'Paris' };
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string | undefined): Record<string, string> {
  return { authorization: `Bearer ${token ?? ''}` };
}

/** The code of an error answer. */
export function codeOf(a: Answer): string | undefined {
  return (a.json as { code?: string } | undefined)?.code;
}

/** Logs in over HTTP. */
export function login(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return http(url, 'POST', '/auth/login', body, headers);
}

/** The one-time code of `secret` (base32) at `timestamp` (epoch ms). */
export function totpCode(secret: string, timestamp: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp,
  });
}

/** The cookies an answer sets: name → { value, attributes (lower case) }. */
export function setCookies(a: Answer): Map<string, { value: string; attributes: string[] }> {
  const out = new Map<string, { value: string; attributes: string[] }>();
  for (const line of a.headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(';').map((p) => p.trim());
    const eq = (pair as string).indexOf('=');
    out.set((pair as string).slice(0, eq), {
      value: decodeURIComponent((pair as string).slice(eq + 1)),
      attributes: attributes.map((x) => x.toLowerCase()),
    });
  }
  return out;
}

/** A `Cookie` header of the cookies an answer set. */
export function cookieHeader(a: Answer): string {
  return [...setCookies(a)].map(([name, c]) => `${name}=${encodeURIComponent(c.value)}`).join('; ');
}
