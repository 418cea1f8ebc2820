import { type AuthOptions, Gateway, type GatewayLogger } from '@layer8/gateway';
import {
  BreakerMetrics,
  type MetricsServer,
  newRegistry,
  parseListenAddress,
  type Registry,
  serveMetrics,
  VNicMetrics,
} from '@layer8/metrics';
import { l8error, newNodeId } from '@layer8/protocol';
import { type SecurityProvider, TlsProvider } from '@layer8/security';
import { VNic } from '@layer8/vnic';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { logLevelOf, processLogger } from '../logging.ts';
import { providerFrom, type SecurityFlags } from '../providers.ts';
import { otlpTracesUrl, startTracing } from '../tracing.ts';

interface GatewayStartFlags extends SecurityFlags {
  readonly host: string;
  readonly port: string;
  readonly vnet?: string;
  readonly alias: string;
  readonly defaultTimeout: string;
  readonly maxTimeout: string;
  readonly bodyLimit: string;
  readonly connectTimeout: string;
  readonly auth?: boolean;
  readonly otlp?: string;
  readonly logLevel?: string;
  readonly metrics?: string;
  readonly metricsRemote?: boolean;
}

/** The metrics of `--metrics`: a registry with the process's metrics, the VNic's on it, and where to serve it. */
interface GatewayMetricsPlan {
  readonly registry: Registry;
  readonly vnic: VNicMetrics;
  readonly breakers: BreakerMetrics;
  readonly at: { host: string; port: number };
}

/** The metrics plan of `flags`, undefined without `--metrics`; the address is checked before anything starts. */
function metricsPlan(flags: GatewayStartFlags): GatewayMetricsPlan | undefined {
  if (flags.metrics === undefined) return undefined;
  const at = parseListenAddress(flags.metrics);
  const registry = newRegistry({ process: true });
  return { registry, vnic: new VNicMetrics(registry), breakers: new BreakerMetrics(registry), at };
}

/** Serves the plan's registry on its own port, and says where. */
async function serveGatewayMetrics(
  plan: GatewayMetricsPlan,
  flags: GatewayStartFlags,
  io: CliIo,
): Promise<MetricsServer> {
  const server = await serveMetrics(plan.registry, { ...plan.at, allowRemote: flags.metricsRemote === true });
  io.out(`l8 gateway metrics at ${server.url}`);
  return server;
}

