import { setTimeout as sleep } from 'node:timers/promises';
import { SystemFeed, type SystemView } from '@layer8/gateway';
import { l8error } from '@layer8/protocol';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { table } from '../table.ts';
import { type JoinFlags, joinOptions, withVNic } from './inspect.ts';

interface TopFlags extends JoinFlags {
  readonly interval: string;
  readonly frames?: string;
}

/** Clears the terminal and puts the cursor home, so each frame replaces the last. */
const HOME = '\u001b[H\u001b[2J';

/** `l8 top`: a live view of the overlay (VNets, nodes with load, services, rates, status changes). */
export function topCommand(program: Command, io: CliIo): void {
  joinOptions(program.command('top').description('a live view of the overlay: nodes, load, services, rates, events'))
    .option('--interval <ms>', 'refresh interval', '2000')
    .option('--frames <n>', 'stop after N frames (default: until Ctrl-C)')
    .action(async (flags: TopFlags) => {
      const interval = positive(flags.interval, '--interval');
      const frames = flags.frames === undefined ? Number.POSITIVE_INFINITY : positive(flags.frames, '--frames');
      const live = flags.json !== true && process.stdout.isTTY === true;
      await withVNic(flags, io, async (vnic) => {
        const feed = new SystemFeed(vnic.health);
        const stopped = io.untilStopped().then(() => true);
        try {
          for (let i = 0; i < frames; i++) {
            if (i > 0 && (await Promise.race([stopped, sleep(interval).then(() => false)]))) break;
            const view = feed.view();
            io.out(flags.json === true ? JSON.stringify(view) : `${live ? HOME : ''}${render(view)}`);
          }
        } finally {
          feed.close();
        }
      });
    });
}

/** One frame of `l8 top` as text. */
export function render(v: SystemView): string {
  const t = v.totals;
  const head = `layer8 top  ${new Date(v.at).toISOString()}  nodes up ${t.up}, unreachable ${t.unreachable}  VNets ${v.vnets.length}, links ${v.links.length}  ${rate(t.framesPerSec)} frames/s  ${bytes(t.bytesPerSec)}/s`;
  const nodes = table(
    ['ALIAS', 'ROLE', 'STATUS', 'CPU', 'RSS', 'LOOP', 'FRAMES/S', 'BYTES/S', 'UP', 'SERVICES'],
    v.nodes.map((n) => [
      n.alias,
      n.role,
      n.status,
      `${n.cpuPct}%`,
      `${Math.round(n.rssMB)} MB`,
      `${n.loopDelayMs} ms`,
      rate(n.framesPerSec),
      bytes(n.bytesPerSec),
      `${n.uptimeS}s`,
      n.services.filter((s) => !s.service.endsWith('.changes')).length.toString(),
    ]),
  );
  const services = table(
    ['SERVICE', 'AREA', 'INSTANCES'],
    v.services.map((s) => [s.service, String(s.area), s.instances.map((i) => `${i.alias} (${i.state})`).join(', ')]),
  );
  const events = v.events
    .slice(0, 5)
    .map((e) => `  ${new Date(e.at).toISOString().slice(11, 19)} ${e.alias} ${e.type}`);
  return [head, '', nodes, '', services, '', 'recent events:', ...(events.length ? events : ['  none'])].join('\n');
}

function positive(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${name} ${text} is not a positive integer`);
  return n;
}

function rate(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n));
}

function bytes(n: number): string {
  if (n >= 1_048_576) return `${(n / 1_048_576).toFixed(1)} MB`;
  return n >= 1024 ? `${Math.round(n / 1024)} KB` : `${Math.round(n)} B`;
}
