import { initSecurity, TlsProvider } from '@layer8/security';
import { tempDir } from './ports.ts';

/** A temporary overlay CA with node certificates, and providers made from it. */
export interface TempOverlay {
  /** The security directory (`l8 security init` layout). */
  readonly dir: string;
  /** A TLS provider for node `name` (one of the names given at creation). */
  provider(name: string): TlsProvider;
  /** Removes the directory. */
  remove(): void;
}

/** Creates a temporary overlay CA and certificates for `nodes` (P-256 unless told). */
export async function tempOverlay(
  nodes: readonly string[],
  algorithm: 'P-256' | 'Ed25519' = 'P-256',
): Promise<TempOverlay> {
  const dir = tempDir('l8-ca-');
  await initSecurity({ dir: dir.path, nodes, algorithm });
  return { dir: dir.path, provider: (node) => new TlsProvider({ dir: dir.path, node }), remove: dir.remove };
}