/** `l8 gateway start`: joins the overlay and serves REST and OpenAPI until SIGINT or SIGTERM. */
export function gatewayStartCommand(parent: Command, io: CliIo): void {
  parent
    .command('start')
    .description('serve the web-exposed services of the overlay as REST, with OpenAPI at /openapi.json and /docs')
    .option('--host <host>', 'HTTP listen address', '127.0.0.1')
    .option('--port <port>', 'HTTP port (0 picks a free one)', '8080')
    .option('--vnet <host:port|path>', 'VNet to join (default: L8_VNET, the local unix socket, then 127.0.0.1:26000)')
    .option(
      '--security <dir>',
      'overlay directory made by `l8 security init` (default: L8_SECURITY, ~/.layer8/security)',
    )
    .option('--node <name>', 'certificate name of this node in the overlay (default: L8_NODE, the host name)')
    .option('--dev', 'dev provider with the built-in public passphrase (no TLS, loopback only)')
    .option('--dev-passphrase-file <file>', 'dev provider with the passphrase in FILE (or set L8_DEV_PASSPHRASE)')
    .option('--alias <name>', 'name of the gateway node in health', 'l8-gateway')
    .option('--default-timeout <ms>', 'deadline of a request without an x-l8-timeout-ms header', '10000')
    .option('--max-timeout <ms>', 'largest deadline a request may ask for', '60000')
    .option('--body-limit <bytes>', 'largest request body', String(1024 * 1024))
    .option('--connect-timeout <ms>', 'deadline to join the overlay', '10000')
    .option('--auth', 'serve /auth (login, refresh, logout, TOTP) with the users of --security (needs token.key)')
    .option('--otlp <url>', 'send request spans over OTLP/HTTP to URL (default: OTEL_EXPORTER_OTLP_ENDPOINT)')
    .option('--log-level <level>', 'JSON log lines on stderr from this level up (default: L8_LOG, info)')
    .option(
      '--metrics <host:port>',
      "serve Prometheus metrics (HTTP, WebSocket, the gateway's VNic, the process) at http://HOST:PORT/metrics (port 0 picks one)",
    )
    .option('--metrics-remote', 'let --metrics listen on a non-loopback address (no authentication, no TLS)')
    .action(async (flags: GatewayStartFlags) => {
      const plan = metricsPlan(flags);
      const provider = providerFrom(flags, io.env, io.warn);
      const id = newNodeId();
      const logger = processLogger(io, logLevelOf(flags.logLevel, io.env), { node: id, alias: flags.alias });
      const tracing = startTracing(otlpTracesUrl(flags.otlp, io.env), flags.alias, { 'service.instance.id': id });
      const vnic = new VNic({
        provider,
        env: io.env,
        id,
        alias: flags.alias,
        healthStats: true,
        logger,
        ...(tracing.tracer === undefined ? {} : { tracer: tracing.tracer }),
        ...(plan === undefined ? {} : { observer: plan.vnic, onBreaker: plan.breakers.onChange }),
        connectTimeoutMs: whole(flags.connectTimeout, '--connect-timeout', 1),
        ...(flags.vnet === undefined ? {} : { vnet: flags.vnet }),
      });
      plan?.vnic.track(vnic);
      plan?.breakers.track(vnic);
      try {
        await vnic.connect();
        await serve(vnic, flags, io, { auth: authOf(provider, flags), logger, plan });
      } finally {
        await vnic.close();
        await tracing.shutdown();
      }
      io.out('l8 gateway stopped');
    });
}

/** The gateway's AAA options for `--auth`. @throws L8_ERR_INVALID_ARGUMENT without the TLS provider */
function authOf(provider: SecurityProvider, flags: GatewayStartFlags): AuthOptions | undefined {
  if (flags.auth !== true) return undefined;
  if (!(provider instanceof TlsProvider)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', '--auth needs the TLS provider (--security DIR) with users and token.key');
  }
  return { authority: provider };
}

/** What the gateway runs with besides its flags. */
interface ServeContext {
  readonly auth: AuthOptions | undefined;
  readonly logger: GatewayLogger;
  readonly plan: GatewayMetricsPlan | undefined;
}

async function serve(vnic: VNic, flags: GatewayStartFlags, io: CliIo, ctx: ServeContext): Promise<void> {
  const { auth, logger, plan } = ctx;
  const gateway = new Gateway({
    vnic,
    ...(auth === undefined ? {} : { auth }),
    ...(plan === undefined ? {} : { metrics: { registry: plan.registry } }),
    host: flags.host,
    port: whole(flags.port, '--port', 0),
    defaultTimeoutMs: whole(flags.defaultTimeout, '--default-timeout', 1),
    maxTimeoutMs: whole(flags.maxTimeout, '--max-timeout', 1),
    bodyLimit: whole(flags.bodyLimit, '--body-limit', 1),
    logger,
  });
  let metrics: MetricsServer | undefined;
  try {
    const { url } = await gateway.start();
    io.out(`l8 gateway ${vnic.id} listening on ${url} (OpenAPI ${url}/openapi.json, docs ${url}/docs)`);
    metrics = plan === undefined ? undefined : await serveGatewayMetrics(plan, flags, io);
    await io.untilStopped();
  } finally {
    await metrics?.close();
    await gateway.close();
  }
}

/** A whole number ≥ `min` from a flag. @throws L8_ERR_INVALID_ARGUMENT */
function whole(text: string, flag: string, min: number): number {
  const n = /^[0-9]{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min)) throw l8error('L8_ERR_INVALID_ARGUMENT', `${flag} must be a whole number ≥ ${min}, not ${text}`);
  return n;
}
