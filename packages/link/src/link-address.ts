/** Which kind of socket a link runs on. */
export type LinkTransport = 'tcp' | 'unix';

/** Where a link goes: TCP host and port, or a unix socket path. */
export type LinkAddress = { readonly host: string; readonly port: number } | { readonly path: string };

/** Human form of an address: the socket path, `host:port`, or `[v6]:port`. */
export function formatAddress(a: LinkAddress): string {
  return 'path' in a ? a.path : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
