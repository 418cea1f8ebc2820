/**
 * Entry point of a fuzz target process: runs the VNet or VNic of the JSON config in argv[2] and answers
 * the fuzzer's `stats` requests over IPC (target-process.ts). Nothing here catches a fault of the
 * component: a crash must end the process, so that the fuzzer sees it. Exits when the fuzzer disconnects.
 */
import { DevProvider, type SecurityProvider, TlsProvider } from '@layer8/security';
import type { TargetAnswer, TargetCommand, TargetConfig, TargetStats } from './target-config.ts';
import { type RunningTarget, vnetTarget, vnicTarget } from './target-roles.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as TargetConfig;
const target: RunningTarget =
  config.role === 'vnet' ? await vnetTarget(config, provider()) : vnicTarget(config, provider());

process.on('message', (c: TargetCommand) => {
  if (c.cmd === 'stats') process.send?.({ id: c.id, stats: stats() } satisfies TargetAnswer);
});
process.on('disconnect', () => void target.close().finally(() => process.exit(0)));
process.send?.(target.ready);

function provider(): SecurityProvider {
  const s = config.security;
  return 'tls' in s ? new TlsProvider(s.tls) : new DevProvider({ passphrase: s.passphrase, warn: () => undefined });
}

/** The target's counters and its memory after a full collection (the process runs with --expose-gc). */
function stats(): TargetStats {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, ...target.stats() };
}
