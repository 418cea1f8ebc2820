import type { LinkAddress } from '@layer8/link';
import {
  type MetricsServer,
  newRegistry,
  parseListenAddress,
  registerVNetMetrics,
  serveMetrics,
} from '@layer8/metrics';
import { l8error, newNodeId } from '@layer8/protocol';
import { type SecurityProvider, TlsProvider } from '@layer8/security';
import { DEFAULT_VNET_PORT, VNet } from '@layer8/vnet';
import { parseAddress } from '@layer8/vnic';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { logLevelOf, processLogger } from '../logging.ts';
import { providerFrom, type SecurityFlags } from '../providers.ts';

/** The provider of a VNet: as for any command, and with a TLS overlay the node's certificate must be a VNet's. */
function vnetProvider(flags: SecurityFlags, io: CliIo): SecurityProvider {
  const provider = providerFrom(flags, io.env, io.warn);
  if (provider instanceof TlsProvider && provider.certificateRole !== 'vnet') {
    throw l8error(
      'L8_ERR_INVALID_ARGUMENT',
      'this node holds a VNic certificate; a VNet needs one issued with `l8 security init|issue --vnet NAME`',
    );
  }
  return provider;
}

interface VNetStartFlags extends SecurityFlags {
  readonly host: string;
  readonly port: string;
  readonly socket?: string | false;
  readonly peer: string[];
  readonly heartbeat: string;
  readonly alias?: string;
  readonly discovery?: string;
  readonly discoveryAddress: string;
  readonly overlay: string;
  readonly metrics?: string;
  readonly metricsRemote?: boolean;
  readonly logLevel?: string;
}

/**
 * Serves the VNet's metrics (and this process's) at `flags.metrics` when given, and says where; the
 * address is parsed before the VNet starts so a typo fails fast.
 */
function metricsStarter(flags: VNetStartFlags, io: CliIo): (vnet: VNet) => Promise<MetricsServer | undefined> {
  const at = flags.metrics === undefined ? undefined : parseListenAddress(flags.metrics);
  return async (vnet) => {
    if (at === undefined) return undefined;
    const registry = newRegistry({ process: true });
    registerVNetMetrics(registry, vnet);
    const server = await serveMetrics(registry, { ...at, allowRemote: flags.metricsRemote === true });
    io.out(`l8 vnet metrics at ${server.url}`);
    return server;
  };
}

/** `l8 vnet start`: runs a VNet in the foreground until SIGINT or SIGTERM. */
export function vnetStartCommand(parent: Command, io: CliIo): void {
  parent
    .command('start')
    .description('run the VNet of this host in the foreground')
    .option('--host <host>', 'TCP listen address', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', String(DEFAULT_VNET_PORT))
    .option(
      '--socket <path>',
      'unix socket path for local VNics, in a directory only this user can write (default $XDG_RUNTIME_DIR/layer8/vnet.sock, /run/layer8/vnet.sock for root, else $TMPDIR/layer8-<uid>/vnet.sock)',
    )
    .option('--no-socket', 'do not listen on a unix socket')
    .option(
      '--peer <host:port>',
      'peer VNet to keep dialled (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--heartbeat <ms>', 'heartbeat deadline per link', '3000')
    .option('--alias <name>', 'human name of this VNet')
    .option('--discovery <port>', 'find peer VNets by UDP broadcast beacons on this port')
    .option('--discovery-address <addr>', 'where beacons go', '255.255.255.255')
    .option('--overlay <name>', 'overlay name in beacons (VNets of other overlays are ignored)', 'layer8')
    .option(
      '--security <dir>',
      'overlay directory made by `l8 security init` (default: L8_SECURITY, ~/.layer8/security)',
    )
    .option('--node <name>', 'VNet certificate name of this node in the overlay (default: L8_NODE, the host name)')
    .option('--dev', 'dev provider with the built-in public passphrase (no TLS, loopback only)')
    .option('--dev-passphrase-file <file>', 'dev provider with the passphrase in FILE (or set L8_DEV_PASSPHRASE)')
    .option('--force-insecure', 'let the dev provider listen on non-loopback addresses (not with --dev)')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks one)')
    .option('--metrics-remote', 'let --metrics listen on a non-loopback address (no authentication, no TLS)')
    .option('--log-level <level>', 'JSON log lines on stderr from this level up (default: L8_LOG, info)')
    .action(async (flags: VNetStartFlags) => {
      const startMetrics = metricsStarter(flags, io);
      const id = newNodeId();
      const logger = processLogger(io, logLevelOf(flags.logLevel, io.env), { node: id, alias: flags.alias, vnet: id });
      const vnet = new VNet({
        id,
        provider: vnetProvider(flags, io),
        host: flags.host,
        port: Number(flags.port),
        peers: flags.peer.map((p) => parseAddress(p) as LinkAddress),
        heartbeatMs: Number(flags.heartbeat),
        ...(flags.socket === undefined ? {} : { socketPath: flags.socket }),
        ...(flags.alias === undefined ? {} : { alias: flags.alias }),
        ...(flags.discovery === undefined
          ? {}
          : {
              discovery: { port: Number(flags.discovery), broadcast: flags.discoveryAddress, overlay: flags.overlay },
            }),
        logger,
      });
      const a = await vnet.start();
      io.out(`l8 vnet ${vnet.id} listening on tcp ${a.tcp.host}:${a.tcp.port}${a.unix ? ` and unix ${a.unix}` : ''}`);
      const metrics = await startMetrics(vnet).catch(async (err: unknown) => {
        await vnet.close();
        throw err;
      });
      await io.untilStopped();
      await metrics?.close();
      await vnet.close();
      io.out('l8 vnet stopped');
    });
}
