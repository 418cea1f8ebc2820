import { exportNodeBundle } from '@layer8/security';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';

interface ExportFlags {
  readonly dir: string;
  readonly node: string;
  readonly out: string;
  readonly tokenSigner?: boolean;
  readonly overwrite?: boolean;
}

/**
 * `l8 security export --dir D --node N --out OUT`: copies only what node N needs out of the issuing
 * authority's directory (no `ca.key`, no `token.key` unless `--token-signer`).
 */
export function securityExportCommand(parent: Command, io: CliIo): void {
  parent
    .command('export')
    .description("write a node's bundle: ca.crt, its certificate and key, token.pub, revoked.json, acl.json")
    .requiredOption('--dir <dir>', 'the issuing authority directory (made by `l8 security init`)')
    .requiredOption('--node <name>', 'the node whose bundle to write')
    .requiredOption('--out <dir>', 'where to write it (created 0700; files 0600)')
    .option('--token-signer', 'also copy token.key and users.json (only for the node that logs users in)')
    .option('--overwrite', 'refresh an existing bundle (e.g. after a revocation)')
    .action((flags: ExportFlags) => {
      const b = exportNodeBundle(flags.dir, flags.node, flags.out, {
        ...(flags.tokenSigner ? { tokenSigner: true } : {}),
        ...(flags.overwrite ? { overwrite: true } : {}),
      });
      io.out(`${b.role} ${b.node}: ${b.files.join(', ')} in ${b.dir}`);
    });
}
