import type { HealthRecord } from '@layer8/health';
import { VNic } from '@layer8/vnic';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { providerFrom, type SecurityFlags } from '../providers.ts';
import { table } from '../table.ts';

/** The flags of every command that joins the overlay. */
export interface JoinFlags extends SecurityFlags {
  readonly vnet?: string;
  readonly json?: boolean;
  readonly timeout: string;
}

/** Adds the options every command that joins the overlay takes. */
export function joinOptions(cmd: Command): Command {
  return cmd
    .option('--vnet <host:port|path>', 'VNet to join (default: L8_VNET, the local unix socket, then 127.0.0.1:26000)')
    .option(
      '--security <dir>',
      'overlay directory made by `l8 security init` (default: L8_SECURITY, ~/.layer8/security)',
    )
    .option('--node <name>', 'certificate name of this node in the overlay (default: L8_NODE, the host name)')
    .option('--dev', 'dev provider with the built-in public passphrase (no TLS, loopback only)')
    .option('--dev-passphrase-file <file>', 'dev provider with the passphrase in FILE (or set L8_DEV_PASSPHRASE)')
    .option('--timeout <ms>', 'deadline to join the overlay', '5000')
    .option('--json', 'print JSON instead of a table');
}

/** Joins the overlay as a short-lived VNic, runs `fn` with it, and leaves. */
export async function withVNic<T>(flags: JoinFlags, io: CliIo, fn: (vnic: VNic) => T): Promise<T> {
  const vnic = new VNic({
    provider: providerFrom(flags, io.env, () => undefined),
    env: io.env,
    alias: 'l8-cli',
    healthStats: true,
    // the VNic's own connect deadline fails with the last cause (refused, no socket, wrong provider)
    connectTimeoutMs: Number(flags.timeout),
    ...(flags.vnet === undefined ? {} : { vnet: flags.vnet }),
  });
  try {
    await vnic.connect();
    return await fn(vnic);
  } finally {
    await vnic.close();
  }
}

/** Every health record but the CLI's own. */
export function others(vnic: VNic): HealthRecord[] {
  return vnic.health.all().filter((r) => r.id !== vnic.id);
}

/** `l8 health`: every node's health record. */
export function healthCommand(program: Command, io: CliIo): void {
  joinOptions(
    program.command('health').description('show every node of the overlay with its liveness and load'),
  ).action(async (flags: JoinFlags) => {
    const records = await withVNic(flags, io, others);
    if (flags.json) return io.out(JSON.stringify(records, null, 2));
    const rows = records.map((r) => [
      r.alias,
      r.role,
      r.status,
      r.id,
      r.vnet.slice(0, 8),
      String(r.services.length),
      mb(r.stats?.rssBytes),
    ]);
    io.out(table(['ALIAS', 'ROLE', 'STATUS', 'ID', 'VNET', 'SERVICES', 'RSS'], rows));
  });
}

/** `l8 services`: every (service, area) with its instances. */
export function servicesCommand(program: Command, io: CliIo): void {
  joinOptions(program.command('services').description('show every service of the overlay and its instances')).action(
    async (flags: JoinFlags) => {
      const services = await withVNic(flags, io, (vnic) => catalogue(others(vnic)));
      if (flags.json) return io.out(JSON.stringify(services, null, 2));
      io.out(
        table(
          ['SERVICE', 'AREA', 'INSTANCES', 'NODES (state)'],
          services
            .filter((s) => !s.service.endsWith('.changes'))
            .map((s) => [
              s.service,
              String(s.area),
              String(s.instances.length),
              s.instances.map((i) => (i.state === undefined ? i.alias : `${i.alias} (${i.state})`)).join(', '),
            ]),
        ),
      );
    },
  );
}

/** One instance in the catalogue: its node, and its state when it says one (`recovering`, `serving`). */
interface Instance {
  readonly id: string;
  readonly alias: string;
  readonly vnet: string;
  readonly state?: string;
}

/** A service catalogue: (service, area) → the reachable nodes that host it. */
export function catalogue(
  records: readonly HealthRecord[],
): { service: string; area: number; instances: Instance[] }[] {
  const byKey = new Map<string, { service: string; area: number; instances: Instance[] }>();
  for (const r of records) {
    if (r.status !== 'up') continue;
    for (const s of r.services) {
      const key = `${s.service}\u0000${s.area}`;
      const entry = byKey.get(key) ?? { service: s.service, area: s.area, instances: [] };
      entry.instances.push({
        id: r.id,
        alias: r.alias,
        vnet: r.vnet,
        ...(s.state === undefined ? {} : { state: s.state }),
      });
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()].sort((a, b) => a.service.localeCompare(b.service) || a.area - b.area);
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${Math.round(bytes / 1048576)} MB`;
}
