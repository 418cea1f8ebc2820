/**
 * The NATS systems of the overlay benchmark: `nats`, nats.js v2 against a plaintext nats-server, and
 * `nats-tls`, the same cases against a second nats-server that requires TLS, so that Layer8's rows over
 * TLS have a peer over TLS. Its certificate (P-256, for 127.0.0.1) is signed by a throwaway CA made with
 * the openssl CLI in the run's temporary directory; the clients verify it against that CA. One server per
 * system, shared by its setups (a request/stream pair and a 1 → 9 fan-out, in worker processes).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { script } from './ext.ts';
import { type BenchRow, say } from './harness.ts';
import type { Lane } from './overlay-lanes.ts';
import type { NatsArgs } from './overlay-nats.ts';
import type { Child, Fleet } from './overlay-proc.ts';
import {
  type Fanout,
  fanoutOf,
  forkAll,
  guarded,
  NATS_SERVER,
  type NatsServer,
  natsInstalled,
  type Pair,
  pairOf,
  startNatsServer,
} from './overlay-systems.ts';

const NATS = script('overlay-nats');
/** The NATS systems: plaintext, and TLS between every client and the server. */
export const NATS_SYSTEMS = ['nats', 'nats-tls'] as const;
/** One of {@link NATS_SYSTEMS}. */
export type NatsSystem = (typeof NATS_SYSTEMS)[number];
const NATS_CASES = ['req-seq-local', 'req-c100-local', 'stream-oneway', 'multicast-9'];

/** A running nats-server of one system, and the CA file its clients verify it by when it requires TLS. */
export interface NatsEndpoint extends NatsServer {
  readonly system: NatsSystem;
  readonly caFile?: string;
}

/** What starting the servers needs from the benchmark's run; skipped rows go to `rows`. */
export interface NatsRun {
  readonly fleet: Fleet;
  readonly only: ReadonlySet<string>;
  readonly cases: ReadonlySet<string>;
  /** A temporary directory of the run (removed by it): the TLS material goes in `dir/nats-tls`. */
  readonly dir: string;
  readonly rows: BenchRow[];
}

/**
 * Starts one nats-server for each NATS system in `run.only` that has a case in `run.cases`; a system
 * whose server cannot start (not installed, no TLS material) gets its rows skipped with the reason.
 */
export async function startNatsServers(run: NatsRun): Promise<NatsEndpoint[]> {
  const wanted = NATS_CASES.some((c) => run.cases.has(c)) ? NATS_SYSTEMS.filter((s) => run.only.has(s)) : [];
  if (wanted.length > 0 && !natsInstalled()) {
    say(`nats-server not found at ${NATS_SERVER}: install it with \`apt-get install nats-server\``);
    for (const s of wanted) skip(run, s, `${NATS_SERVER} not installed`);
    return [];
  }
  const out: NatsEndpoint[] = [];
  for (const system of wanted) {
    try {
      out.push(await start(run, system));
    } catch (err) {
      skip(run, system, `error: ${(err as Error).message}`);
    }
  }
  return out;
}

async function start(run: NatsRun, system: NatsSystem): Promise<NatsEndpoint> {
  if (system === 'nats') return { ...(await startNatsServer(run.fleet)), system };
  const tls = natsTlsFiles(join(run.dir, 'nats-tls'));
  const server = await startNatsServer(run.fleet, ['--tls', '--tlscert', tls.cert, '--tlskey', tls.key]);
  return { ...server, system, caFile: tls.ca };
}

function skip(run: NatsRun, system: NatsSystem, why: string): void {
  say(`${system}: ${why}`);
  for (const c of NATS_CASES.filter((c) => run.cases.has(c))) run.rows.push({ system, case: c, skipped: why });
}

/**
 * Writes a throwaway CA and a server certificate for 127.0.0.1 and localhost signed by it (P-256 keys,
 * valid one day) into `dir` with the openssl CLI; answers the paths of the PEM files. Throws when openssl
 * fails.
 */
export function natsTlsFiles(dir: string): { ca: string; cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const f = (name: string): string => join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'];
  const caOut = ['-keyout', f('ca.key'), '-out', f('ca.pem')];
  openssl(['req', '-x509', ...key, '-days', '1', '-subj', '/CN=bench nats CA', ...caExt, ...caOut]);
  openssl(['req', ...key, '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr')]);
  // nats.js upgrades its socket to TLS with no server name for an IP, so Node checks the name `localhost`.
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const ca = ['-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-extfile', f('server.ext')];
  openssl(['x509', '-req', '-in', f('server.csr'), ...ca, '-days', '1', '-out', f('server.pem')]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** One lane per started server (`nats`, `nats-tls`) that builds `setup` against it. */
export function natsLanes<S extends Pair | Fanout>(
  fleet: Fleet,
  servers: readonly NatsEndpoint[],
  setup: (fleet: Fleet, server: NatsEndpoint) => Promise<S>,
): Lane<S>[] {
  return servers.map((s) => ({
    system: s.system,
    setup: () => setup(fleet, s),
    tags: s.caFile === undefined ? { server: s.version } : { server: s.version, security: 'tls' },
  }));
}

/** Where a client process reaches `server` (with the CA to verify it when it requires TLS). */
function reach(server: NatsEndpoint): Pick<NatsArgs, 'port' | 'caFile'> {
  return server.caFile === undefined ? { port: server.port } : { port: server.port, caFile: server.caFile };
}

/** A requester and a responder connection (echo + stream sink), each in its own process. */
export function natsPair(fleet: Fleet, server: NatsEndpoint): Promise<Pair> {
  return guarded(fleet, async (children) => {
    const [requester, responder] = await forkAll(fleet, children, NATS, ['nats-requester', 'nats-responder']);
    if (responder === undefined || requester === undefined) throw new Error('fork failed');
    await responder.call('connect', { ...reach(server), count: 1, services: { echo: 'echo', st: 'sink' } });
    await requester.call('connect', { ...reach(server), count: 1, services: {} });
    return pairOf(children, [server.pid], requester, responder, {
      requests: (concurrency) => requester.call('requests', { subject: 'echo', concurrency }),
      stream: () => requester.call('publish', { subject: 'st' }),
    });
  });
}

/** A publisher and nine subscriber connections on one subject, three per process. */
export function natsFanout(fleet: Fleet, server: NatsEndpoint): Promise<Fanout> {
  return guarded(fleet, async (children) => {
    const roles = ['nats-pub', 'nats-subs-0', 'nats-subs-1', 'nats-subs-2'];
    const [publisher, ...sinks] = await forkAll(fleet, children, NATS, roles);
    const subs = { ...reach(server), count: 3, services: { mc: 'sink' } };
    await Promise.all(sinks.map((c) => c.call('connect', subs)));
    await (publisher as Child).call('connect', { ...reach(server), count: 1, services: {} });
    const publish = (): Promise<unknown> => (publisher as Child).call('publish', { subject: 'mc' });
    return fanoutOf(children, [server.pid], publisher as Child, sinks, publish);
  });
}
