import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { l8error } from '@layer8/protocol';
import { DevProvider, type SecurityProvider, TlsProvider } from '@layer8/security';

/** The security options every command that joins the overlay takes. */
export interface SecurityFlags {
  /** Directory made by `l8 security init` (default TLS provider). */
  readonly security?: string;
  /** This node's certificate name in that directory. Default: `L8_NODE`, then the host name. */
  readonly node?: string;
  /** The dev provider with the built-in, public passphrase (no TLS, loopback only). */
  readonly dev?: boolean;
  /** A file holding the dev provider's passphrase (not the command line, where `ps` shows it). */
  readonly devPassphraseFile?: string;
  /** Lets the dev provider use non-loopback addresses (never with the built-in passphrase). */
  readonly forceInsecure?: boolean;
}

/** The passphrase of `--dev` (and so of `npm start`): public, so loopback only and never forced. */
export const DEFAULT_DEV_PASSPHRASE = 'layer8-local-dev-only';

/** Where the CLI looks for an overlay when no option names one: `~/.layer8/security` (`HOME` from `env`). */
export function defaultSecurityDir(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), '.layer8', 'security');
}

const NO_PROVIDER =
  'no security provider: give --security DIR (or L8_SECURITY) for the overlay made by `l8 security init`, ' +
  'or create one in ~/.layer8/security; for a try-out on this machine, --dev (public passphrase, loopback ' +
  'only) or a shared passphrase in L8_DEV_PASSPHRASE or --dev-passphrase-file FILE';

/**
 * The provider the flags and environment ask for (docs/security.md, "CLI"), in this order:
 * 1. `--security DIR` or `L8_SECURITY`: the TLS provider on that overlay, node `--node`, `L8_NODE` or the
 *    host name;
 * 2. `--dev-passphrase-file FILE`, `L8_DEV_PASSPHRASE` or `--dev`: the dev provider with that passphrase,
 *    or with the built-in public one for a bare `--dev` (loudly warned, refused with `--force-insecure`);
 * 3. the overlay in {@link defaultSecurityDir} when it holds `ca.crt`.
 * @throws L8_ERR_INVALID_ARGUMENT when both kinds are given, or neither is and there is no default overlay.
 */
export function providerFrom(
  flags: SecurityFlags,
  env: NodeJS.ProcessEnv,
  warn: (m: string) => void,
): SecurityProvider {
  const dir = flags.security ?? (env.L8_SECURITY || undefined);
  const dev = flags.dev === true || flags.devPassphraseFile !== undefined || Boolean(env.L8_DEV_PASSPHRASE);
  if (dir !== undefined && dev) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'give either --security DIR or a dev provider option, not both');
  }
  if (dir !== undefined) return tlsProvider(dir, flags, env);
  if (dev) return devProvider(flags, env, warn);
  const fallback = defaultSecurityDir(env);
  if (existsSync(join(fallback, 'ca.crt'))) return tlsProvider(fallback, flags, env);
  throw l8error('L8_ERR_INVALID_ARGUMENT', NO_PROVIDER);
}

function tlsProvider(dir: string, flags: SecurityFlags, env: NodeJS.ProcessEnv): TlsProvider {
  return new TlsProvider({ dir, node: flags.node ?? defaultNodeName(env) });
}

function devProvider(flags: SecurityFlags, env: NodeJS.ProcessEnv, warn: (m: string) => void): DevProvider {
  const force = flags.forceInsecure ?? false;
  const passphrase =
    flags.devPassphraseFile !== undefined ? readPassphrase(flags.devPassphraseFile, warn) : env.L8_DEV_PASSPHRASE;
  if (passphrase !== undefined && passphrase !== '') return new DevProvider({ passphrase, force, warn });
  if (force) {
    throw l8error(
      'L8_ERR_INVALID_ARGUMENT',
      '--force-insecure needs a passphrase of your own (L8_DEV_PASSPHRASE or --dev-passphrase-file): the --dev one is public',
    );
  }
  warn(
    `WARNING: --dev uses the built-in passphrase "${DEFAULT_DEV_PASSPHRASE}", which is public: any process on this machine can join`,
  );
  return new DevProvider({ passphrase: DEFAULT_DEV_PASSPHRASE, warn });
}

/** The passphrase in `file` without its final newline; warns when others may read the file. */
function readPassphrase(file: string, warn: (m: string) => void): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `cannot read the dev passphrase file ${file}`, { cause: err });
  }
  if ((statSync(file).mode & 0o077) !== 0) warn(`WARNING: ${file} is readable by other users; chmod 600 it`);
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '') throw l8error('L8_ERR_INVALID_ARGUMENT', `the dev passphrase file ${file} is empty`);
  return passphrase;
}

/** The certificate name a command uses without `--node`: `L8_NODE`, else this host's name. */
export function defaultNodeName(env: NodeJS.ProcessEnv): string {
  return env.L8_NODE || hostname();
}
