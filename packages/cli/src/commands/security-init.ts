import { initSecurity, issueNodeCert, type KeyAlgorithm } from '@layer8/security';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { defaultNodeName } from '../providers.ts';

interface InitFlags {
  readonly dir: string;
  readonly node: string[];
  readonly vnet: string[];
  readonly algorithm: KeyAlgorithm;
  readonly days: string;
  readonly overwrite?: boolean;
}

type IssueFlags = Omit<InitFlags, 'algorithm' | 'overwrite'>;

const repeat = (v: string, acc: string[]): string[] => [...acc, v];

/** Adds the repeatable `--node` / `--vnet` options and the validity option. */
function certOptions(cmd: Command): Command {
  return cmd
    .option('--node <name>', 'VNic (service, CLI, gateway) to issue a certificate for (repeatable)', repeat, [])
    .option('--vnet <name>', 'VNet (switch) to issue a VNet certificate for (repeatable)', repeat, [])
    .option('--days <n>', 'validity of the certificates in days', '825');
}

/**
 * `l8 security init --dir D`: makes an overlay CA and per-node certificates (VNics and VNets); with no
 * `--node` or `--vnet`, a VNet certificate for this host (`L8_NODE` or the host name).
 */
export function securityInitCommand(parent: Command, io: CliIo): void {
  certOptions(
    parent
      .command('init')
      .description('create an overlay CA and per-node certificates in a directory')
      .requiredOption('--dir <dir>', 'directory to write ca.crt, ca.key and <node>.crt/.key into'),
  )
    .option('--algorithm <alg>', 'P-256 or Ed25519', 'P-256')
    .option('--overwrite', 'replace an existing CA in the directory')
    .action(async (flags: InitFlags) => {
      // with no names, this host's VNet: `l8 vnet start --security D` then works as printed
      const vnets = flags.node.length === 0 && flags.vnet.length === 0 ? [defaultNodeName(io.env)] : flags.vnet;
      const r = await initSecurity({
        dir: flags.dir,
        nodes: flags.node,
        vnets,
        algorithm: flags.algorithm,
        validDays: Number(flags.days),
        ...(flags.overwrite ? { overwrite: true } : {}),
      });
      io.out(`overlay CA ${r.caFingerprint} (${r.algorithm}) in ${r.dir}`);
      for (const n of r.nodes) io.out(`  ${n.role} ${n.name}: ${n.certFile}`);
      const vnet = r.nodes.find((n) => n.role === 'vnet');
      if (vnet !== undefined) io.out(`start it with: npx l8 vnet start --security ${r.dir} --node ${vnet.name}`);
    });
}

/** `l8 security issue --dir D --node N --vnet V`: issues (or re-issues) certificates with the CA in D. */
export function securityIssueCommand(parent: Command, io: CliIo): void {
  certOptions(
    parent
      .command('issue')
      .description('issue certificates for more nodes with the overlay CA of a directory')
      .requiredOption('--dir <dir>', 'the overlay directory holding ca.crt and ca.key'),
  ).action(async (flags: IssueFlags) => {
    const validDays = Number(flags.days);
    const wanted = [
      ...flags.node.map((name) => ({ name, role: 'vnic' as const })),
      ...flags.vnet.map((name) => ({ name, role: 'vnet' as const })),
    ];
    for (const { name, role } of wanted) {
      const n = await issueNodeCert(flags.dir, name, { role, validDays });
      io.out(`  ${n.role} ${n.name}: ${n.certFile}`);
    }
  });
}
