import type { LinkAddress } from '@layer8/link';
import { l8error, type NodeId, toL8Error } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import { ControlPair } from './control-pair.ts';
import { type FuzzEndpoint, vnetEndpoint } from './endpoints.ts';
import { FuzzLink } from './fuzz-link.ts';
import type { CounterSource, RemoteInfo } from './fuzz-report.ts';
import { ECHO, type Part, type RunIds } from './local-parts.ts';
import type { TargetStats } from './target-config.ts';
import type { FuzzTarget, TargetExit } from './target-process.ts';
import { scrapeVNet } from './vnet-scrape.ts';

/** A VNet that runs already, and how the fuzzer joins it (`l8 chaos fuzz --vnet HOST:PORT`). */
export interface RemoteVNetOptions {
  /** Its TCP address: the fuzzer enters as a member there (TLS with a TLS provider). */
  readonly address: { readonly host: string; readonly port: number };
  /** The fuzzer's membership: a VNic certificate of the overlay (a node bundle), or the dev provider. */
  readonly provider: SecurityProvider;
  /** The certificate of `provider` (PEM): link setups mutated from a challenge carry it. */
  readonly certPem?: string;
  /** Its unix socket, when it runs on this host: a way in as a local VNic too, and the control pair's. */
  readonly socketPath?: string;
  /** A VNet certificate of the overlay: a way in as a peer VNet too. */
  readonly peer?: { readonly provider: SecurityProvider; readonly certPem?: string };
  /** Its Prometheus endpoint (`l8 vnet start --metrics`): its own refusal counters are read there. */
  readonly metricsUrl?: string;
}

/** What the fuzzer cannot see of a process it did not start. */
const UNSEEN = 'RSS and heap (null), exit code and stderr: a crash shows as the VNet no longer answering';

/** Empty counters: a VNet whose endpoint cannot be read, before and after alike. */
const NO_STATS: TargetStats = {
  rss: null,
  heapUsed: null,
  framesIn: 0,
  drops: {},
  closes: {},
  refusedSetups: {},
  faults: {},
};

/** Tries of a fresh link and a probe before a VNet counts as no longer answering. */
const TRIES = 3;

/**
 * A VNet the fuzzer did not start. It cannot see the process: it reads the VNet's counters from its
 * Prometheus endpoint when it has one (else it keeps what it observed on its links), and it takes the
 * VNet for crashed once it stops answering: when the control pair has had no answer for the hang
 * deadline, a fresh link and a probe are tried {@link TRIES} times, each within the deadline.
 *
 * Invariants: `#alive` turns false once, when a check failed; `#watch` runs from construction to {@link stop}.
 */
export class RemoteVNet implements FuzzTarget {
  readonly pid = undefined;
  readonly #o: RemoteVNetOptions;
  readonly #control: ControlPair;
  readonly #probeWay: FuzzEndpoint;
  readonly #hangMs: number;
  readonly #watch: NodeJS.Timeout;
  #alive = true;
  #checking: Promise<boolean> | undefined;
  #metricsError: string | undefined;
  #seq = 0xff00_0000;

  constructor(o: RemoteVNetOptions, control: ControlPair, probeWay: FuzzEndpoint, hangMs: number) {
    this.#o = o;
    this.#control = control;
    this.#probeWay = probeWay;
    this.#hangMs = hangMs;
    this.#watch = setInterval(() => void this.#watchdog(), hangMs).unref();
  }

  /** False once the VNet stopped answering (a check failed). */
  get alive(): boolean {
    return this.#alive;
  }

  /** Where its refusals are read: its endpoint while it answers, else what the fuzzer observed. */
  get counters(): Exclude<CounterSource, 'process'> {
    return this.#o.metricsUrl !== undefined && this.#metricsError === undefined && this.#alive ? 'metrics' : 'observed';
  }

  /** What the report says of the VNet. */
  info(): RemoteInfo {
    const { host, port } = this.#o.address;
    const error = this.#metricsError === undefined ? {} : { metricsError: this.#metricsError };
    return { vnet: `${host}:${port}`, counters: this.counters, ...error, unseen: UNSEEN };
  }

