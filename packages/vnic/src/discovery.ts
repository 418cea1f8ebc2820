import { lstatSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LinkAddress } from '@layer8/link';
import { type L8Error, l8error } from '@layer8/protocol';

/** Default VNet TCP port, as the VNet has it. */
export const VNET_PORT = 26000;

/**
 * Default unix socket path of the local VNet, the VNet's rule (`defaultSocketPath` of `@layer8/vnet`,
 * kept equal by a test there): `$XDG_RUNTIME_DIR/layer8/vnet.sock` when set, `/run/layer8/vnet.sock` for
 * root, otherwise `${tmpdir()}/layer8-<uid>/vnet.sock`.
 */
export function defaultVNetSocket(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'layer8', 'vnet.sock');
  if (uid === 0) return '/run/layer8/vnet.sock';
  return join(tmpdir(), uid === undefined ? 'layer8' : `layer8-${uid}`, 'vnet.sock');
}

/** Default unix socket path of the local VNet for this process's environment and user. */
export const VNET_SOCKET = defaultVNetSocket();

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
 * unix socket (when something is there, see {@link trustedSocket}), `NODE_IP` with the default port
 * (Kubernetes), then localhost.
 * @throws L8_ERR_INSECURE when something another local user could have planted is at the default socket
 */
export function discoverVNet(
  explicit: LinkAddress | string | undefined,
  env: NodeJS.ProcessEnv,
  socketPath = defaultVNetSocket(env),
): LinkAddress {
  if (explicit !== undefined) return typeof explicit === 'string' ? parseAddress(explicit) : explicit;
  if (env.L8_VNET) return parseAddress(env.L8_VNET);
  if (trustedSocket(socketPath)) return { path: socketPath };
  if (env.NODE_IP) return { host: env.NODE_IP, port: VNET_PORT };
  return { host: '127.0.0.1', port: VNET_PORT };
}

/**
 * Whether a socket the VNic may dial is at `path`: false when nothing is there; true for a socket owned
 * by root or by `uid`, in a real directory owned by one of them and not writable by group or others (so
 * nobody else could have put it there or can swap it). The link's membership proof still runs on it;
 * this keeps another user from receiving our half of that proof.
 * @param uid our effective uid; undefined (no uids, Windows) skips the ownership checks.
 * @throws L8_ERR_INSECURE (data `{path, reason}`) when something else is at `path`
 */
export function trustedSocket(path: string, uid = process.getuid?.()): boolean {
  const st = lstatOrUndefined(path);
  if (st === undefined) return false;
  if (!st.isSocket()) throw untrusted(path, st.isSymbolicLink() ? 'symlink' : 'not-a-socket');
  if (uid === undefined) return true;
  if (!trustedOwner(st, uid)) throw untrusted(path, 'foreign-owner');
  const dir = lstatOrUndefined(dirname(path));
  if (dir === undefined || !dir.isDirectory() || !trustedOwner(dir, uid)) throw untrusted(path, 'foreign-directory');
  if ((dir.mode & 0o022) !== 0) throw untrusted(path, 'writable-directory');
  return true;
}

function trustedOwner(st: Stats, uid: number): boolean {
  return st.uid === uid || st.uid === 0;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function untrusted(path: string, reason: string): L8Error {
  return l8error('L8_ERR_INSECURE', `refusing the VNet socket ${path} (${reason}): another local user may control it`, {
    data: { path, reason },
  });
}
