/** @layer8/cli: the `l8` command (docs/overlay.md). */
export { catalogue } from './commands/inspect.ts';
export { type CliIo, processIo } from './io.ts';
export { buildProgram, runCli } from './program.ts';
export { DEFAULT_DEV_PASSPHRASE, defaultSecurityDir, providerFrom, type SecurityFlags } from './providers.ts';
export { table } from './table.ts';