  /** Its counters from its endpoint; none when it has none or it cannot be read (then `counters` is `observed`). */
  async stats(): Promise<TargetStats> {
    if (this.#o.metricsUrl === undefined || this.#metricsError !== undefined) return NO_STATS;
    try {
      return await scrapeVNet(this.#o.metricsUrl, this.#hangMs);
    } catch (err) {
      this.#metricsError = toL8Error(err).message;
      return NO_STATS;
    }
  }

  /** Whether it answers a probe on a fresh link; after {@link TRIES} failures it is taken for crashed. */
  check(): Promise<boolean> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /** How it ended, as far as the fuzzer can tell: it stopped answering (no exit code, no stderr). */
  exited(): Promise<TargetExit> {
    return Promise.resolve({ code: null, signal: null, expected: false, stderr: '', stoppedAnswering: true });
  }

  /** Stops watching; the VNet itself is not the fuzzer's to stop. */
  async stop(): Promise<void> {
    clearInterval(this.#watch);
  }

  async #watchdog(): Promise<void> {
    if (this.#alive && this.#control.silentMs > this.#hangMs) await this.check();
  }

  async #check(): Promise<boolean> {
    for (let i = 0; i < TRIES && this.#alive; i++) {
      if (await this.#answers()) return true;
    }
    this.#alive = false;
    return false;
  }

  /** One fresh link and one probe, within the hang deadline each. */
  async #answers(): Promise<boolean> {
    const started = performance.now();
    try {
      const link = new FuzzLink(await this.#probeWay.open(this.#hangMs), { closeReasons: {}, failCodes: {} });
      const seq = this.#seq++;
      const outcome = await link.probe(this.#probeWay.probe(seq), seq, this.#hangMs);
      link.close();
      return outcome === 'answered';
    } catch {
      // a refused or failed dial: wait out the rest of the deadline before the next try
      await new Promise((r) => setTimeout(r, Math.max(0, this.#hangMs - (performance.now() - started))));
      return false;
    }
  }
}

/** The challenge fields of a proof made of handshake frames for `provider` (docs/protocol.md §6.1). */
function challengeOf(provider: SecurityProvider, certPem: string | undefined): Record<string, unknown> {
  return { provider: provider.name, ...(certPem === undefined ? {} : { cert: certPem }) };
}

/**
 * The part of a running VNet: a control pair joins it first (over its unix socket when given, else over
 * TCP) and tells its id; then the ways in: a member over TCP, a local VNic on the socket when given, a
 * peer VNet with `peer`. @throws the control pair's connect error (L8_ERR_CONNECT, L8_ERR_AUTH …)
 */
export async function remoteVNetPart(o: RemoteVNetOptions, ids: RunIds, hangMs: number): Promise<Part> {
  const node = (id: NodeId) => ({ id, provider: o.provider });
  const at: LinkAddress = o.socketPath === undefined ? o.address : { path: o.socketPath };
  const control = new ControlPair({
    vnet: at,
    server: node(ids.controlServer),
    client: node(ids.controlClient),
    service: ECHO,
    hangMs,
  });
  try {
    await control.start();
  } catch (err) {
    await control.stop();
    throw err;
  }
  const vnet = control.vnetId;
  if (vnet === undefined) throw l8error('L8_ERR_CONNECT', 'the VNet did not say its id');
  const endpoints = ways(o, ids, vnet);
  const member = endpoints[0] as FuzzEndpoint;
  return { role: 'vnet', target: new RemoteVNet(o, control, member, hangMs), endpoints, control };
}

/** The ways into a running VNet: the TCP member first (the one liveness checks use). */
function ways(o: RemoteVNetOptions, ids: RunIds, vnet: NodeId): FuzzEndpoint[] {
  const common = {
    vnet,
    nobody: ids.nobody,
    nodes: [ids.controlServer, ids.controlClient],
    services: [
      { service: ECHO, area: 0 },
      { service: 'chaos.fuzz', area: 0 },
    ],
  };
  const tcp = { host: o.address.host, port: o.address.port };
  const tls = o.provider.name === 'tls';
  const member = vnetEndpoint({
    ...common,
    name: tls ? 'vnet/tls' : 'vnet/tcp',
    address: tcp,
    provider: o.provider,
    pose: 'vnic',
    self: ids.member,
    challenge: challengeOf(o.provider, o.certPem),
    proofFrames: !tls,
  });
  const out = [member];
  if (o.socketPath !== undefined) {
    const challenge = challengeOf(o.provider, o.certPem);
    const unix = { path: o.socketPath };
    out.push(
      vnetEndpoint({
        ...common,
        name: 'vnet/unix',
        address: unix,
        provider: o.provider,
        pose: 'vnic',
        self: ids.local,
        challenge,
        proofFrames: true,
      }),
    );
  }
  if (o.peer !== undefined) {
    const p = o.peer;
    const challenge = challengeOf(p.provider, p.certPem);
    out.push(
      vnetEndpoint({
        ...common,
        name: 'vnet/peer',
        address: tcp,
        provider: p.provider,
        pose: 'peer',
        self: ids.peer,
        challenge,
        proofFrames: p.provider.name !== 'tls',
      }),
    );
  }
  return out;
}
