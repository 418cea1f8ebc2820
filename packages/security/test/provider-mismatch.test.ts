import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { before, describe, it } from 'node:test';
import { formatAddress, type LinkTransport } from '@layer8/link';
import type { L8Error } from '@layer8/protocol';
import { acceptLink, DevProvider, dialLink, initSecurity, type SecurityProvider, TlsProvider } from '../src/index.ts';
import { tempDir } from './fixtures.ts';
import { helloOf, serve } from './harness.ts';

const dev = (): DevProvider => new DevProvider({ passphrase: 'provider-mismatch', warn: () => undefined });

/** A server on `provider` accepting one link; `accepted` settles with the acceptor's outcome. */
async function acceptOne(provider: SecurityProvider, transport: LinkTransport) {
  let onSocket!: (outcome: Promise<L8Error | 'joined'>) => void;
  const accepted = new Promise<L8Error | 'joined'>((resolve) => {
    onSocket = resolve;
  });
  const srv = await serve(transport, (s) => onSocket(outcome(acceptLink(provider, s, transport, helloOf('vnet')))));
  return { ...srv, accepted };
}

/** Both sides' outcome when `client` dials a server on `server` over `transport` with dialLink/acceptLink. */
async function link(server: SecurityProvider, client: SecurityProvider, transport: LinkTransport) {
  const srv = await acceptOne(server, transport);
  const dialed = await outcome(dialLink(client, srv.address, helloOf('vnic')));
  const result = { dialed, accepted: await srv.accepted, where: formatAddress(srv.address) };
  await srv.close();
  return result;
}

async function outcome(p: Promise<{ stream: { destroy(): void } }>): Promise<L8Error | 'joined'> {
  try {
    (await p).stream.destroy();
    return 'joined';
  } catch (err) {
    return err as L8Error;
  }
}

/** Asserts a refusal with `code` whose message matches `text`. */
function refused(r: L8Error | 'joined', code: string, text: RegExp, side: string): void {
  assert.notEqual(r, 'joined', `${side} joined`);
  const e = r as L8Error;
  assert.equal(e.code, code, `${side}: ${e.code}: ${e.message}`);
  assert.match(e.message, text, side);
}

const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a peer of another security provider is refused at once, with what to do', () => {
  let dir: string;
  let alien: string;
  before(async () => {
    dir = tempDir();
    alien = tempDir();
    await initSecurity({ dir, nodes: ['svc'], vnets: ['hub'] });
    await initSecurity({ dir: alien, nodes: ['stranger'] });
  });
  const tls = (node: string, d = dir): TlsProvider => new TlsProvider({ dir: d, node });

  for (const transport of ['tcp', 'unix'] as const) {
    it(`${transport}: a dev dialler of a TLS VNet is told to pass --security, not "wrong passphrase"`, async () => {
      const r = await link(tls('hub'), dev(), transport);
      const where = literal(r.where);
      refused(
        r.dialed,
        'L8_ERR_AUTH',
        new RegExp(`^the VNet at ${where} uses the TLS provider: pass --security`),
        'dialler',
      );
      refused(
        r.accepted,
        'L8_ERR_AUTH',
        /^refused a peer that uses the dev provider: this node uses the TLS provider$/,
        'acceptor',
      );
    });

    it(`${transport}: a TLS dialler of a dev VNet is told to join it with --dev`, async () => {
      const r = await link(dev(), tls('svc'), transport);
      const where = literal(r.where);
      const what = transport === 'tcp' ? 'does not speak TLS \\(a dev-provider VNet\\?\\)' : 'uses the dev provider';
      refused(r.dialed, 'L8_ERR_AUTH', new RegExp(`^the VNet at ${where} ${what}: join it with --dev`), 'dialler');
      refused(r.accepted, 'L8_ERR_AUTH', /^refused a peer that (speaks TLS|uses the TLS provider)/, 'acceptor');
    });

    it(`${transport}: a certificate of another overlay reads "not signed by this overlay's CA"`, async () => {
      const r = await link(tls('hub'), tls('stranger', alien), transport);
      refused(r.dialed, 'L8_ERR_AUTH', /^certificate of (hub|the peer) is not signed by this overlay's CA/, 'dialler');
      assert.doesNotMatch((r.dialed as L8Error).message, /self-signed/);
      if (r.accepted !== 'joined' && r.accepted.code === 'L8_ERR_AUTH') {
        assert.match(r.accepted.message, /^certificate of stranger is not signed by this overlay's CA/);
      }
    });
  }

  it('a TLS VNet answers garbage and foreign frames over TCP with L8_ERR_HANDSHAKE, not a mismatch', async () => {
    const srv = await acceptOne(tls('hub'), 'tcp');
    const c = connect(srv.address as { host: string; port: number });
    c.on('error', () => undefined).on('data', () => undefined);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    refused(await srv.accepted, 'L8_ERR_HANDSHAKE', /does not speak TLS/, 'acceptor');
    c.destroy();
    await srv.close();
  });
});
