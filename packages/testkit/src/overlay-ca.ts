import { tempDir } from '@layer8/chaos';
import { initSecurity, type KeyAlgorithm, TlsProvider } from '@layer8/security';

/** A temporary overlay CA with node certificates, and providers made from it. */
export interface TempOverlay {
  /** The security directory (`l8 security init` layout). */
  readonly dir: string;
  /** A TLS provider for node `name` (one of the names given at creation, VNic or VNet). */
  provider(name: string): TlsProvider;
  /** Removes the directory. */
  remove(): void;
}

/** Options of {@link tempOverlay}. */
export interface TempOverlayOptions {
  /** Names that get VNet certificates (`OU=vnet`): only these can run a VNet. Default none. */
  readonly vnets?: readonly string[];
  /** Key algorithm. Default `P-256`. */
  readonly algorithm?: KeyAlgorithm;
}

/**
 * Creates a temporary overlay CA with VNic certificates for `nodes` and VNet certificates for
 * `options.vnets` (P-256 unless told). The older form `tempOverlay(nodes, algorithm)` still works and
 * issues VNic certificates only.
 */
export async function tempOverlay(
  nodes: readonly string[],
  options: TempOverlayOptions | KeyAlgorithm = {},
): Promise<TempOverlay> {
  const o = typeof options === 'string' ? { algorithm: options } : options;
  const dir = tempDir('l8-ca-');
  await initSecurity({ dir: dir.path, nodes, vnets: o.vnets ?? [], algorithm: o.algorithm ?? 'P-256' });
  return { dir: dir.path, provider: (node) => new TlsProvider({ dir: dir.path, node }), remove: dir.remove };
}
