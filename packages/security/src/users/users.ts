import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { l8error } from '@layer8/protocol';
import { writeSecretFile } from '../tls/keys.ts';
import { checkName, SecurityFiles } from '../tls/layout.ts';

/** One user in `users.json`: an scrypt hash of the password, its salt (both hex) and the user's roles. */
export interface UserRecord {
  readonly hash: string;
  readonly salt: string;
  readonly roles: readonly string[];
}

/** The contents of `users.json`: user name → record. */
export type UserTable = Readonly<Record<string, UserRecord>>;

const KEY_LENGTH = 32;
/** scrypt cost (N = 2^14, r = 8, p = 1: Node's defaults, about 50 ms and 16 MiB per check). */
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const MIN_PASSWORD = 8;

function hashPassword(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, SCRYPT, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Reads the users file of `dir`; an absent file is an empty table. @throws L8_ERR_INVALID_ARGUMENT */
export async function readUsers(dir: string): Promise<UserTable> {
  const file = join(dir, SecurityFiles.USERS);
  if (!existsSync(file)) return {};
  return parseUsers(await readFile(file, 'utf8'), file);
}

function parseUsers(text: string, file: string): UserTable {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as UserTable;
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `users file ${file} is not valid JSON`, { cause: err });
  }
  throw l8error('L8_ERR_INVALID_ARGUMENT', `users file ${file} is not a JSON object`);
}

/**
 * Adds or replaces user `name` in `<dir>/users.json` (mode 0600) with an scrypt hash of `password` and
 * `roles`. This is what `l8 security user add` runs.
 * @throws L8_ERR_INVALID_ARGUMENT for an invalid name or a password shorter than 8 characters.
 */
export async function addUser(dir: string, name: string, password: string, roles: readonly string[]): Promise<void> {
  checkName(name, 'user');
  if (password.length < MIN_PASSWORD)
    throw l8error('L8_ERR_INVALID_ARGUMENT', `a password needs at least ${MIN_PASSWORD} characters`);
  const salt = randomBytes(16);
  const hash = await hashPassword(password, salt);
  const file = join(dir, SecurityFiles.USERS);
  const table = existsSync(file) ? parseUsers(readFileSync(file, 'utf8'), file) : {};
  const next = { ...table, [name]: { hash: hash.toString('hex'), salt: salt.toString('hex'), roles: [...roles] } };
  writeSecretFile(file, `${JSON.stringify(next, null, 2)}\n`);
}

/**
 * Checks `password` against the record of `name` and returns the user's roles. An unknown user costs
 * the same scrypt work as a known one, so timing does not tell which names exist.
 * @throws L8_ERR_AUTH for an unknown user or a wrong password.
 */
export async function verifyUser(table: UserTable, name: string, password: string): Promise<readonly string[]> {
  const record = Object.hasOwn(table, name) ? table[name] : undefined;
  const salt = Buffer.from(record?.salt ?? '00'.repeat(16), 'hex');
  const expected = Buffer.from(record?.hash ?? '00'.repeat(KEY_LENGTH), 'hex');
  const actual = await hashPassword(password, salt);
  const same = expected.length === actual.length && timingSafeEqual(expected, actual);
  if (record === undefined || !same) throw l8error('L8_ERR_AUTH', 'unknown user or wrong password');
  return Array.isArray(record.roles) ? record.roles : [];
}
