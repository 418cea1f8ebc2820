import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentSecurity } from '@layer8/chaos';
import { l8error } from '@layer8/protocol';
import { type SecurityProvider, TlsProvider } from '@layer8/security';
import { parseAddress } from '@layer8/vnic';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { DEFAULT_DEV_PASSPHRASE, defaultNodeName, providerFrom, type SecurityFlags } from '../providers.ts';

/**
 * How `l8 chaos fuzz --vnet` and `l8 chaos run --vnet` join an overlay that runs already: the security
 * options of every command that joins (a node bundle made by `l8 security init|export`, or the dev
 * provider; docs/security.md, "CLI"), and the VNets' addresses.
 */

/** Adds the security options every command that joins the overlay takes. */
export function securityOptions(cmd: Command): Command {
  return cmd
    .option(
      '--security <dir>',
      'with --vnet: overlay directory or node bundle (default: L8_SECURITY, ~/.layer8/security)',
    )
    .option('--node <name>', 'with --vnet: VNic certificate name in it (default: L8_NODE, the host name)')
    .option('--dev', 'with --vnet: dev provider with the built-in public passphrase (loopback only)')
    .option(
      '--dev-passphrase-file <file>',
      'with --vnet: dev provider with the passphrase in FILE (or L8_DEV_PASSPHRASE)',
    );
}

/** A VNet's TCP address as `--vnet` gives it. @throws L8_ERR_INVALID_ARGUMENT for a path or a bad address */
export function tcpAddress(text: string): { host: string; port: number } {
  const a = parseAddress(text);
  if ('path' in a) throw l8error('L8_ERR_INVALID_ARGUMENT', `--vnet ${text}: give the VNet's TCP host:port`);
  return a;
}

/** The provider of the node the flags name; with TLS its certificate must be of `role`. @throws L8_ERR_INVALID_ARGUMENT */
export function memberProvider(flags: SecurityFlags, io: CliIo, role: 'vnic' | 'vnet' = 'vnic'): SecurityProvider {
  const provider = providerFrom(flags, io.env, io.warn);
  if (provider instanceof TlsProvider && provider.certificateRole !== role) {
    throw l8error(
      'L8_ERR_INVALID_ARGUMENT',
      `the node's certificate is a ${provider.certificateRole}'s; this needs a ${role} certificate (l8 security issue${role === 'vnet' ? ' --vnet' : ''})`,
    );
  }
  return provider;
}

/** The TLS certificate (PEM) of the node the flags name, when it can be read. */
export function certificatePem(provider: SecurityProvider, node: string): string | undefined {
  const dir = provider instanceof TlsProvider ? provider.directory : undefined;
  const file = dir === undefined ? undefined : join(dir, `${node}.crt`);
  return file !== undefined && existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** The certificate name the flags name (`--node`, `L8_NODE`, the host name). */
export function nodeName(flags: SecurityFlags, io: CliIo): string {
  return flags.node ?? defaultNodeName(io.env);
}

/**
 * How the VNic processes a chaos run starts prove membership: the same bundle as `provider` (TLS), or
 * the dev provider's passphrase (handed to them in their environment, not on their command line).
 */
export function agentSecurity(flags: SecurityFlags, io: CliIo, provider: SecurityProvider): AgentSecurity {
  if (provider instanceof TlsProvider) {
    const dir = provider.directory;
    if (dir === undefined) throw l8error('L8_ERR_INVALID_ARGUMENT', 'the TLS provider has no directory');
    return { tls: { dir, node: nodeName(flags, io) } };
  }
  if (flags.devPassphraseFile !== undefined)
    return { passphrase: readFileSync(flags.devPassphraseFile, 'utf8').replace(/\r?\n$/, '') };
  return { passphrase: io.env.L8_DEV_PASSPHRASE || DEFAULT_DEV_PASSPHRASE };
}
