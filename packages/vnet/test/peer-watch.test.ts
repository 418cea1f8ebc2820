import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Agent, type ProcessTopology, startProcessTopology, waitFor } from '@layer8/testkit';
import { RING_NEIGHBOURS, ringOf } from '@layer8/vnet/internal';

const HB = 1000;
const VNETS = 7;

/** A stand-in for a peer connection: the ring only reads ids. */
const peer = (id: string): Parameters<typeof ringOf>[1][number] => ({ id }) as Parameters<typeof ringOf>[1][number];

describe('ring neighbours', () => {
  test('k next and k previous ids, wrapping; every peer when there are few', () => {
    const ids = ['b', 'd', 'f', 'h', 'j', 'l'];
    const peers = ids.map(peer);
    const names = (own: string): string[] => [...ringOf(own, peers, 2)].map((c) => c.id).sort();
    assert.deepEqual(names('g'), ['d', 'f', 'h', 'j']);
    assert.deepEqual(names('a'), ['b', 'd', 'j', 'l']);
    assert.deepEqual(names('m'), ['b', 'd', 'j', 'l']);
    assert.deepEqual([...ringOf('a', peers.slice(0, 4), 2)].length, 4);
  });

  test('the relation is symmetric: if B is a neighbour of A, A is one of B', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    for (const a of ids) {
      for (const b of ringOf(a, ids.filter((x) => x !== a).map(peer), RING_NEIGHBOURS)) {
        const back = ringOf(b.id, ids.filter((x) => x !== b.id).map(peer), RING_NEIGHBOURS);
        assert.ok(
          [...back].some((c) => c.id === a),
          `${a} → ${b.id} but not back`,
        );
      }
    }
  });
});

describe(`${VNETS} VNets in separate processes (TLS): a hung VNet is dropped by all, watchers or not`, {
  timeout: 120_000,
}, () => {
  let topo: ProcessTopology;
  const peersOf = async (a: Agent): Promise<string[]> => (await a.call<{ peers: string[] }>('stats')).peers;
  const everyoneSees = async (id: string, present: boolean, others: Agent[]): Promise<boolean> =>
    (await Promise.all(others.map(peersOf))).every((p) => p.includes(id) === present);

  before(async () => {
    topo = await startProcessTopology({ vnets: VNETS, vnicsPerVnet: 0, tls: true, heartbeatMs: HB });
    const all = topo.vnets;
    await waitFor(async () => (await Promise.all(all.map(peersOf))).every((p) => p.length === VNETS - 1), {
      timeoutMs: 30_000,
      what: 'a full mesh',
    });
  });

  after(() => topo?.close());

  test('SIGSTOP: ring neighbours suspect it, the others probe it, every VNet drops it; SIGCONT: it links again', async () => {
    const hung = topo.vnets[3] as Agent;
    const others = topo.vnets.filter((a) => a !== hung);
    // with 6 peers each and 2 ring neighbours on each side, two of the others do not watch the hung VNet
    hung.signal('pause');
    try {
      await waitFor(() => everyoneSees(hung.nodeId, false, others), {
        timeoutMs: 6 * HB,
        what: 'every other VNet dropped the hung VNet',
      });
    } finally {
      hung.signal('resume');
    }
    await waitFor(() => everyoneSees(hung.nodeId, true, others), { timeoutMs: 30_000, what: 'the VNet linked again' });
  });
});
