import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { l8error } from '@layer8/protocol';
import {
  initSecurity,
  issueNodeCert,
  type KeyAlgorithm,
  type LinkContext,
  ProofChannel,
  revoke,
  runMutualProof,
  type SecuredLink,
  type SecurityProvider,
  TlsProvider,
} from '../src/index.ts';
import { loadCaSigner } from '../src/tls/ca.ts';
import { generateKeys, privateKeyPem } from '../src/tls/keys.ts';
import { commonNameOf } from '../src/tls/layout.ts';
import { buildCertificate, type CertificateSpec, newSerial } from '../src/tls/x509-builder.ts';
import type { BadPeer, ProviderPair } from './conformance.ts';

/** A fresh temp directory for one test file. */
export function tempDir(): string {
  return mkdtempSync(`${tmpdir()}/l8-`);
}

/** Two overlays: `a` with good, expired and revoked members, `b` with a member of another CA. */
export interface Overlays {
  readonly a: string;
  readonly b: string;
}

/** Creates the overlays of the conformance runs. */
export async function makeOverlays(algorithm: KeyAlgorithm): Promise<Overlays> {
  const root = tempDir();
  const a = join(root, 'a');
  const b = join(root, 'b');
  await initSecurity({ dir: a, nodes: ['server', 'peer', 'gone'], algorithm });
  await issueNodeCert(a, 'stale', { validDays: -1 });
  revoke(a, 'gone');
  await initSecurity({ dir: b, nodes: ['alien'], algorithm });
  return { a, b };
}

/**
 * A member with no certificate: on TCP it offers TLS without a client certificate, on a unix socket it
 * runs the proof with an empty challenge and a bogus signature.
 */
export class NoCertProvider implements Partial<SecurityProvider> {
  readonly name = 'tls';
  readonly #ca: string;

  constructor(caFile: string) {
    this.#ca = readFileSync(caFile, 'utf8');
  }

  secureClient(socket: Socket, ctx: LinkContext): Promise<SecuredLink> {
    return ctx.transport === 'unix' ? runMutualProof(socket, false, noCertScheme, ctx) : this.#tls(socket);
  }

  secureServer(socket: Socket, ctx: LinkContext): Promise<SecuredLink> {
    return runMutualProof(socket, true, noCertScheme, ctx);
  }

  /** Offers TLS without a certificate; believes it is in only when the server's first frame is an accept. */
  async #tls(socket: Socket): Promise<SecuredLink> {
    const s = connect({ socket, ca: this.#ca, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', () => resolve());
      s.once('error', (e) => reject(l8error('L8_ERR_HANDSHAKE', e.message)));
    });
    const channel = new ProofChannel(s);
    try {
      if ((await channel.next()).t !== 'accept') throw l8error('L8_ERR_HANDSHAKE', 'no acceptance');
      return { stream: s, peer: { provider: 'tls', subject: '?', role: 'vnic' }, head: channel.release() };
    } catch (err) {
      channel.release();
      s.destroy();
      throw err;
    }
  }
}

const noCertScheme = {
  challengeFields: () => ({ provider: 'tls' }),
  prove: () => 'AAAA',
  verify: () => {
    throw l8error('L8_ERR_AUTH', 'this test member trusts nobody');
  },
};

/** The conformance pair of the TLS provider over `transport`. */
export function tlsPair(o: Overlays, transport: 'tcp' | 'unix'): ProviderPair {
  const member = (dir: string, node: string): TlsProvider => new TlsProvider({ dir, node });
  const bad = (name: string, provider: SecurityProvider, ...codes: BadPeer['codes']): BadPeer => ({
    name,
    provider,
    codes,
  });
  return {
    transport,
    good: member(o.a, 'server'),
    goodPeer: member(o.a, 'peer'),
    goodPeerSubject: 'peer',
    bad: [
      // Over TCP the alien refuses our certificate first and just closes: the server sees L8_ERR_HANDSHAKE.
      bad(
        'another overlay',
        member(o.b, 'alien'),
        'L8_ERR_AUTH',
        ...(transport === 'tcp' ? ['L8_ERR_HANDSHAKE' as const] : []),
      ),
      bad('no certificate', new NoCertProvider(join(o.a, 'ca.crt')) as unknown as SecurityProvider, 'L8_ERR_AUTH'),
      bad('expired certificate', member(o.a, 'stale'), 'L8_ERR_CERT_EXPIRED'),
      bad('revoked certificate', member(o.a, 'gone'), 'L8_ERR_CERT_REVOKED'),
    ],
  };
}

/**
 * Issues `<name>.crt` / `<name>.key` in `dir` from a hand-made spec signed by the overlay CA: for
 * certificates `issueNodeCert` never makes (no role, another unit, one key usage). Valid for a day.
 */
export function issueCustomCert(dir: string, name: string, spec: Partial<CertificateSpec> = {}): void {
  const ca = loadCaSigner(dir);
  const keys = generateKeys(ca.algorithm);
  const now = Date.now();
  const pem = buildCertificate({
    serial: newSerial(),
    issuer: commonNameOf(ca.cert),
    subject: name,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    issuerKey: ca.keys.publicKey,
    ca: false,
    dns: [name],
    ips: ['127.0.0.1'],
    ...spec,
  });
  writeFileSync(join(dir, `${name}.crt`), pem);
  writeFileSync(join(dir, `${name}.key`), privateKeyPem(keys.privateKey), { mode: 0o600 });
}
