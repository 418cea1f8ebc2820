import { toL8Error } from '@layer8/protocol';
import { Command } from 'commander';
import { callCommand } from './commands/call.ts';
import { chaosCommand } from './commands/chaos.ts';
import { demoCommand } from './commands/demo.ts';
import { gatewayStartCommand } from './commands/gateway-start.ts';
import { healthCommand, servicesCommand } from './commands/inspect.ts';
import { securityExportCommand } from './commands/security-export.ts';
import { securityInitCommand, securityIssueCommand } from './commands/security-init.ts';
import { topCommand } from './commands/top.ts';
import { usersCommand } from './commands/users.ts';
import { vnetStartCommand } from './commands/vnet-start.ts';
import type { CliIo } from './io.ts';

/** Builds the `l8` command tree over `io`. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('l8').description('Layer8: secure microservice messaging on Node.js').exitOverride();
  vnetStartCommand(program.command('vnet').description('run and manage the VNet (switch) of this host'), io);
  const security = program.command('security').description('overlay CA, certificates and node bundles');
  securityInitCommand(security, io);
  securityIssueCommand(security, io);
  securityExportCommand(security, io);
  usersCommand(program, io);
  healthCommand(program, io);
  servicesCommand(program, io);
  topCommand(program, io);
  callCommand(program, io);
  demoCommand(program, io);
  chaosCommand(program, io);
  gatewayStartCommand(program.command('gateway').description('run the REST and OpenAPI gateway of the overlay'), io);
  return program;
}

/** Runs `l8` with `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return e.exitCode ?? 1;
    const l8 = toL8Error(err, 'L8_ERR_INTERNAL');
    io.warn(`l8: ${l8.code}: ${l8.message}`);
    return 1;
  }
}
