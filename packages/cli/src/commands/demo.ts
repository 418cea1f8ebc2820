import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { l8error } from '@layer8/protocol';
import { initSecurity, TlsProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import type { Command } from 'commander';
import { DEMO_SERVICES } from '../demo-data.ts';
import { type DemoGateway, GATEWAY_NODE, startDemoGateway } from '../demo-gateway.ts';
import { DemoObservability, type DemoObserveFlags } from '../demo-observe.ts';
import type { CliIo } from '../io.ts';

/** The VNets of the demo: name and loopback address. */
const VNETS = [
  { name: 'demo-v1', host: '127.0.0.2' },
  { name: 'demo-v2', host: '127.0.0.3' },
] as const;

/** The certificate name the printed commands use. */
const CLI_NODE = 'cli';

/** Interval of the load figures in health, ms: short, so the dashboard's rates move (the default is 10 s). */
const STATS_MS = 1000;

/** Deadline of one service process to start serving, ms. */
const START_MS = 30_000;

const nodeName = (service: string, i: number): string => `${service.toLowerCase()}-${i + 1}`;

/** `l8 demo`: two VNets, Orders and Seats on each, seeded; prints commands to try; runs until stopped. */
export function demoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('run a demo overlay: two TLS VNets (127.0.0.2, 127.0.0.3) with Orders and Seats services')
    .option('--data <dir>', 'where the overlay CA, the sockets and the SQLite files go', '.l8/demo')
    .option('--gateway-port <port>', 'port of the REST gateway on 127.0.0.1 (a free one when taken)', '8080')
    .option(
      '--metrics',
      'every demo process serves Prometheus metrics on 127.0.0.1 (listed in DATA/prometheus-targets.json)',
    )
    .option(
      '--otlp <url>',
      'the gateway and the services send request spans over OTLP/HTTP to URL (default: OTEL_EXPORTER_OTLP_ENDPOINT)',
    )
    .action(async (flags: { data: string; gatewayPort: string } & DemoObserveFlags) => {
      const data = resolve(flags.data);
      const security = await overlayOf(data);
      const demo = new Demo(data, security, io, new DemoObservability(flags, io.env));
      try {
        await demo.start();
        const gateway = await demo.startGateway(portOf(flags.gatewayPort));
        printTryNext(io, demo.vnets, security);
        printWeb(io, gateway);
        demo.observe.report(io, data);
        io.out('l8 demo ready (Ctrl-C stops it)');
        await io.untilStopped();
      } finally {
        await demo.close();
        io.out('l8 demo stopped');
      }
    });
}

/** The demo's overlay directory, made on the first run. */
async function overlayOf(data: string): Promise<string> {
  const dir = join(data, 'security');
  if (existsSync(join(dir, 'ca.crt'))) return dir;
  const nodes = [CLI_NODE, GATEWAY_NODE, ...DEMO_SERVICES.flatMap((s) => VNETS.map((_, i) => nodeName(s, i)))];
  await initSecurity({ dir, vnets: VNETS.map((v) => v.name), nodes });
  return dir;
}

/** The VNets (in this process) and the service processes of a running demo. */
class Demo {
  readonly vnets: VNet[] = [];
  readonly #children: ChildProcess[] = [];
  readonly #data: string;
  readonly #security: string;
  readonly #io: CliIo;
  /** Metrics endpoints and tracing (`--metrics`, `--otlp`). */
  readonly observe: DemoObservability;
  #gateway: DemoGateway | undefined;

  constructor(data: string, security: string, io: CliIo, observe: DemoObservability) {
    this.#data = data;
    this.#security = security;
    this.#io = io;
    this.observe = observe;
  }

