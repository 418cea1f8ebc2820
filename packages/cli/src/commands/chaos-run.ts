import {
  CHAOS_HEARTBEAT_MS,
  type ChaosReport,
  type ChaosRunOptions,
  chaosRun,
  chaosRunAttached,
  checkSeed,
  type FaultOutcome,
  randomSeed,
} from '@layer8/chaos';
import { l8error } from '@layer8/protocol';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import type { SecurityFlags } from '../providers.ts';
import { table } from '../table.ts';
import { agentSecurity, memberProvider, securityOptions, tcpAddress } from './chaos-join.ts';

interface ChaosRunFlags extends SecurityFlags {
  readonly vnets?: string;
  readonly vnics: string;
  readonly duration: string;
  readonly seed?: string;
  readonly heartbeat?: string;
  readonly rate: string;
  readonly timeout: string;
  readonly vnet: string[];
  readonly socket: string[];
  readonly diskFull?: boolean;
  readonly json?: boolean;
}

/** The heartbeat deadline of a VNet started with the defaults (`l8 vnet start`), ms. */
const VNET_HEARTBEAT_MS = 3000;

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as `l8 chaos run` takes it: a number with a unit (`1500ms`, `60s`, `2m`, `1h`), or a bare
 * number of seconds. @throws L8_ERR_INVALID_ARGUMENT for anything else, zero or negative
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m === null ? Number.NaN : Number(m[1]) * (UNITS[m[2] ?? 's'] as number);
  if (!(ms > 0)) throw l8error('L8_ERR_INVALID_ARGUMENT', `duration ${text} is not like 1500ms, 60s, 2m or 1h`);
  return ms;
}

/** A whole number from `min` to `max` given as option `name`. @throws L8_ERR_INVALID_ARGUMENT otherwise */
function whole(text: string, name: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${name} ${text} is not a whole number from ${min} to ${max}`);
  }
  return n;
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** The options both kinds of run share. @throws L8_ERR_INVALID_ARGUMENT */
function common(flags: ChaosRunFlags, defaultHeartbeat: number) {
  return {
    vnicsPerVnet: whole(flags.vnics, '--vnics', 1, 32),
    durationMs: parseDuration(flags.duration),
    heartbeatMs: whole(flags.heartbeat ?? String(defaultHeartbeat), '--heartbeat', 100, 60_000),
    rate: whole(flags.rate, '--rate', 1, 10_000),
    timeoutMs: whole(flags.timeout, '--timeout', 1, 600_000),
    seed: flags.seed === undefined ? randomSeed() : checkSeed(Number(flags.seed)),
  };
}

/** A run on an overlay of its own: its banner and how it runs. @throws L8_ERR_INVALID_ARGUMENT */
function ownRun(flags: ChaosRunFlags) {
  if (flags.socket.length > 0) throw l8error('L8_ERR_INVALID_ARGUMENT', '--socket goes with --vnet');
  const disk = flags.diskFull === true ? { diskFull: true } : {};
  const o = { ...common(flags, CHAOS_HEARTBEAT_MS), vnets: whole(flags.vnets ?? '3', '--vnets', 2, 32), ...disk };
  const store = flags.diskFull === true ? ', a store on a tmpfs for disk-full' : '';
  const banner = `l8 chaos run: seed ${o.seed}, ${o.vnets} VNets × ${o.vnicsPerVnet} VNics (TLS)${store}, heartbeat ${o.heartbeatMs} ms, ${o.durationMs / 1000} s`;
  return { seed: o.seed, banner, run: (extra: Pick<ChaosRunOptions, 'onProgress'>) => chaosRun({ ...o, ...extra }) };
}

/** A run against the running VNets of `--vnet`: its banner and how it runs. @throws L8_ERR_INVALID_ARGUMENT */
function attachedRun(flags: ChaosRunFlags, io: CliIo) {
  if (flags.vnets !== undefined || flags.diskFull === true)
    throw l8error('L8_ERR_INVALID_ARGUMENT', '--vnets and --disk-full do not go with --vnet');
  const vnets = flags.vnet.map(tcpAddress);
  const security = agentSecurity(flags, io, memberProvider(flags, io));
  const sockets = flags.socket.length > 0 ? { sockets: flags.socket } : {};
  const o = { ...common(flags, VNET_HEARTBEAT_MS), vnets, security, ...sockets };
  const via = flags.socket.length > 0 ? 'unix sockets' : 'TCP through a proxy each';
  const banner = `l8 chaos run: seed ${o.seed}, ${o.vnicsPerVnet} VNics on each of ${flags.vnet.join(', ')} (over ${via}), heartbeat ${o.heartbeatMs} ms, ${o.durationMs / 1000} s`;
  return {
    seed: o.seed,
    banner,
    run: (extra: Pick<ChaosRunOptions, 'onProgress'>) => chaosRunAttached({ ...o, ...extra }),
  };
}

/**
 * `l8 chaos run`: starts VNets on 127.0.0.2, 127.0.0.3, … with the TLS provider and a temporary overlay
 * CA, VNic processes on each, drives request and multicast load and injects the seed's faults; or, with
 * `--vnet HOST:PORT` (repeatable) and a node bundle, starts only its VNic processes on those running
 * VNets and injects only the faults it owns (its processes, their links). Prints the report
 * (docs/reliability.md). Fails (exit 1, `L8_ERR_INTERNAL`) when a check of what must hold fails.
 */
export function chaosRunCommand(parent: Command, io: CliIo): void {
  securityOptions(
    parent
      .command('run')
      .description('run a real overlay under load and faults (kill -9, partition, latency, loss, pause) and report')
      .option('--vnets <n>', 'VNet processes, one per loopback host (127.0.0.2, …) (default 3)')
      .option('--vnics <n>', 'VNic processes per VNet', '4')
      .option('--duration <time>', 'how long the run lasts at least (1500ms, 60s, 2m)', '60s')
      .option('--seed <n>', 'seed of the fault schedule: the same seed replays the same faults (default: random)')
      .option(
        '--heartbeat <ms>',
        `heartbeat deadline of every link (default ${CHAOS_HEARTBEAT_MS}; with --vnet give the VNets', default ${VNET_HEARTBEAT_MS})`,
      )
      .option('--rate <n>', 'requests per second per VNic', '20')
      .option('--timeout <ms>', 'deadline of every request', '2000')
      .option(
        '--vnet <host:port>',
        'run against this running VNet instead (repeatable; with a node bundle)',
        collect,
        [],
      )
      .option(
        '--socket <path>',
        "with --vnet: attach the VNics to the VNet's unix socket (one per --vnet, in order)",
        collect,
        [],
      )
      .option('--disk-full', 'add disk-full faults: a store on SQLite on a tmpfs the run mounts (needs root)'),
  )
    .option('--json', 'print the report as one JSON object')
    .action(async (flags: ChaosRunFlags) => {
      const r = flags.vnet.length > 0 ? attachedRun(flags, io) : ownRun(flags);
      const say = flags.json === true ? () => undefined : io.out;
      say(r.banner);
      const report = await r.run({ onProgress: (line) => say(`  ${line}`) });
      io.out(flags.json === true ? JSON.stringify(report) : render(report));
      const failed = report.checks.filter((c) => !c.ok);
      if (failed.length > 0) {
        const what = failed.map((c) => `${c.name}: ${c.value}`).join('; ');
        throw l8error('L8_ERR_INTERNAL', `chaos run seed ${r.seed}: ${failed.length} checks failed (${what})`);
      }
    });
}

