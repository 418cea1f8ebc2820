import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { LinkTransport } from '@layer8/link';
import { type L8Error, type NodeId, newNodeId } from '@layer8/protocol';
import {
  acceptLink,
  DevProvider,
  initSecurity,
  type OpenedLink,
  ProofChannel,
  type SecurityProvider,
  TlsProvider,
} from '../src/index.ts';
import { tempDir } from './fixtures.ts';
import { helloOf, type Listener, listen, rejection } from './harness.ts';

/**
 * The relay attack on challenge-response proofs: an attacker that knows no secret gets a member to dial it
 * (a VNet dials its configured or discovered peers), opens its own connection to an acceptor, and relays
 * the dialer's challenge, proof and accept into it; then it takes the accepted link over and sends its
 * own hello. With proofs over the nonces alone (v1) the acceptor let it in. With v2 the proof binds the
 * direction and both node ids: reflected to its own maker it names that node as its own peer, relayed from
 * another member it binds that member's id, so a hello under any other id is refused.
 */

const quiet = (): void => undefined;
const PASSPHRASE = 'correct horse battery';

interface Member {
  readonly name: string;
  readonly transport: LinkTransport;
  readonly dialer: () => SecurityProvider;
  readonly acceptor: () => SecurityProvider;
}

async function members(): Promise<Member[]> {
  const dir = tempDir();
  await initSecurity({ dir, vnets: ['hub-a', 'hub-d'] });
  const dev = (): SecurityProvider => new DevProvider({ passphrase: PASSPHRASE, warn: quiet });
  const tls = (node: string) => (): SecurityProvider => new TlsProvider({ dir, node });
  return [
    { name: 'dev over tcp', transport: 'tcp', dialer: dev, acceptor: dev },
    { name: 'dev over unix', transport: 'unix', dialer: dev, acceptor: dev },
    { name: 'tls unix proof', transport: 'unix', dialer: tls('hub-d'), acceptor: tls('hub-a') },
  ];
}

/**
 * The attacker's relay: frames from the dialer's socket go to the acceptor and back, for the three steps of
 * the proof (challenge, proof, accept). Returns the acceptor-side bytes left over, or the error that
 * stopped the relay (a fail frame from either end).
 */
async function relayProof(fromDialer: Socket, toAcceptor: Socket, rewrite = (b: Record<string, unknown>) => b) {
  const dialer = new ProofChannel(fromDialer);
  const acceptor = new ProofChannel(toAcceptor);
  try {
    for (let step = 0; step < 3; step++) {
      acceptor.send(rewrite(await dialer.next()));
      dialer.send(await acceptor.next());
    }
    return acceptor.release();
  } catch (err) {
    dialer.release();
    acceptor.release();
    return err as L8Error;
  }
}

interface Attack {
  readonly dialerId: NodeId;
  readonly acceptorId: NodeId;
  /** The dialing member's provider; the acceptor's own for a reflection. */
  readonly dialer: () => SecurityProvider;
  readonly rewrite?: (b: Record<string, unknown>) => Record<string, unknown>;
}

/** Runs the attack: the dialer dials the attacker, which relays into its own connection to the acceptor. */
async function attack(m: Member, a: Attack): Promise<PromiseSettledResult<OpenedLink>> {
  const attackerSide: Listener = await listen(m.transport);
  const acceptorSide: Listener = await listen(m.transport);
  const [dialerSocket, fromDialer] = await Promise.all([attackerSide.dial(), attackerSide.accept()]);
  const [toAcceptor, accepted] = await Promise.all([acceptorSide.dial(), acceptorSide.accept()]);
  dialerSocket.on('error', quiet);
  toAcceptor.on('error', quiet);
  // The acceptor runs its real link setup; the dialer runs what dialLink runs before its hello.
  const joining = settle(acceptLink(m.acceptor(), accepted, m.transport, helloOf('vnet', a.acceptorId)));
  const dialing = a.dialer().secureClient(dialerSocket, { transport: m.transport, nodeId: a.dialerId });
  dialing.catch(quiet);
  const relayed = await relayProof(fromDialer, toAcceptor, a.rewrite);
  if (Buffer.isBuffer(relayed)) {
    new ProofChannel(toAcceptor, undefined, relayed).send({ t: 'hello', ...helloOf('vnet', newNodeId()) });
  }
  const joined = await joining;
  if (joined.status === 'fulfilled') joined.value.stream.destroy();
  dialerSocket.destroy();
  await Promise.all([attackerSide.close(), acceptorSide.close()]);
  return joined;
}

