import { readFileSync, statSync } from 'node:fs';
import { RefreshStore, TotpStore } from '@layer8/gateway';
import { l8error } from '@layer8/protocol';
import { addUser, readUsers, removeUser, revokeTokens, setPassword, setRoles } from '@layer8/security';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { defaultSecurityDir } from '../providers.ts';
import { table } from '../table.ts';

interface UsersFlags {
  readonly security?: string;
  readonly role: string[];
  readonly passwordFile?: string;
  readonly json?: boolean;
}

const repeat = (v: string, acc: string[]): string[] => [...acc, v];

/**
 * `l8 users add|list|remove|passwd|roles|totp-reset`: the users of an overlay's security directory
 * (`users.json`, docs/security.md "Users"). Passwords come from `--password-file`, `L8_PASSWORD` or a
 * prompt (stdin), never from the command line; hashes are never printed.
 */
export function usersCommand(program: Command, io: CliIo): void {
  const users = program.command('users').description('manage the users and roles of an overlay');
  const cmd = (spec: string, description: string) =>
    users
      .command(spec)
      .description(description)
      .option(
        '--security <dir>',
        'the overlay directory holding users.json (default: L8_SECURITY, ~/.layer8/security)',
      );
  cmd('add <name>', 'add a user (or replace one) with a password and roles')
    .option('--role <role>', 'a role of the user (repeatable)', repeat, [])
    .option('--password-file <file>', 'read the password from FILE (else L8_PASSWORD, else a prompt)')
    .action(async (name: string, f: UsersFlags) => {
      await addUser(dirOf(f, io), name, await passwordOf(f, io), f.role);
      io.out(`user ${name} added with roles ${f.role.join(', ') || '(none)'}`);
    });
  cmd('list', 'list users, their roles and whether two-factor is on (never hashes)')
    .option('--json', 'print JSON')
    .action(async (f: UsersFlags) => list(dirOf(f, io), f.json === true, io));
  cmd('remove <name>', 'remove a user and end their sessions').action(async (name: string, f: UsersFlags) => {
    const dir = dirOf(f, io);
    removeUser(dir, name);
    await endSessions(dir, name);
    await new TotpStore(dir, 'Layer8').reset(name);
    io.out(`user ${name} removed; sessions ended`);
  });
  cmd('passwd <name>', 'set a new password and end the user’s sessions')
    .option('--password-file <file>', 'read the password from FILE (else L8_PASSWORD, else a prompt)')
    .action(async (name: string, f: UsersFlags) => {
      const dir = dirOf(f, io);
      await setPassword(dir, name, await passwordOf(f, io));
      await endSessions(dir, name);
      io.out(`password of ${name} changed; sessions ended`);
    });
  cmd('roles <name>', 'replace the roles of a user (they apply at the next login or refresh)')
    .option('--role <role>', 'a role of the user (repeatable; none: no roles)', repeat, [])
    .action(async (name: string, f: UsersFlags) => {
      setRoles(dirOf(f, io), name, f.role);
      io.out(`roles of ${name}: ${f.role.join(', ') || '(none)'}`);
    });
  cmd('totp-reset <name>', 'turn off the two-factor authentication of a user (a lost device)').action(
    async (name: string, f: UsersFlags) => {
      const had = await new TotpStore(dirOf(f, io), 'Layer8').reset(name);
      io.out(had ? `two-factor of ${name} turned off` : `${name} had no two-factor`);
    },
  );
}

function dirOf(f: UsersFlags, io: CliIo): string {
  return f.security ?? (io.env.L8_SECURITY || defaultSecurityDir(io.env));
}

async function list(dir: string, json: boolean, io: CliIo): Promise<void> {
  const totp = new TotpStore(dir, 'Layer8');
  const rows = Object.entries(await readUsers(dir))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, r]) => ({ name, roles: Array.isArray(r.roles) ? [...r.roles] : [], totp: totp.enabled(name) }));
  if (json) return io.out(JSON.stringify(rows, null, 2));
  io.out(
    table(
      ['USER', 'ROLES', 'TOTP'],
      rows.map((r) => [r.name, r.roles.join(','), r.totp ? 'on' : 'off']),
    ),
  );
}

/** Ends every refresh session of `user` and revokes their live access tokens. */
async function endSessions(dir: string, user: string): Promise<void> {
  const revoked = await new RefreshStore(dir, 1).revokeUser(user);
  if (revoked.length > 0) revokeTokens(dir, revoked);
}

/** The password from `--password-file`, `L8_PASSWORD`, or the prompt. @throws L8_ERR_INVALID_ARGUMENT */
async function passwordOf(f: UsersFlags, io: CliIo): Promise<string> {
  if (f.passwordFile !== undefined) return fromFile(f.passwordFile, io);
  if (io.env.L8_PASSWORD) return io.env.L8_PASSWORD;
  if (io.readSecret === undefined) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'give the password with --password-file FILE or L8_PASSWORD');
  }
  return io.readSecret('password: ');
}

function fromFile(file: string, io: CliIo): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `cannot read the password file ${file}`, { cause: err });
  }
  if ((statSync(file).mode & 0o077) !== 0) io.warn(`WARNING: ${file} is readable by other users; chmod 600 it`);
  return text.replace(/\r?\n$/, '');
}
