import { join } from 'node:path';
import { l8error } from '@layer8/protocol';
import { Secret, TOTP } from 'otpauth';
import { StateFile } from './state-file.ts';

/** The TOTP file in the state directory (0600: it holds the shared secrets). */
export const TOTP_FILE = 'totp.json';
/** RFC 6238 parameters: SHA-1, 6 digits, 30 s steps (what authenticator apps expect), ±1 step of drift. */
const PERIOD = 30;
const DIGITS = 6;
const WINDOW = 1;

/** One user's second factor: the secret (base32), whether set-up was confirmed, the last step accepted. */
interface TotpRecord {
  readonly secret: string;
  enabled: boolean;
  lastStep: number;
}

interface TotpFile {
  users: Record<string, TotpRecord>;
}

/** What set-up hands the user, once: the secret and the `otpauth://` URI for an authenticator app. */
export interface TotpSetup {
  readonly secret: string;
  readonly uri: string;
}

/**
 * Time-based one-time passwords (RFC 6238, `otpauth`) per user, kept in `<dir>/totp.json` (0600). Set-up
 * writes a new secret that counts only once a code from it is verified; from then on login needs a code.
 * A code is accepted for its step ±1 and only when its step is later than the last one accepted, so no
 * code (or an older one) works twice.
 */
export class TotpStore {
  readonly #file: StateFile<TotpFile>;
  readonly #issuer: string;
  readonly #now: () => number;

  /** A store in `dir`; `issuer` names the overlay in authenticator apps; `now` is the clock (epoch ms). */
  constructor(dir: string, issuer: string, now: () => number = Date.now) {
    this.#file = new StateFile(join(dir, TOTP_FILE), () => ({ users: {} }));
    this.#issuer = issuer;
    this.#now = now;
  }

  /** Whether `user` has a confirmed second factor. */
  enabled(user: string): boolean {
    const users = this.#file.read().users;
    return Object.hasOwn(users, user) && users[user]?.enabled === true;
  }

  /** A new, unconfirmed secret for `user`. @throws L8_ERR_CONFLICT when one is already enabled */
  setup(user: string): Promise<TotpSetup> {
    return this.#file.update((s) => {
      if (Object.hasOwn(s.users, user) && s.users[user]?.enabled) {
        throw l8error('L8_ERR_CONFLICT', 'two-factor authentication is already on for this user');
      }
      const secret = new Secret({ size: 20 }).base32;
      s.users[user] = { secret, enabled: false, lastStep: -1 };
      return { secret, uri: this.#totp(user, secret).toString() };
    });
  }

  /** Confirms set-up with a code of the new secret. @throws L8_ERR_AUTH for a wrong code or no set-up */
  confirm(user: string, code: string): Promise<void> {
    return this.#file.update((s) => {
      const r = Object.hasOwn(s.users, user) ? s.users[user] : undefined;
      if (r === undefined) throw l8error('L8_ERR_AUTH', 'no two-factor set-up to verify; POST /auth/totp/setup first');
      this.#accept(user, r, code);
      r.enabled = true;
    });
  }

  /**
   * Checks the login code of `user` when the user has a second factor; nothing to check otherwise.
   * @throws L8_ERR_TOTP_REQUIRED without a code; L8_ERR_AUTH for a wrong or reused code
   */
  async check(user: string, code: string | undefined): Promise<void> {
    if (!this.enabled(user)) return;
    if (code === undefined) throw l8error('L8_ERR_TOTP_REQUIRED', 'this user needs a one-time code (totp)');
    await this.#file.update((s) => {
      const r = s.users[user];
      if (r?.enabled !== true) return;
      this.#accept(user, r, code);
    });
  }

  /** Removes the second factor of `user` (`l8 users totp-reset`). Resolves whether there was one. */
  reset(user: string): Promise<boolean> {
    return this.#file.update((s) => {
      const had = Object.hasOwn(s.users, user);
      delete s.users[user];
      return had;
    });
  }

  /** Accepts `code` when right for now ±1 step and later than the last accepted step. @throws L8_ERR_AUTH */
  #accept(user: string, r: TotpRecord, code: string): void {
    const timestamp = this.#now();
    const delta = this.#totp(user, r.secret).validate({ token: code, timestamp, window: WINDOW });
    const step = delta === null ? undefined : Math.floor(timestamp / 1000 / PERIOD) + delta;
    if (step === undefined || step <= r.lastStep) throw l8error('L8_ERR_AUTH', 'wrong or already used one-time code');
    r.lastStep = step;
  }

  #totp(user: string, secret: string): TOTP {
    const s = Secret.fromBase32(secret);
    return new TOTP({
      issuer: this.#issuer,
      label: user,
      algorithm: 'SHA1',
      digits: DIGITS,
      period: PERIOD,
      secret: s,
    });
  }
}