/** Settles at once, so a refusal before the relay ends is not an unhandled rejection. */
function settle<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return Promise.allSettled([p]).then(([r]) => r as PromiseSettledResult<T>);
}

function refusedWith(r: PromiseSettledResult<OpenedLink>, code: string): void {
  if (r.status === 'fulfilled')
    assert.fail(`the attacker joined as ${r.value.hello.nodeId} (proven ${r.value.peer.subject})`);
  assert.equal((r.reason as L8Error).code, code, (r.reason as Error).message);
}

describe('membership proof relay', async () => {
  for (const m of await members()) {
    it(`${m.name}: a member's own dial reflected back into its listener is refused with L8_ERR_IDENTITY`, async () => {
      const self = newNodeId();
      const joined = await attack(m, { dialerId: self, acceptorId: self, dialer: m.acceptor });
      refusedWith(joined, 'L8_ERR_IDENTITY');
    });

    it(`${m.name}: another member's proof relayed to an acceptor binds that member's id, so the attacker's hello is refused`, async () => {
      const joined = await attack(m, { dialerId: newNodeId(), acceptorId: newNodeId(), dialer: m.dialer });
      refusedWith(joined, 'L8_ERR_IDENTITY');
    });

    it(`${m.name}: a relayed challenge with the attacker's own id breaks the proof (L8_ERR_AUTH)`, async () => {
      const rewrite = (body: Record<string, unknown>) =>
        body.t === 'challenge' ? { ...body, nodeId: newNodeId() } : body;
      const joined = await attack(m, { dialerId: newNodeId(), acceptorId: newNodeId(), dialer: m.dialer, rewrite });
      refusedWith(joined, 'L8_ERR_AUTH');
    });
  }

  it("an honest pair links, and each side's proven peer carries the other's node id", async () => {
    const l = await listen('unix');
    const [c, s] = await Promise.all([l.dial(), l.accept()]);
    const dev = (): DevProvider => new DevProvider({ passphrase: PASSPHRASE, warn: quiet });
    const [a, b] = [newNodeId(), newNodeId()];
    const [client, server] = await Promise.all([
      dev().secureClient(c, { transport: 'unix', nodeId: a }),
      dev().secureServer(s, { transport: 'unix', nodeId: b }),
    ]);
    assert.deepEqual(server.peer, { provider: 'dev', subject: 'dev', role: 'any', nodeId: a });
    assert.deepEqual(client.peer, { provider: 'dev', subject: 'dev', role: 'any', nodeId: b });
    client.stream.destroy();
    server.stream.destroy();
    await l.close();
  });

  it('a side with a node id refuses a peer that binds none, and an invalid one', async () => {
    for (const peerId of [undefined, 'not-a-node-id']) {
      const l = await listen('tcp');
      const [c, s] = await Promise.all([l.dial(), l.accept()]);
      const dev = (): DevProvider => new DevProvider({ passphrase: PASSPHRASE, warn: quiet });
      const server = dev().secureServer(s, { transport: 'tcp', nodeId: newNodeId() });
      const client = dev().secureClient(c, { transport: 'tcp', ...(peerId ? { nodeId: peerId as NodeId } : {}) });
      client.catch(quiet);
      assert.equal((await rejection(server)).code, peerId ? 'L8_ERR_HANDSHAKE' : 'L8_ERR_IDENTITY');
      await l.close();
    }
  });
});
