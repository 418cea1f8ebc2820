import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { file_layer8_demo_v1_codec, file_layer8_demo_v1_demo } from '@layer8/fixtures';
import { TypeRegistry } from '@layer8/model';
import { type AccessFile, addUser, TlsProvider } from '@layer8/security';
import { ServiceManager } from '@layer8/services';
import { hostAddress, type TempOverlay, tempDir, tempOverlay, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { Gateway, type GatewayOptions } from '../src/index.ts';

/** A node of the test overlay: its VNic and its service manager. */
export interface Node {
  readonly vnic: VNic;
  readonly services: ServiceManager;
}

/** A gateway of the test overlay, started on 127.0.0.1 port 0. */
export interface Gw {
  readonly vnic: VNic;
  readonly gateway: Gateway;
  readonly url: string;
}

/** One TLS VNet, service nodes and gateways, each a VNic of its own. */
export interface Rig {
  readonly ca: TempOverlay;
  readonly vnet: VNet;
  /** A service node; `authorizing` gives its manager the node's provider (ACL, tokens). */
  node(name: string, authorizing?: boolean): Promise<Node>;
  /** A started gateway on its own VNic. */
  gateway(name: string, options?: Partial<GatewayOptions>): Promise<Gw>;
  /** A user's token, signed by the overlay like a real login. */
  login(user: string, ttlSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

/** What a rig's security directory holds besides the certificates. */
export interface RigSecurity {
  readonly acl?: AccessFile;
  readonly users?: Readonly<Record<string, readonly string[]>>;
}

export const PASSWORD = 'correct-horse-1';
const NAMES = ['a', 'b', 'c', 'd', 'g', 'g2', 'g3'];

/** The demo models and the codec's test models. */
export function registry(): TypeRegistry {
  return new TypeRegistry().register(file_layer8_demo_v1_demo, file_layer8_demo_v1_codec);
}

/** Starts a rig: one VNet on 127.0.0.2 (TLS), nodes and gateways added by the test. */
export async function rig(security: RigSecurity = {}): Promise<Rig> {
  const ca = await tempOverlay(NAMES, { vnets: ['v0'] });
  if (security.acl !== undefined) writeFileSync(join(ca.dir, 'acl.json'), JSON.stringify(security.acl));
  for (const [name, roles] of Object.entries(security.users ?? {})) await addUser(ca.dir, name, PASSWORD, [...roles]);
  const dir = tempDir('l8-gw-');
  const vnet = new VNet({
    provider: ca.provider('v0'),
    host: hostAddress(0),
    port: 0,
    socketPath: `${dir.path}/v0.sock`,
    alias: 'v0',
  });
  await vnet.start();
  const nodes: Node[] = [];
  const gws: Gw[] = [];
  const vnic = async (name: string, provider: TlsProvider) => {
    const v = new VNic({ provider, alias: name, vnet: { path: vnet.addresses.unix as string } });
    await v.connect();
    return v;
  };
  return {
    ca,
    vnet,
    node: async (name, authorizing = false) => {
      const provider = ca.provider(name);
      const v = await vnic(name, provider);
      const n = {
        vnic: v,
        services: new ServiceManager(v, { registry: registry(), ...(authorizing ? { provider } : {}) }),
      };
      nodes.push(n);
      return n;
    },
    gateway: async (name, options = {}) => {
      const v = await vnic(name, ca.provider(name));
      const gateway = new Gateway({ vnic: v, port: 0, ...options });
      const { url } = await gateway.start();
      const gw = { vnic: v, gateway, url };
      gws.push(gw);
      return gw;
    },
    login: (user, ttlSeconds) => {
      const ttl = ttlSeconds === undefined ? {} : { tokenTtlSeconds: ttlSeconds };
      return new TlsProvider({ dir: ca.dir, node: 'a', ...ttl }).authenticateUser(user, PASSWORD);
    },
    close: async () => {
      for (const g of gws) await g.gateway.close();
      for (const n of nodes) await n.services.close();
      await Promise.all([...nodes, ...gws].map((n) => n.vnic.close()));
      await vnet.close();
      dir.remove();
      ca.remove();
    },
  };
}

/** An HTTP answer: status, headers and the body parsed as JSON (undefined when empty). */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: unknown;
  readonly text: string;
}

/** Sends one HTTP request to the gateway (a JSON body when `body` is not a string). */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const isJson = /^application\/json/.test(res.headers.get('content-type') ?? '');
  return { status: res.status, headers: res.headers, json: isJson && text !== '' ? JSON.parse(text) : undefined, text };
}

/** Waits until the gateway publishes (area, name), or no longer does (`present` false). */
export function published(gw: Gw, name: string, area = 0, present = true): Promise<unknown> {
  const what = `${name}/${area} ${present ? 'published' : 'gone'} at the gateway`;
  return waitFor(() => (gw.gateway.directory.route(area, name) !== undefined) === present, { what });
}