/** The report as text: the operations, the faults and the checks. */
export function render(r: ChaosReport): string {
  const codes =
    Object.entries(r.failedByCode)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ') || 'none';
  const m = r.multicast;
  const ops = table(
    ['OPERATIONS', ''],
    [
      ['requests', String(r.requests)],
      ['answered', `${r.answered} (p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms)`],
      ['failed by code', codes],
      ['lost', String(r.lost)],
      ['abandoned (requester killed)', String(r.abandoned)],
      ['duplicates', String(r.duplicates)],
      ['multicasts', `${m.sent} sent, ${m.delivered} copies delivered, ${m.duplicates} twice`],
      ['crashes', r.crashed.map((c) => `${c.alias} (${c.signal ?? c.code})`).join(', ') || '0'],
      ['spurious losses', `${r.spurious} (nodes seen down that no fault explains)`],
      ...diskRow(r),
      ['hostile joins', `${r.hostile.refused} of ${r.hostile.attempts} refused`],
      ['largest event-loop delay', `${r.maxLagMs} ms`],
      [
        'health tables',
        `${r.health.identical ? 'identical' : 'DIFFERENT'}: ${r.health.tables} tables of ${r.health.nodes} nodes`,
      ],
    ],
  );
  const faults = table(
    ['FAULT', 'TARGET', 'HOLD', 'AT', 'DETECT', 'RECOVER', 'CONVERGE', 'SPURIOUS'],
    r.faults.map(faultRow),
  );
  const checks = table(
    ['CHECK', 'VALUE', 'OK'],
    r.checks.map((c) => [c.name, c.value, c.ok ? 'yes' : 'NO']),
  );
  const tail = `seed ${r.seed}: ${r.ok ? 'every check passed' : 'CHECKS FAILED'} (replay: l8 chaos run --seed ${r.seed}${replayWhere(r)})`;
  return [ops, '', faults, '', ...leftOut(r), checks, '', tail].join('\n');
}

/** The writes to the chaos store under full disks, when there were any. */
function diskRow(r: ChaosReport): string[][] {
  const d = r.disk;
  if (d === undefined) return [];
  const storage = d.refusedByCode.L8_ERR_STORAGE ?? 0;
  return [
    [
      'full disk (store writes)',
      `${storage} of ${d.heldWrites} refused L8_ERR_STORAGE while full; ${d.lostAcknowledged} of ${d.acknowledged} acknowledged lost; ${d.phantoms} refused and kept`,
    ],
  ];
}

function replayWhere(r: ChaosReport): string {
  const a = r.setup.attached;
  if (a !== undefined) return ` ${a.vnets.map((v) => `--vnet ${v}`).join(' ')}`;
  const disk = r.disk !== undefined || r.setup.leftOut?.['disk-full'] !== undefined;
  return disk ? ' --disk-full' : '';
}

/** The kinds left out of the schedule and why, one line each and a blank line (nothing when none was). */
function leftOut(r: ChaosReport): string[] {
  const lines = Object.entries(r.setup.leftOut ?? {}).map(([kind, why]) => `not injected: ${kind} (${why})`);
  return lines.length === 0 ? [] : [...lines, ''];
}

function faultRow(f: FaultOutcome): string[] {
  const row = [f.kind, f.target, `${f.holdMs} ms`, `+${f.atMs} ms`, ms(f.detectMs), ms(f.recoverMs), ms(f.convergeMs)];
  return [...row, f.error === undefined ? String(f.spurious) : `${f.spurious}  error: ${f.error}`];
}

function ms(v: number | null | undefined): string {
  return v === undefined ? '-' : v === null ? 'MISSED' : `${v} ms`;
}
