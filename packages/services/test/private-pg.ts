/**
 * A private PostgreSQL server for a test that stops and restarts it: the shared cluster (`L8_TEST_PG`) must
 * stay up for the other tests. `initdb` into a temporary directory, a free port on 127.0.0.1, the unix
 * socket in that directory. PostgreSQL refuses to run as root: as root its programs run as the `postgres`
 * user (`runuser`). No binaries is an error, never a skip.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@layer8/testkit';

const exec = promisify(execFile);

/** Where Debian installs the server, one directory per major version. */
const PG_ROOT = '/usr/lib/postgresql';

/** A running private server. */
export interface PrivatePg {
  /** `postgres://l8:l8@127.0.0.1:<port>/l8`: the role `l8` owning the database `l8`. */
  readonly url: string;
  /** Starts the server on its port again; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it as a crash would: `pg_ctl stop -m immediate` (no checkpoint; every connection cut). */
  stopImmediate(): Promise<void>;
  /** Stops it if it runs and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * The `bin` directory of the newest PostgreSQL installed (`L8_PG_BIN` overrides it).
 * @throws when no `initdb` and `pg_ctl` are found
 */
export function pgBin(): string {
  const given = process.env.L8_PG_BIN;
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = given ?? versions.map((v) => join(PG_ROOT, v, 'bin')).find((b) => existsSync(join(b, 'initdb')));
  if (bin === undefined || !existsSync(join(bin, 'pg_ctl'))) {
    throw new Error(
      `no PostgreSQL server programs (initdb, pg_ctl) in ${given ?? `${PG_ROOT}/<version>/bin`}: ` +
        "install Debian's postgresql package (as .ci/run does) or set L8_PG_BIN",
    );
  }
  return bin;
}

/** `program args…` as it must run: as the `postgres` user when this process is root. */
function command(program: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [program, [...args]];
  return ['runuser', ['-u', 'postgres', '--', program, ...args]];
}

/** Runs a program (as `postgres` when root) and resolves with its standard output. */
async function run(program: string, args: readonly string[]): Promise<string> {
  const [file, argv] = command(program, args);
  return (await exec(file, argv)).stdout;
}

/** Initializes, starts and prepares a private server (role `l8`, database `l8`). */
export async function privatePg(): Promise<PrivatePg> {
  const bin = pgBin();
  const dir = (await run('mktemp', ['-d', join(tmpdir(), 'l8-pg-XXXXXX')])).trim();
  const server = new Server(bin, dir, await freePort());
  try {
    await run(join(bin, 'initdb'), ['-D', server.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await server.start();
    await server.sql(["CREATE ROLE l8 LOGIN PASSWORD 'l8'", 'CREATE DATABASE l8 OWNER l8']);
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}

/** Invariant: `#running` is true from a successful start to the next stop. */
class Server implements PrivatePg {
  readonly url: string;
  readonly data: string;
  readonly #bin: string;
  readonly #dir: string;
  readonly #port: number;
  #running = false;
  /** Stops a server left running when the process exits (a test that crashed). */
  readonly #onExit = () => this.#stopSync();

  constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.#dir = dir;
    this.#port = port;
    this.data = join(dir, 'data');
    this.url = `postgres://l8:l8@127.0.0.1:${port}/l8`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.#port} -k ${this.#dir} -c listen_addresses=127.0.0.1`;
    const log = join(this.#dir, 'server.log');
    try {
      await this.#ctl(['start', '-w', '-t', '60', '-l', log, '-o', options]);
    } catch (err) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no log)';
      throw new Error(`the private PostgreSQL did not start: ${(err as Error).message}\n${tail}`);
    }
    this.#running = true;
    process.once('exit', this.#onExit);
  }

  async stopImmediate(): Promise<void> {
    await this.#ctl(['stop', '-m', 'immediate', '-w']);
    this.#running = false;
    process.off('exit', this.#onExit);
  }

  async destroy(): Promise<void> {
    if (this.#running) await this.stopImmediate();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Runs statements one by one as the superuser, through the unix socket. */
  async sql(statements: readonly string[]): Promise<void> {
    const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', this.#dir, '-p', String(this.#port), '-d', 'postgres'];
    await run(join(this.#bin, 'psql'), [...args, ...statements.flatMap((s) => ['-c', s])]);
  }

  #ctl(args: readonly string[]): Promise<string> {
    return run(join(this.#bin, 'pg_ctl'), ['-D', this.data, ...args]);
  }

  #stopSync(): void {
    const [file, argv] = command(join(this.#bin, 'pg_ctl'), ['-D', this.data, 'stop', '-m', 'immediate']);
    execFileSync(file, argv, { stdio: 'ignore' });
  }
}
