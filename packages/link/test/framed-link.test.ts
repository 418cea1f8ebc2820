import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeMessage, Kind, type L8Error, newNodeId } from '@layer8/protocol';
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

/** Resolves once `cond` holds (polled every 5 ms; the test runner's timeout bounds the wait). */
function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (!cond()) return;
      clearInterval(t);
      resolve();
    }, 5);
  });
}

const frame = (bytes: number): Buffer =>
  encodeMessage({ kind: Kind.NOTIFY, source: newNodeId(), service: 's', payload: new Uint8Array(bytes) });

describe('FramedLink send queue and close', () => {
  let a: FramedLink;
  let b: FramedLink;
  const got: number[] = [];
  let closedWith: L8Error | undefined | 'open' = 'open';

  before(async () => {
    const [x, y] = await socketPair();
    a = new FramedLink(x, { maxQueuedBytes: 1024, onFrame: () => undefined }).start();
    b = new FramedLink(y, { onFrame: (f) => got.push(f.length), onClose: (e) => (closedWith = e) }).start();
  });

  after(() => {
    a.close();
    b.close();
  });

  test('one frame larger than the queue goes when nothing waits; the next one is refused, retryable', async () => {
    const big = frame(10_000);
    assert.equal(a.canSend(big.length), true);
    a.send(big);
    assert.throws(
      () => a.send(frame(100)),
      (e: L8Error) => e.code === 'L8_ERR_BACKPRESSURE' && e.retryable && /bytes waiting/.test(e.message),
    );
    assert.equal(a.stats.refused, 1);
    await a.writable(100);
    a.send(frame(100));
    await until(() => got.length === 2);
    assert.deepEqual(got, [big.length - 4, frame(100).length - 4]);
  });

  test('a graceful close flushes what was queued in the same turn; the peer sees a clean close', async () => {
    a.send(frame(50));
    a.close();
    assert.equal(a.closed, true);
    assert.throws(
      () => a.send(frame(1)),
      (e: L8Error) => e.code === 'L8_ERR_CLOSED',
    );
    await until(() => closedWith !== 'open');
    assert.equal(got.length, 3, 'the frame queued before close arrived');
    assert.equal(closedWith, undefined);
  });

  test("a frame handler of this process that throws closes the link as an internal fault, not the peer's", async () => {
    const [x, y] = await socketPair();
    let error: L8Error | undefined;
    const link = new FramedLink(x, {
      onFrame: () => {
        throw new Error('handler bug');
      },
      onClose: (e) => (error = e),
    }).start();
    const peer = new FramedLink(y, { onFrame: () => undefined }).start();
    peer.send(frame(10));
    await until(() => link.closed);
    assert.equal(error?.code, 'L8_ERR_INTERNAL');
    peer.close();
  });

  test('an owner whose close handler throws does not turn close into a crash', async () => {
    const [x] = await socketPair();
    const link = new FramedLink(x, {
      onFrame: () => undefined,
      onClose: () => {
        throw new Error('owner bug');
      },
    }).start();
    assert.doesNotThrow(() => link.close());
  });
});
