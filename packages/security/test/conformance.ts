import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { LinkTransport } from '@layer8/link';
import { type ErrorCode, encodeMessage, Kind, Offset, ZERO_NODE_ID } from '@layer8/protocol';
import type { SecuredLink, SecurityProvider } from '../src/index.ts';
import { closed, type Listener, listen, readBytes, rejection } from './harness.ts';

/** A member that must be refused, and the codes either side may report. */
export interface BadPeer {
  readonly name: string;
  readonly provider: SecurityProvider;
  readonly codes: readonly ErrorCode[];
}

/** What a conformance run needs: two members that must be accepted, and members that must not. */
export interface ProviderPair {
  readonly transport: LinkTransport;
  /** The accepting (server) side. */
  readonly good: SecurityProvider;
  /** A second member the server must accept. */
  readonly goodPeer: SecurityProvider;
  readonly bad: readonly BadPeer[];
  /** Subject the good peer is expected to prove, when the provider names members. */
  readonly goodPeerSubject?: string;
}

const TEST_TIMEOUT = 10_000;
const BAD_HANDSHAKE: readonly ErrorCode[] = ['L8_ERR_HANDSHAKE', 'L8_ERR_MALFORMED_FRAME', 'L8_ERR_VERSION'];

async function pairUp(l: Listener, server: SecurityProvider, client: SecurityProvider, signal?: AbortSignal) {
  const [c, s] = await Promise.all([l.dial(), l.accept()]);
  const ctx = { transport: l.transport, ...(signal ? { signal } : {}) };
  const [cr, sr] = await Promise.allSettled([
    client.secureClient(c, { ...ctx, host: '127.0.0.1' }),
    server.secureServer(s, ctx),
  ]);
  return { c, s, cr, sr };
}

async function expectLink(
  l: Listener,
  server: SecurityProvider,
  client: SecurityProvider,
): Promise<[SecuredLink, SecuredLink]> {
  const { cr, sr } = await pairUp(l, server, client);
  if (cr.status === 'rejected') throw cr.reason;
  if (sr.status === 'rejected') throw sr.reason;
  return [cr.value, sr.value];
}

async function roundTrip(a: SecuredLink, b: SecuredLink, size: number): Promise<void> {
  const data = randomBytes(size);
  a.stream.write(data);
  assert.deepEqual(await readBytes(b.stream, b.head, size), data);
}

function codeIn(codes: readonly ErrorCode[], err: Error & { code?: string }, side: string): void {
  assert.ok(
    codes.includes(err.code as ErrorCode),
    `${side}: expected one of ${codes.join(', ')}, got ${err.code}: ${err.message}`,
  );
}

function end(...links: SecuredLink[]): void {
  for (const l of links) l.stream.destroy();
}

/**
 * The security provider conformance suite (STYLE.md, "Tests"): a provider links good members over real
 * sockets, data flows both ways, bad members are refused on both sides with a coded error and without a
 * hang, garbage and wrong-version peers are refused, and a refusal closes only that socket.
 */
export function runProviderConformance(name: string, makePair: () => Promise<ProviderPair>): void {
  describe(`provider conformance: ${name}`, { timeout: TEST_TIMEOUT * 4 }, () => {
    let pair: ProviderPair;
    let l: Listener;
    const setup = async (): Promise<void> => {
      pair ??= await makePair();
      l = await listen(pair.transport);
    };

    it('links two members and carries data both ways, head bytes first', { timeout: TEST_TIMEOUT }, async () => {
      await setup();
      const [client, server] = await expectLink(l, pair.good, pair.goodPeer);
      assert.equal(server.peer.provider, pair.good.name);
      if (pair.goodPeerSubject) assert.equal(server.peer.subject, pair.goodPeerSubject);
      await roundTrip(client, server, 100_000);
      await roundTrip(server, client, 1);
      end(client, server);
      await l.close();
    });

    it('each refusal closes only its own socket; the listener keeps accepting', { timeout: TEST_TIMEOUT }, async () => {
      await setup();
      const [keptC, keptS] = await expectLink(l, pair.good, pair.goodPeer);
      for (const bad of pair.bad) {
        const { c, s, cr, sr } = await pairUp(l, pair.good, bad.provider);
        assert.equal(sr.status, 'rejected', `${bad.name}: server accepted`);
        assert.equal(cr.status, 'rejected', `${bad.name}: client believed it was accepted`);
        if (sr.status === 'rejected') codeIn(bad.codes, sr.reason, `${bad.name} (server side)`);
        if (cr.status === 'rejected')
          codeIn([...bad.codes, 'L8_ERR_HANDSHAKE'], cr.reason, `${bad.name} (client side)`);
        await Promise.all([closed(c), closed(s)]);
      }
      await roundTrip(keptC, keptS, 10);
      const [c2, s2] = await expectLink(l, pair.good, pair.goodPeer);
      end(keptC, keptS, c2, s2);
      await l.close();
    });

    it('a good client refuses a bad server', { timeout: TEST_TIMEOUT }, async () => {
      await setup();
      for (const bad of pair.bad) {
        const { cr, sr } = await pairUp(l, bad.provider, pair.goodPeer);
        assert.equal(cr.status, 'rejected', `${bad.name}: client accepted a bad server`);
        assert.equal(sr.status, 'rejected', `${bad.name}: bad server believed it was accepted`);
        if (cr.status === 'rejected')
          codeIn([...bad.codes, 'L8_ERR_HANDSHAKE'], cr.reason, `${bad.name} (client side)`);
      }
      await l.close();
    });

    for (const [what, bytes] of garbage()) {
      it(`refuses a peer that sends ${what}, fast`, { timeout: TEST_TIMEOUT }, async () => {
        await setup();
        const [c, s] = await Promise.all([l.dial(), l.accept()]);
        c.on('error', () => undefined).on('data', () => undefined);
        c.write(bytes);
        const err = await rejection(pair.good.secureServer(s, { transport: l.transport }));
        codeIn(BAD_HANDSHAKE, err, what);
        await Promise.all([closed(s), closed(c)]);
        const [c2, s2] = await expectLink(l, pair.good, pair.goodPeer);
        end(c2, s2);
        await l.close();
      });
    }

    it('a silent peer fails with L8_ERR_HANDSHAKE at the deadline, on both sides', {
      timeout: TEST_TIMEOUT,
    }, async () => {
      await setup();
      const [c, s] = await Promise.all([l.dial(), l.accept()]);
      const signal = AbortSignal.timeout(100);
      codeIn(
        ['L8_ERR_HANDSHAKE'],
        await rejection(pair.good.secureServer(s, { transport: l.transport, signal })),
        'server',
      );
      const [c2, s2] = await Promise.all([l.dial(), l.accept()]);
      const ctx = { transport: l.transport, signal: AbortSignal.abort() };
      codeIn(['L8_ERR_HANDSHAKE'], await rejection(pair.goodPeer.secureClient(c2, ctx)), 'client');
      await Promise.all([closed(s), closed(c2)]);
      c.destroy();
      s2.destroy();
      await l.close();
    });
  });
}

/** Bytes no member sends: noise, and a well-formed control frame of protocol version 2. */
function garbage(): [string, Buffer][] {
  const v2 = encodeMessage({ kind: Kind.CONTROL, source: ZERO_NODE_ID, payload: Buffer.from('{"t":"challenge"}') });
  v2[4 + Offset.VERSION] = 2;
  return [
    ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a protocol version 2 frame', v2],
  ];
}
