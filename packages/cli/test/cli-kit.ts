import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliIo, runCli } from '../src/index.ts';

export const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** A fresh temp directory. */
export function tempDir(prefix = 'l8-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A HOME without `~/.layer8`, so no default overlay is found unless a test makes one. */
export const EMPTY_HOME = tempDir('l8-home-');

/** Writes a passphrase file (0600) and returns its path. */
export function passphraseFile(dir: string, passphrase: string, name = 'pass'): string {
  const file = join(dir, name);
  writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
  return file;
}

/** Child processes to kill at the end of a test file. */
export const children: ChildProcess[] = [];

/**
 * Starts `command args…` (default: node running the CLI source) with `HOME` at {@link EMPTY_HOME};
 * resolves with the first stdout match of `ready`, rejects with stderr when the process exits first.
 */
export function spawnL8(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {},
  argv0: string[] = ['--conditions=source', '--import', 'tsx', MAIN],
): Promise<{ child: ChildProcess; match: RegExpMatchArray; err: () => string }> {
  const child = spawn(process.execPath, [...argv0, ...args], {
    cwd: REPO,
    env: { ...process.env, HOME: EMPTY_HOME, L8_SECURITY: '', L8_DEV_PASSPHRASE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) resolve({ child, match: m, err: () => err });
    });
    child.once('exit', (code) => reject(new Error(`l8 ${args.join(' ')} exited with ${code}: ${err}`)));
  });
}

/** Stops a child started by {@link spawnL8} and waits for its exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Runs `l8 args…` in-process with `env` (HOME at {@link EMPTY_HOME} unless given); captures its output. */
export async function l8(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    env: { HOME: EMPTY_HOME, ...env },
    out: (l) => (out += `${l}\n`),
    warn: (l) => (err += `${l}\n`),
    untilStopped: () => new Promise(() => undefined),
  };
  const code = await runCli(args, io);
  return { code, out, err };
}
