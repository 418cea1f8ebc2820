import {
  checkSeed,
  type FuzzOptions,
  type FuzzReport,
  type RemoteVNetOptions,
  randomSeed,
  runFuzz,
  type TargetReport,
} from '@layer8/chaos';
import { l8error } from '@layer8/protocol';
import { TlsProvider } from '@layer8/security';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import type { SecurityFlags } from '../providers.ts';
import { table } from '../table.ts';
import { certificatePem, memberProvider, nodeName, securityOptions, tcpAddress } from './chaos-join.ts';

interface ChaosFuzzFlags extends SecurityFlags {
  readonly frames: string;
  readonly seed?: string;
  readonly target?: string;
  readonly tls?: boolean;
  readonly hang: string;
  readonly host?: string;
  readonly vnet?: string;
  readonly socket?: string;
  readonly metrics?: string;
  readonly peerNode?: string;
  readonly json?: boolean;
}

const TARGETS = ['vnet', 'vnic', 'both'] as const;

/** A whole number from `min` to `max` given as option `name`. @throws L8_ERR_INVALID_ARGUMENT otherwise */
function count(text: string, name: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${name} ${text} is not a whole number from ${min} to ${max}`);
  }
  return n;
}

function targetOf(text: string): (typeof TARGETS)[number] {
  const t = TARGETS.find((x) => x === text);
  if (t === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', `--target ${text} is not one of ${TARGETS.join(', ')}`);
  return t;
}

/**
 * The running VNet of `--vnet`, joined with the security options (a VNic certificate; `--peer-node` a
 * VNet certificate of the same directory). @throws L8_ERR_INVALID_ARGUMENT for options that do not fit
 */
export function remoteVNetOf(flags: ChaosFuzzFlags, io: CliIo): RemoteVNetOptions {
  if (flags.tls === true || flags.host !== undefined || (flags.target ?? 'vnet') !== 'vnet') {
    throw l8error('L8_ERR_INVALID_ARGUMENT', '--vnet fuzzes that VNet alone: --tls, --host and --target do not apply');
  }
  const provider = memberProvider(flags, io);
  const certPem = certificatePem(provider, nodeName(flags, io));
  return {
    address: tcpAddress(flags.vnet as string),
    provider,
    ...(certPem === undefined ? {} : { certPem }),
    ...(flags.socket === undefined ? {} : { socketPath: flags.socket }),
    ...(flags.metrics === undefined ? {} : { metricsUrl: flags.metrics }),
    ...(flags.peerNode === undefined ? {} : { peer: peerOf(flags, io, provider) }),
  };
}

function peerOf(
  flags: ChaosFuzzFlags,
  io: CliIo,
  member: RemoteVNetOptions['provider'],
): NonNullable<RemoteVNetOptions['peer']> {
  const node = flags.peerNode as string;
  if (!(member instanceof TlsProvider)) return { provider: member };
  const provider = memberProvider({ ...flags, node }, io, 'vnet');
  const certPem = certificatePem(provider, node);
  return { provider, ...(certPem === undefined ? {} : { certPem }) };
}

/** The run's options from the flags. @throws L8_ERR_INVALID_ARGUMENT */
function fuzzOptions(flags: ChaosFuzzFlags, io: CliIo): FuzzOptions & { target: string } {
  const common = {
    frames: count(flags.frames, '--frames', 1, 1e9),
    seed: flags.seed === undefined ? randomSeed() : checkSeed(Number(flags.seed)),
    hangMs: count(flags.hang, '--hang', 100, 600_000),
  };
  if (flags.vnet !== undefined) return { ...common, target: 'vnet', vnet: remoteVNetOf(flags, io) };
  if (flags.socket !== undefined || flags.metrics !== undefined || flags.peerNode !== undefined)
    throw l8error('L8_ERR_INVALID_ARGUMENT', '--socket, --metrics and --peer-node go with --vnet');
  const local = { target: targetOf(flags.target ?? 'both'), tls: flags.tls === true };
  return { ...common, ...local, host: flags.host ?? '127.0.0.2' };
}

function banner(o: FuzzOptions & { target: string }): string {
  const what = o.vnet === undefined ? o.target : `the VNet at ${o.vnet.address.host}:${o.vnet.address.port}`;
  const how =
    o.vnet === undefined
      ? o.tls
        ? 'TLS'
        : 'dev provider (plain TCP)'
      : `${o.vnet.provider.name === 'tls' ? 'TLS' : 'dev provider'}, its counters ${o.vnet.metricsUrl === undefined ? 'as observed' : `from ${o.vnet.metricsUrl}`}`;
  return `l8 chaos fuzz: seed ${o.seed}, ${o.frames} frames into ${what}, ${how}`;
}

/**
 * `l8 chaos fuzz`: starts a VNet and a VNic in processes of their own on a loopback address, with a CA
 * made for the run (`--tls`) or the dev provider (plain TCP), or joins a VNet that runs already
 * (`--vnet HOST:PORT` with a node bundle), and sends `--frames` structure-aware mutations of valid
 * frames through real links, while a control pair of VNics keeps calling each other through the VNet
 * (docs/reliability.md, "Frame fuzzer"). Prints the report; fails (exit 1, `L8_ERR_INTERNAL`) when a
 * target crashed (or, a running VNet, stopped answering) or hung.
 */
export function chaosFuzzCommand(parent: Command, io: CliIo): void {
  securityOptions(
    parent
      .command('fuzz')
      .description(
        'send mutated frames into a VNet and a VNic through real links; report crashes, hangs, refusals, memory',
      )
      .option('--frames <n>', 'fuzz frames in total, split over the ways into the targets', '100000')
      .option('--seed <n>', 'seed of every frame: the same seed replays the same frames (default: random)')
      .option('--target <which>', 'vnet, vnic or both (default both)')
      .option('--tls', 'TLS provider with a CA made for the run (default: dev provider, plain TCP)')
      .option('--hang <ms>', 'a target that does not serve for this long has hung', '5000')
      .option('--host <addr>', 'loopback address the targets listen on (default 127.0.0.2)')
      .option('--vnet <host:port>', 'fuzz this running VNet (joined with --security/--node or a dev option)')
      .option('--socket <path>', "with --vnet: the VNet's unix socket on this host, a way in too")
      .option('--metrics <url>', "with --vnet: the VNet's /metrics (l8 vnet start --metrics), to read its counters")
      .option('--peer-node <name>', 'with --vnet: a VNet certificate in the same directory, to enter as a peer too'),
  )
    .option('--json', 'print the report as one JSON object')
    .action(async (flags: ChaosFuzzFlags) => {
      const o = fuzzOptions(flags, io);
      if (flags.json !== true) io.out(banner(o));
      const report = await runFuzz(o);
      io.out(flags.json === true ? JSON.stringify(report) : renderFuzz(report, o.target));
      if (report.crashes > 0 || report.hangs > 0) {
        throw l8error('L8_ERR_INTERNAL', `chaos fuzz seed ${o.seed}: ${report.crashes} crashes, ${report.hangs} hangs`);
      }
    });
}

const MB = 1024 * 1024;

function codes(m: Readonly<Record<string, number>>): string {
  const e = Object.entries(m).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? 'none' : e.map(([c, n]) => `${c} ${n}`).join(', ');
}

function crashOf(t: TargetReport): string {
  if (t.crash === undefined) return 'no';
  return t.crash.stoppedAnswering === true ? 'stopped answering' : `exited ${t.crash.signal ?? t.crash.code}`;
}

function targetRow(t: TargetReport): string[] {
  const mb = (v: number | null): string => (v === null ? '?' : (v / MB).toFixed(0));
  const rss = t.rssBefore === null ? 'not seen' : `${mb(t.rssBefore)} → ${mb(t.rssAfter)} MB`;
  return [t.role, String(t.framesIn), rss, crashOf(t), codes(t.faults)];
}

function replay(r: FuzzReport, target: string): string {
  const where = r.remote === undefined ? ` --target ${target}${r.tls ? ' --tls' : ''}` : ` --vnet ${r.remote.vnet}`;
  return `l8 chaos fuzz --frames ${r.framesRequested} --seed ${r.seed}${where}`;
}

/** The report as text: frames and links, each target, what was refused by code, the control pair. */
export function renderFuzz(r: FuzzReport, target: string): string {
  const c = r.control;
  const control =
    c === undefined
      ? 'none (VNet not fuzzed)'
      : `${c.answered} of ${c.requests} answered, longest gap ${c.longestGapMs} ms, ${c.stalls} stalls`;
  return [
    `frames sent       ${r.framesSent} (${(r.bytesSent / MB).toFixed(1)} MB) in ${(r.durationMs / 1000).toFixed(1)} s`,
    `links             ${r.links}: ${r.linksCut} cut by a target, ${r.linksEndedByFuzzer} ended after a desync`,
    `control pair      ${control}`,
    `crashes           ${r.crashes}`,
    `hangs             ${r.hangs}`,
    '',
    table(['TARGET', 'FRAMES IN', 'RSS', 'CRASHED', 'FAULTS'], r.targets.map(targetRow)),
    '',
    ...(r.remote === undefined
      ? []
      : [
          `counters          ${r.remote.counters}${r.remote.metricsError ? ` (${r.remote.metricsError})` : ''}`,
          `not seen          ${r.remote.unseen}`,
          '',
        ]),
    table(
      ['REJECTED BY CODE', ''],
      Object.entries(r.rejectedByCode)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => [k, String(n)]),
    ),
    '',
    `link setups       ${codes(r.setups)}`,
    `replay with       ${replay(r, target)}`,
  ].join('\n');
}
