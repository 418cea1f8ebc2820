import { initSecurity, type KeyAlgorithm } from '@layer8/security';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';

interface InitFlags {
  readonly dir: string;
  readonly node: string[];
  readonly algorithm: KeyAlgorithm;
  readonly days: string;
  readonly overwrite?: boolean;
}

/** `l8 security init --dir D`: makes an overlay CA and per-node certificates. */
export function securityInitCommand(parent: Command, io: CliIo): void {
  parent
    .command('init')
    .description('create an overlay CA and per-node certificates in a directory')
    .requiredOption('--dir <dir>', 'directory to write ca.crt, ca.key and <node>.crt/.key into')
    .option(
      '--node <name>',
      'node to issue a certificate for (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--algorithm <alg>', 'P-256 or Ed25519', 'P-256')
    .option('--days <n>', 'validity of the certificates in days', '365')
    .option('--overwrite', 'replace an existing CA in the directory')
    .action(async (flags: InitFlags) => {
      const r = await initSecurity({
        dir: flags.dir,
        nodes: flags.node,
        algorithm: flags.algorithm,
        validDays: Number(flags.days),
        ...(flags.overwrite ? { overwrite: true } : {}),
      });
      io.out(`overlay CA ${r.caFingerprint} (${r.algorithm}) in ${r.dir}`);
      for (const n of r.nodes) io.out(`  node ${n.name}: ${n.certFile}`);
    });
}
