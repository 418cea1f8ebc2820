import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevProvider, initSecurity, type SecurityProvider, TlsProvider } from '@layer8/security';
import { tempDir } from '../run/ports.ts';
import type { TargetSecurity } from './target-config.ts';

/** The certificate names of a TLS fuzz overlay: VNic certificates, and VNet certificates (`OU=vnet`). */
export const FUZZ_NODES = {
  local: 'fuzz-local',
  member: 'fuzz-member',
  controlServer: 'fuzz-control-server',
  controlClient: 'fuzz-control-client',
  targetVnic: 'fuzz-target-vnic',
} as const;

/** The VNet certificate names of a TLS fuzz overlay. */
export const FUZZ_VNETS = { targetVnet: 'fuzz-target-vnet', peer: 'fuzz-peer', fakeVnet: 'fuzz-fake-vnet' } as const;

/**
 * The overlay membership of one fuzz run, made for it and removed after: a fresh CA with a certificate
 * per part (TLS), or a fresh random passphrase (dev provider: links in the clear, loopback only). Also
 * holds the directory of the target VNet's unix socket.
 *
 * Invariant: `dir` exists (mode 0700) until {@link FuzzSecurity.remove}.
 */
export class FuzzSecurity {
  readonly kind: 'tls' | 'dev';
  /** A private directory for this run: the CA and certificates (TLS), the VNet's unix socket. */
  readonly dir: string;
  readonly #remove: () => void;
  readonly #passphrase: string;
  readonly #providers = new Map<string, SecurityProvider>();

  private constructor(kind: 'tls' | 'dev', dir: { path: string; remove: () => void }) {
    this.kind = kind;
    this.dir = dir.path;
    this.#remove = dir.remove;
    this.#passphrase = randomBytes(16).toString('hex');
  }

  /** Makes the membership of a run: a CA and certificates for every part when `tls`, else a passphrase. */
  static async create(tls: boolean): Promise<FuzzSecurity> {
    const dir = tempDir('l8-fuzz-');
    const s = new FuzzSecurity(tls ? 'tls' : 'dev', dir);
    if (tls) await initSecurity({ dir: dir.path, nodes: Object.values(FUZZ_NODES), vnets: Object.values(FUZZ_VNETS) });
    return s;
  }

  /** The provider of part `node` (one per name, made once). */
  provider(node: string): SecurityProvider {
    let p = this.#providers.get(this.kind === 'tls' ? node : '');
    if (p === undefined) {
      p =
        this.kind === 'tls'
          ? new TlsProvider({ dir: this.dir, node })
          : new DevProvider({ passphrase: this.#passphrase, warn: () => undefined });
      this.#providers.set(this.kind === 'tls' ? node : '', p);
    }
    return p;
  }

  /** How a target process of part `node` proves itself. */
  target(node: string): TargetSecurity {
    return this.kind === 'tls' ? { tls: { dir: this.dir, node } } : { passphrase: this.#passphrase };
  }

  /**
   * Fields of part `node`'s challenge in a proof made of handshake frames (docs/protocol.md §6.1): the
   * provider's name, and the certificate for TLS.
   */
  challenge(node: string): Record<string, unknown> {
    if (this.kind === 'dev') return { provider: 'dev' };
    return { provider: 'tls', cert: readFileSync(join(this.dir, `${node}.crt`), 'utf8') };
  }

  /** Whether the membership proof over TCP is made of handshake frames (dev) rather than TLS. */
  get tcpProofFrames(): boolean {
    return this.kind === 'dev';
  }

  /** Removes the directory (certificates, keys, socket). */
  remove(): void {
    this.#remove();
  }
}
