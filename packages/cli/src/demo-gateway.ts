/**
 * The gateway of `l8 demo`: a VNic of its own on the first VNet, REST and OpenAPI for the demo services on
 * 127.0.0.1 (the asked port, or any free one when it is taken), ready once it publishes every service. Its
 * AAA endpoints and dashboard are on: the user `demo` (role admin) gets a new random password at each start.
 */
import { randomBytes } from 'node:crypto';
import { type AuthOptions, Gateway } from '@layer8/gateway';
import { l8error } from '@layer8/protocol';
import { ADMIN_ROLE, addUser, issueNodeCert, TlsProvider } from '@layer8/security';
import { VNic } from '@layer8/vnic';
import type { DemoObservability, VNicObserved } from './demo-observe.ts';
import type { CliIo } from './io.ts';

/** The certificate name of the demo's gateway. */
export const GATEWAY_NODE = 'gateway';
/** The demo's user: it may log in to the dashboard. */
export const DEMO_USER = 'demo';

/** What `startDemoGateway` needs. */
export interface DemoGatewayOptions {
  /** Unix socket of the VNet the gateway joins. */
  readonly socket: string;
  readonly security: string;
  readonly port: number;
  /** The services it must publish before it is ready. */
  readonly services: readonly string[];
  readonly timeoutMs: number;
  readonly io: CliIo;
  /** Interval of the gateway node's load figures, ms. */
  readonly statsMs: number;
  /** The demo's metrics and tracing: the gateway's registry, VNic hooks and tracer come from it. */
  readonly observe: DemoObservability;
}

/** A running demo gateway. */
export interface DemoGateway {
  readonly url: string;
  /** The user that may log in (role admin) and its password, new at each start. */
  readonly user: string;
  readonly password: string;
  close(): Promise<void>;
}

/** Starts the gateway; resolves once it publishes `o.services`. @throws L8_ERR_TIMEOUT, L8_ERR_CONNECT */
export async function startDemoGateway(o: DemoGatewayOptions): Promise<DemoGateway> {
  const password = randomBytes(12).toString('base64url');
  await addUser(o.security, DEMO_USER, password, [ADMIN_ROLE]);
  const provider = await providerOf(o.security);
  const observed = o.observe.gateway(GATEWAY_NODE);
  const vnic = new VNic({
    provider,
    vnet: { path: o.socket },
    alias: GATEWAY_NODE,
    statsMs: o.statsMs,
    healthStats: true,
    ...observed.options,
  });
  observed.track(vnic);
  await vnic.connect();
  try {
    const gateway = await listening(vnic, o, { authority: provider }, observed);
    await published(gateway, o);
    const { url } = await gateway.start();
    await o.observe.gatewayStarted(GATEWAY_NODE, observed);
    return { url, user: DEMO_USER, password, close: () => gateway.close().finally(() => vnic.close()) };
  } catch (err) {
    await vnic.close();
    throw err;
  }
}

/** The gateway's provider; a demo folder made before the gateway existed gets its certificate now. */
async function providerOf(security: string): Promise<TlsProvider> {
  try {
    return new TlsProvider({ dir: security, node: GATEWAY_NODE });
  } catch {
    await issueNodeCert(security, GATEWAY_NODE);
    return new TlsProvider({ dir: security, node: GATEWAY_NODE });
  }
}

/** A started gateway on the asked port, or on a free one when that one is taken. */
async function listening(
  vnic: VNic,
  o: DemoGatewayOptions,
  auth: AuthOptions,
  observed: VNicObserved,
): Promise<Gateway> {
  const metrics = observed.registry === undefined ? {} : { metrics: { registry: observed.registry } };
  const first = new Gateway({ vnic, auth, host: '127.0.0.1', port: o.port, title: 'Layer8 demo', ...metrics });
  try {
    await first.start();
    return first;
  } catch (err) {
    if (o.port === 0) throw err;
    o.io.warn(`l8 demo: port ${o.port} is taken; the gateway takes a free one`);
    await first.close();
    const any = new Gateway({ vnic, auth, host: '127.0.0.1', port: 0, title: 'Layer8 demo', ...metrics });
    await any.start();
    return any;
  }
}

/** Resolves once the gateway publishes every service of `o.services` (area 0). */
function published(gateway: Gateway, o: DemoGatewayOptions): Promise<void> {
  const ready = (): boolean => {
    const names = new Set(gateway.directory.routes().map((r) => `${r.area}/${r.name}`));
    return o.services.every((s) => names.has(`0/${s}`));
  };
  if (ready()) return Promise.resolve();
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      stop();
      fail(l8error('L8_ERR_TIMEOUT', `the gateway did not publish ${o.services.join(', ')} in ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    const stop = gateway.directory.onChange(() => {
      if (!ready()) return;
      stop();
      clearTimeout(timer);
      ok();
    });
  });
}
