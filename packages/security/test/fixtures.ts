import { mkdtempSync, readFileSync } from 'node:fs';
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
  revoke,
  runMutualProof,
  type SecuredLink,
  type SecurityProvider,
  TlsProvider,
} from '../src/index.ts';
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
    return ctx.transport === 'unix' ? runMutualProof(socket, false, noCertScheme, ctx.signal) : this.#tls(socket);
  }

  secureServer(socket: Socket, ctx: LinkContext): Promise<SecuredLink> {
    return runMutualProof(socket, true, noCertScheme, ctx.signal);
  }

  #tls(socket: Socket): Promise<SecuredLink> {
    const s = connect({ socket, ca: this.#ca, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
    return new Promise((resolve, reject) => {
      s.once('secureConnect', () => {
        s.once('data', () => resolve({ stream: s, peer: { provider: 'tls', subject: '?' }, head: Buffer.alloc(0) }));
        s.once('error', (e) => reject(l8error('L8_ERR_AUTH', e.message)));
      });
      s.once('error', (e) => reject(l8error('L8_ERR_HANDSHAKE', e.message)));
    });
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
