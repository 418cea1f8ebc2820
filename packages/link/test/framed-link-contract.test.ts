import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { encodeMessage, Kind, type L8Error, l8error, newNodeId, payloadOffset } from '@layer8/protocol';
import { FramedLink } from '../src/index.ts';

/** A connected pair of real loopback sockets. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [a, b] = await Promise.all([accepted, new Promise<Socket>((r) => client.once('connect', () => r(client)))]);
  server.close();
  return [a, b];
}

/**
 * Resolves once `cond` holds, polled every 5 ms; rejects at the deadline. (The condition wait of
 * @layer8/testkit, which this package cannot import: testkit depends on it.)
 */
async function waitFor(cond: () => boolean, { what = 'a condition', timeoutMs = 5000 } = {}): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A NOTIFY frame whose payload starts with `tag` (4 bytes), `bytes` long in all. */
function frame(tag: number, bytes = 64): Buffer {
  const payload = Buffer.alloc(Math.max(4, bytes));
  payload.writeUInt32BE(tag, 0);
  return encodeMessage({ kind: Kind.NOTIFY, source: newNodeId(), service: 's', payload });
}

const tagOf = (f: Buffer): number => f.readUInt32BE(payloadOffset(f));

/** Two linked FramedLinks over loopback TCP; `b` records the tags it receives and its closes. */
async function linkedPair(maxQueuedBytes: number) {
  const [x, y] = await socketPair();
  const got: number[] = [];
  const closes = { a: [] as (L8Error | undefined)[], b: [] as (L8Error | undefined)[] };
  const a = new FramedLink(x, { maxQueuedBytes, onFrame: () => undefined, onClose: (e) => closes.a.push(e) }).start();
  const b = new FramedLink(y, { onFrame: (f) => got.push(tagOf(f)), onClose: (e) => closes.b.push(e) }).start();
  return { a, b, x, got, closes };
}

describe('FramedLink: what a refused send and a close leave behind', () => {
  test('a send refused for back-pressure queues nothing: the queue is unchanged and the frame never arrives', async () => {
    const { a, b, got } = await linkedPair(1024);
    try {
      a.send(frame(1, 10_000)); // larger than the queue: goes because nothing waits
      const pending = a.pendingBytes;
      assert.ok(pending > 1024);
      assert.throws(
        () => a.send(frame(2)),
        (e: L8Error) => e.code === 'L8_ERR_BACKPRESSURE',
      );
      assert.equal(a.trySend(frame(3)), false);
      assert.equal(a.tryForward(frame(4).subarray(4)), false);
      assert.equal(a.reserve(100), -1);
      assert.equal(a.pendingBytes, pending, 'nothing of the refused frames was queued');
      assert.equal(a.stats.refused, 4);
      await a.writable(100);
      a.send(frame(5));
      // one link is FIFO: once frame 5 is in, anything queued before it has arrived
      await waitFor(() => got.includes(5));
      assert.deepEqual(got, [1, 5]);
      assert.equal(a.stats.framesOut, 2);
    } finally {
      a.close();
      b.close();
    }
  });

  test('a graceful close flushes every queued frame, then refuses sends; onClose runs once', async () => {
    const { a, x, got, closes } = await linkedPair(1 << 20);
    for (let i = 1; i <= 5; i++) a.send(frame(i));
    a.close();
    a.close(); // idempotent
    assert.equal(a.closed, true);
    assert.throws(
      () => a.send(frame(6)),
      (e: L8Error) => e.code === 'L8_ERR_CLOSED',
    );
    assert.equal(a.trySend(frame(7)), false);
    await assert.rejects(a.writable(0), (e: L8Error) => e.code === 'L8_ERR_CLOSED');
    await waitFor(() => closes.b.length > 0 && x.destroyed, { what: 'both ends closed' });
    assert.deepEqual(got, [1, 2, 3, 4, 5], 'queued frames were flushed, later ones never sent');
    assert.deepEqual(closes.a, [undefined], 'onClose once, even after the socket closed too');
    assert.deepEqual(closes.b, [undefined], "the peer's onClose once, without an error");
    assert.equal(a.stats.refused, 0, 'a send after close is not a back-pressure refusal');
  });

  test('a close with an error drops the queue and wakes writers waiting for room', async () => {
    const { a, x, got, closes } = await linkedPair(1024);
    a.send(frame(1, 4000)); // queued until the end of the turn
    const waiting = a.writable(100);
    a.close(l8error('L8_ERR_MALFORMED_FRAME', 'test fault'));
    await assert.rejects(waiting, (e: L8Error) => e.code === 'L8_ERR_CLOSED');
    await waitFor(() => closes.b.length > 0 && x.destroyed, { what: 'both ends closed' });
    assert.deepEqual(got, [], 'the queued frame was dropped, not flushed');
    assert.deepEqual(
      closes.a.map((e) => e?.code),
      ['L8_ERR_MALFORMED_FRAME'],
    );
    assert.equal(closes.b.length, 1);
  });

  test('a link closed while reading delivers nothing more, even from the same chunk', async () => {
    const [x, y] = await socketPair();
    const delivered: number[] = [];
    const link: FramedLink = new FramedLink(x, {
      onFrame: (f) => {
        delivered.push(tagOf(f));
        link.close();
      },
    }).start();
    const peer = new FramedLink(y, { onFrame: () => undefined }).start();
    try {
      // three frames in one turn: one batched write, very likely one chunk on the other side
      for (let i = 1; i <= 3; i++) peer.send(frame(i));
      await waitFor(() => link.closed && x.destroyed, { what: 'the reading side closed' });
      await waitFor(() => peer.closed, { what: 'the peer saw the close' });
      assert.deepEqual(delivered, [1]);
      assert.equal(link.stats.framesIn, 1);
    } finally {
      peer.close();
    }
  });
});
