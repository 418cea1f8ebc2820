import { checkSeed, type FuzzReport, randomSeed, runFuzz, type TargetReport } from '@layer8/chaos';
import { l8error } from '@layer8/protocol';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { table } from '../table.ts';

interface ChaosFuzzFlags {
  readonly frames: string;
  readonly seed?: string;
  readonly target: string;
  readonly tls?: boolean;
  readonly hang: string;
  readonly host: string;
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
 * `l8 chaos fuzz`: starts a VNet and a VNic in processes of their own on a loopback address, with a CA
 * made for the run (`--tls`) or the dev provider (plain TCP), and sends them `--frames` structure-aware
 * mutations of valid frames through real links, while a control pair of VNics keeps calling each other
 * through the VNet (docs/reliability.md, "Frame fuzzer"). Prints the report; fails (exit 1,
 * `L8_ERR_INTERNAL`) when a target crashed or hung.
 */
export function chaosFuzzCommand(parent: Command, io: CliIo): void {
  parent
    .command('fuzz')
    .description(
      'send mutated frames into a VNet and a VNic through real links; report crashes, hangs, refusals, memory',
    )
    .option('--frames <n>', 'fuzz frames in total, split over the ways into the targets', '100000')
    .option('--seed <n>', 'seed of every frame: the same seed replays the same frames (default: random)')
    .option('--target <which>', 'vnet, vnic or both', 'both')
    .option('--tls', 'TLS provider with a CA made for the run (default: dev provider, plain TCP)')
    .option('--hang <ms>', 'a target that does not serve for this long has hung', '5000')
    .option('--host <addr>', 'loopback address the targets listen on', '127.0.0.2')
    .option('--json', 'print the report as one JSON object')
    .action(async (flags: ChaosFuzzFlags) => {
      const seed = flags.seed === undefined ? randomSeed() : checkSeed(Number(flags.seed));
      const o = {
        frames: count(flags.frames, '--frames', 1, 1e9),
        seed,
        target: targetOf(flags.target),
        tls: flags.tls === true,
        hangMs: count(flags.hang, '--hang', 100, 600_000),
        host: flags.host,
      };
      if (flags.json !== true) {
        io.out(
          `l8 chaos fuzz: seed ${seed}, ${o.frames} frames into ${o.target}, ${o.tls ? 'TLS' : 'dev provider (plain TCP)'}`,
        );
      }
      const report = await runFuzz(o);
      io.out(flags.json === true ? JSON.stringify(report) : renderFuzz(report, o.target));
      if (report.crashes > 0 || report.hangs > 0) {
        throw l8error('L8_ERR_INTERNAL', `chaos fuzz seed ${seed}: ${report.crashes} crashes, ${report.hangs} hangs`);
      }
    });
}

const MB = 1024 * 1024;

function codes(m: Readonly<Record<string, number>>): string {
  const e = Object.entries(m).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? 'none' : e.map(([c, n]) => `${c} ${n}`).join(', ');
}

function targetRow(t: TargetReport): string[] {
  const crash = t.crash === undefined ? 'no' : `exited ${t.crash.signal ?? t.crash.code}`;
  const rss = `${(t.rssBefore / MB).toFixed(0)} → ${(t.rssAfter / MB).toFixed(0)} MB`;
  return [t.role, String(t.framesIn), rss, crash, codes(t.faults)];
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
    table(
      ['REJECTED BY CODE', ''],
      Object.entries(r.rejectedByCode)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => [k, String(n)]),
    ),
    '',
    `link setups       ${codes(r.setups)}`,
    `replay with       l8 chaos fuzz --frames ${r.framesRequested} --seed ${r.seed} --target ${target}${r.tls ? ' --tls' : ''}`,
  ].join('\n');
}
