import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { chaosFuzzCommand } from './chaos-fuzz.ts';
import { chaosRunCommand } from './chaos-run.ts';

/** Registers `l8 chaos …`: the fault-injecting load runner and the frame fuzzer (docs/reliability.md). */
export function chaosCommand(program: Command, io: CliIo): void {
  const chaos = program
    .command('chaos')
    .description('run the overlay under faults and fuzz its frames (docs/reliability.md)');
  chaosRunCommand(chaos, io);
  chaosFuzzCommand(chaos, io);
}
