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
 * Adds or replaces user `name` in `<dir>/users.json` (mode 0600, written atomically) with an scrypt hash
 * of `password` and `roles`. This is what `l8 users add` runs.
 * @throws L8_ERR_INVALID_ARGUMENT for an invalid name or a password shorter than 8 characters.
 */
export async function addUser(dir: string, name: string, password: string, roles: readonly string[]): Promise<void> {
  checkName(name, 'user');
  const secret = await passwordRecord(password);
  updateUsers(dir, (table) => ({ ...table, [name]: { ...secret, roles: [...roles] } }));
}

/**
 * Replaces the password of user `name`, keeping its roles (`l8 users passwd`).
 * @throws L8_ERR_NOT_FOUND for an unknown user; L8_ERR_INVALID_ARGUMENT for a short password.
 */
export async function setPassword(dir: string, name: string, password: string): Promise<void> {
  const secret = await passwordRecord(password);
  updateUsers(dir, (table) => ({ ...table, [name]: { ...known(table, name), ...secret } }));
}

/** Replaces the roles of user `name` (`l8 users roles`). @throws L8_ERR_NOT_FOUND for an unknown user */
export function setRoles(dir: string, name: string, roles: readonly string[]): void {
  updateUsers(dir, (table) => ({ ...table, [name]: { ...known(table, name), roles: [...roles] } }));
}

/** Removes user `name` (`l8 users remove`). @throws L8_ERR_NOT_FOUND for an unknown user */
export function removeUser(dir: string, name: string): void {
  updateUsers(dir, (table) => {
    known(table, name);
    return Object.fromEntries(Object.entries(table).filter(([n]) => n !== name));
  });
}

async function passwordRecord(password: string): Promise<{ hash: string; salt: string }> {
  if (password.length < MIN_PASSWORD)
    throw l8error('L8_ERR_INVALID_ARGUMENT', `a password needs at least ${MIN_PASSWORD} characters`);
  const salt = randomBytes(16);
  return { hash: (await hashPassword(password, salt)).toString('hex'), salt: salt.toString('hex') };
}

function known(table: UserTable, name: string): UserRecord {
  const record = Object.hasOwn(table, name) ? table[name] : undefined;
  if (record === undefined) throw l8error('L8_ERR_NOT_FOUND', `no user ${JSON.stringify(name)}`);
  return record;
}

/** Reads `users.json` (synchronously: no await between the read and the write) and writes `change` of it. */
function updateUsers(dir: string, change: (table: UserTable) => UserTable): void {
  const file = join(dir, SecurityFiles.USERS);
  const table = existsSync(file) ? parseUsers(readFileSync(file, 'utf8'), file) : {};
  writeSecretFile(file, `${JSON.stringify(change(table), null, 2)}\n`);
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
