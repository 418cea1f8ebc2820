import { existsSync } from 'node:fs';
import { l8error } from '@layer8/protocol';
import type { LinkAddress } from '@layer8/security';

/** Default VNet TCP port, as the VNet has it. */
export const VNET_PORT = 26000;

/** Default unix socket path of the local VNet, as the VNet has it. */
export const VNET_SOCKET = '/tmp/layer8/vnet.sock';

/**
 * Parses `host:port`, `[v6]:port`, a bare host (default port) or a unix socket path (starts with `/`).
 * @throws L8_ERR_INVALID_ARGUMENT
 */
export function parseAddress(text: string): LinkAddress {
  if (text.startsWith('/') || text.startsWith('unix:')) return { path: text.replace(/^unix:/, '') };
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? VNET_PORT : Number(m[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `not a VNet address: ${text}`);
  }
  return { host, port };
}

/**
 * Where to find the local VNet, in order (DESIGN.md §1): the explicit address, `L8_VNET`, the default
 * unix socket (when the file exists), `NODE_IP` with the default port (Kubernetes), then localhost.
 */
export function discoverVNet(
  explicit: LinkAddress | string | undefined,
  env: NodeJS.ProcessEnv,
  socketPath = VNET_SOCKET,
): LinkAddress {
  if (explicit !== undefined) return typeof explicit === 'string' ? parseAddress(explicit) : explicit;
  if (env.L8_VNET) return parseAddress(env.L8_VNET);
  if (existsSync(socketPath)) return { path: socketPath };
  if (env.NODE_IP) return { host: env.NODE_IP, port: VNET_PORT };
  return { host: '127.0.0.1', port: VNET_PORT };
}