  async start(): Promise<void> {
    mkdirSync(join(this.#data, 'run'), { recursive: true, mode: 0o700 });
    for (const v of VNETS) {
      const vnet = new VNet({
        provider: new TlsProvider({ dir: this.#security, node: v.name }),
        host: v.host,
        port: 0,
        socketPath: join(this.#data, 'run', `${v.name}.sock`),
        peers: this.vnets.map((n) => n.addresses.tcp),
        alias: v.name,
        statsMs: STATS_MS,
        logger: { info: () => undefined, warn: (o, m) => this.#io.warn(`${m ?? ''} ${JSON.stringify(o)}`) },
      });
      this.vnets.push(vnet);
      await vnet.start();
      await this.observe.vnet(vnet);
    }
    // the first VNet's instances seed; the second's recover from them once its VNet sees them
    await Promise.all(DEMO_SERVICES.map((s) => this.#spawn(s, 0)));
    await untilServices(this.vnets[1] as VNet, DEMO_SERVICES.length);
    await Promise.all(DEMO_SERVICES.map((s) => this.#spawn(s, 1)));
  }

  /** Starts the instance of `service` on VNet `i`; resolves once it serves. */
  #spawn(service: string, i: number): Promise<void> {
    const vnet = this.vnets[i] as VNet;
    const node = nodeName(service, i);
    const args = [vnet.addresses.unix as string, this.#security, node, service, join(this.#data, node)];
    const child = spawn(process.execPath, [...process.execArgv, childEntry(), ...args, ...(i === 0 ? ['seed'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: { ...process.env, ...this.observe.childEnv },
    });
    this.#children.push(child);
    this.#io.out(`l8 demo: ${service} on ${VNETS[i]?.name} runs as pid ${child.pid}`);
    return new Promise((ok, fail) => {
      const timer = setTimeout(
        () => fail(l8error('L8_ERR_TIMEOUT', `${node} did not serve in ${START_MS} ms`)),
        START_MS,
      );
      let out: string | undefined = '';
      child.stdout?.on('data', (d: Buffer) => {
        if (out === undefined) return;
        out += d.toString();
        if (!out.includes('serving')) return;
        this.observe.fromChild(node, out);
        out = undefined; // served: later output is not kept
        ok(clearTimeout(timer));
      });
      child.once('exit', (code) => fail(l8error('L8_ERR_INTERNAL', `${node} exited with ${code} before serving`)));
    });
  }

  /** Starts the REST gateway on the first VNet; resolves once it publishes every demo service. */
  async startGateway(port: number): Promise<DemoGateway> {
    const socket = this.vnets[0]?.addresses.unix as string;
    const o = { socket, security: this.#security, port, services: DEMO_SERVICES, timeoutMs: START_MS, io: this.#io };
    this.#gateway = await startDemoGateway({ ...o, statsMs: STATS_MS, observe: this.observe });
    this.#io.out(`l8 demo: the gateway listens on ${this.#gateway.url}`);
    return this.#gateway;
  }

  /** Stops the gateway and every service process (and waits for each to exit), then the VNets. Idempotent. */
  async close(): Promise<void> {
    await this.#gateway?.close();
    await Promise.all(this.#children.map(stopChild));
    await Promise.all(this.vnets.map((v) => v.close()));
    await this.observe.close();
  }
}

/** The service process entry next to this file: the source under tsx, the build otherwise. */
function childEntry(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return fileURLToPath(new URL(`../demo-node.${ext}`, import.meta.url));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(force);
}

/** Resolves once `vnet`'s health shows `n` (service, area) pairs up. */
function untilServices(vnet: VNet, n: number): Promise<void> {
  const count = (): number =>
    new Set(
      vnet.health
        .all()
        .filter((r) => r.status === 'up')
        .flatMap((r) => r.services.map((s) => `${s.service}/${s.area}`)),
    ).size;
  if (count() >= n) return Promise.resolve();
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      stop();
      fail(l8error('L8_ERR_TIMEOUT', `${vnet.alias} did not see the services in ${START_MS} ms`));
    }, START_MS);
    const stop = vnet.health.onChange(() => {
      if (count() < n) return;
      stop();
      clearTimeout(timer);
      ok();
    });
  });
}

/** Single-quotes `s` for a POSIX shell. */
const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

function printTryNext(io: CliIo, vnets: readonly VNet[], security: string): void {
  const [v1, v2] = vnets.map((v) => `${v.addresses.tcp.host}:${v.addresses.tcp.port}`) as [string, string];
  const join1 = `--vnet ${v1} --security ${q(security)} --node ${CLI_NODE}`;
  const join2 = `--vnet ${v2} --security ${q(security)} --node ${CLI_NODE}`;
  const unix = `--vnet ${q(vnets[0]?.addresses.unix as string)} --security ${q(security)} --node ${CLI_NODE}`;
  const order = '{"id":"4","number":"A-4","customerId":"c3","status":"STATUS_OPEN","city":"Oslo"}';
  io.out('try next (in another terminal, from this directory):');
  for (const cmd of [
    `health ${join1}`,
    `services ${join2}`,
    `call Orders 0 get ${q('select * from Order where status = 1')} ${join1}`,
    `call Orders 0 put ${q(order)} ${join2}`,
    `call Orders 0 get ${q('{"key":"4"}')} ${unix}`,
    `call Seats 0 patch ${q('{"tenant":"t1","row":"A","no":2,"taken":true}')} ${join1}`,
    `call Seats 0 get ${q('select * from Seat where taken = true')} ${join2} --json`,
    `call Orders 0 delete 4 ${join1}`,
  ]) {
    io.out(`  npx l8 ${cmd}`);
  }
}

/** A TCP port from the command line. @throws L8_ERR_INVALID_ARGUMENT */
function portOf(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `--gateway-port ${text} is not a TCP port`);
  }
  return port;
}

/** The gateway's pages and curl commands that work as printed. */
function printWeb(io: CliIo, gateway: DemoGateway): void {
  const { url, user, password } = gateway;
  const login = JSON.stringify({ user, password });
  const open = `select * from Order where status = 1`;
  const order = '{"id":"5","number":"A-5","customerId":"c2","status":"STATUS_OPEN","city":"Lisbon"}';
  const token = `node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).accessToken'`;
  const auth = `-H "Authorization: Bearer $L8_TOKEN"`;
  io.out(`dashboard: ${url}/dashboard (log in as ${user}, password ${password})`);
  io.out(`REST and OpenAPI: ${url}/docs (the document: ${url}/openapi.json); a token first (valid 15 minutes):`);
  io.out(
    `  export L8_TOKEN=$(curl -s -X POST -H 'content-type: application/json' -d ${q(login)} ${url}/auth/login | ${token})`,
  );
  for (const cmd of [
    `curl -s ${auth} ${q(`${url}/l8/0/Orders?q=${encodeURIComponent(open)}`)}`,
    `curl -s ${auth} -X POST -H 'content-type: application/json' -d ${q(order)} ${url}/l8/0/Orders`,
    `curl -s ${auth} ${url}/l8/0/Orders/5`,
    `curl -s ${auth} -X DELETE ${url}/l8/0/Orders/5 -w '%{http_code}\\n'`,
  ]) {
    io.out(`  ${cmd}`);
  }
}
