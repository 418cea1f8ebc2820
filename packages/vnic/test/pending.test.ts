import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeMessage, Kind, type L8Error, l8error, type NodeId, newNodeId, nodeIdToBytes } from '@layer8/protocol';
import { Incoming } from '../src/payload.ts';
import { isSourceOf, PendingTable } from '../src/pending.ts';

function replyFrom(source: NodeId, sequence: number): Buffer {
  return encodeMessage({ kind: Kind.REPLY, source, sequence }).subarray(4);
}

describe('PendingTable sequences and targets', () => {
  test('sequences are random: not counters, never 0, all distinct while pending', async () => {
    const t = new PendingTable(2000);
    const node = newNodeId();
    const held = Array.from({ length: 1000 }, () => t.add(node, 10_000, undefined, undefined));
    const seqs = held.map((h) => h.seq);
    assert.equal(new Set(seqs).size, seqs.length);
    assert.ok(seqs.every((s) => s > 0 && s <= 0xffffffff && Number.isInteger(s)));
    const small = seqs.filter((s) => s <= 64).length;
    const steps = seqs.slice(1).filter((s, i) => s === (seqs[i] as number) + 1).length;
    assert.ok(small <= 1 && steps <= 1, `guessable: ${small} sequences in 1-64, ${steps} consecutive`);
    t.failAll(l8error('L8_ERR_CLOSED', 'done'));
    await Promise.allSettled(held.map((h) => h.promise));
  });

  test('skips 0 and sequences in use, refilling its pool when drawn out', async () => {
    const fills: number[] = [];
    // first pool: 0, then 7 over and over; second pool: 7 again (in use), then 9
    const fill = (pool: Uint32Array): void => {
      fills.push(pool.length);
      pool.fill(fills.length === 1 ? 7 : 9);
      pool[0] = fills.length === 1 ? 0 : 7;
    };
    const t = new PendingTable(10, { fill });
    const node = newNodeId();
    const a = t.add(node, 10_000, undefined, undefined);
    const b = t.add(node, 10_000, undefined, undefined);
    assert.deepEqual([a.seq, b.seq, fills.length], [7, 9, 2]);
    t.failAll(l8error('L8_ERR_CLOSED', 'done'));
    await Promise.allSettled([a.promise, b.promise]);
  });

  test('keeps the target node bytes: only an answer from it (by isSourceOf) may complete the request', async () => {
    const t = new PendingTable(10);
    const target = newNodeId();
    const rogue = newNodeId();
    const { seq, promise } = t.add(target, 10_000, undefined, undefined);
    const bytes = t.targetOf(seq);
    assert.deepEqual(bytes, nodeIdToBytes(target));
    assert.equal(isSourceOf(bytes as Uint8Array, replyFrom(target, seq)), true);
    assert.equal(isSourceOf(bytes as Uint8Array, replyFrom(rogue, seq)), false);
    assert.equal(t.targetOf(seq === 1 ? 2 : seq - 1), undefined);
    t.resolve(seq, new Incoming(replyFrom(target, seq)));
    assert.equal((await promise).source, target);
    assert.equal(t.targetOf(seq), undefined, 'forgotten once completed');
  });

  test('uses the id bytes it is given (the VNic passes its cache) and refuses a bad node id', async () => {
    const cached = new Uint8Array(16).fill(3);
    const t = new PendingTable(10, { idBytes: () => cached });
    const { seq, promise } = t.add(newNodeId(), 10_000, undefined, undefined);
    assert.equal(t.targetOf(seq), cached);
    const failed = assert.rejects(promise, (e: L8Error) => e.code === 'L8_ERR_CLOSED');
    t.failAll(l8error('L8_ERR_CLOSED', 'done'));
    assert.throws(
      () => new PendingTable(10).add('not-a-node' as never, 10, undefined, undefined),
      (e: L8Error) => e.code === 'L8_ERR_INVALID_ARGUMENT',
    );
    await failed;
  });
});
