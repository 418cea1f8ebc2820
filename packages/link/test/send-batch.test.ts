import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { describe, mock, test } from 'node:test';
import { FramedLink } from '../src/index.ts';
import { BATCH_BYTES, SendBatch, SPARE_BUFFERS } from '../src/send-batch.ts';

const FRAME = 1000;

/** Queues `frames` frames of FRAME bytes; returns the buffers they were written into, in order. */
function fill(batch: SendBatch, frames: number): Buffer[] {
  const used: Buffer[] = [];
  for (let i = 0; i < frames; i++) {
    batch.reserve(FRAME);
    if (used.at(-1) !== batch.buffer) used.push(batch.buffer);
    batch.commit(FRAME);
  }
  return used;
}

/** Frames that fill the small first buffers and then `full` buffers of BATCH_BYTES. */
const toFullSize = Math.ceil(((4 + 8 + 16 + 32) * 1024) / FRAME) + 1;
const perFull = Math.floor(BATCH_BYTES / FRAME);

describe('SendBatch buffer reuse', () => {
  test('without a written count every full buffer is new', () => {
    const batch = new SendBatch();
    fill(batch, toFullSize + 3 * perFull);
    batch.take();
    const later = fill(batch, 3 * perFull);
    assert.equal(batch.retired, 0);
    assert.equal(new Set(later).size, later.length);
  });

  test('a full buffer the stream has written out is reused; one it has not is not', () => {
    let unwritten = 0;
    const batch = new SendBatch(() => unwritten);
    const first = fill(batch, toFullSize + 2 * perFull).filter((b) => b.length === BATCH_BYTES);
    batch.take();
    unwritten = Number.MAX_SAFE_INTEGER; // the stream still holds everything taken
    const meanwhile = fill(batch, perFull + 1).slice(1); // after the buffer in use when it started
    assert.ok(meanwhile.length > 0 && meanwhile.every((b) => !first.includes(b)), 'nothing reused while unwritten');
    batch.take();
    unwritten = 0;
    const after = fill(batch, perFull + 1).slice(1);
    assert.ok(after.length > 0 && after.every((b) => first.includes(b)), 'a written-out buffer is reused');
  });

  test('trim keeps at most SPARE_BUFFERS written-out buffers and every unwritten one', () => {
    let unwritten = Number.MAX_SAFE_INTEGER;
    const batch = new SendBatch(() => unwritten);
    fill(batch, toFullSize + 8 * perFull);
    batch.take();
    const kept = batch.retired;
    batch.trim();
    assert.equal(batch.retired, kept, 'buffers the stream still holds are kept');
    unwritten = 0;
    batch.trim();
    assert.equal(batch.retired, SPARE_BUFFERS);
    batch.clear();
    assert.equal(batch.retired, 0);
  });

  test('after drained(), a link that turns over no buffer for a while lets its extra buffers go', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const batch = new SendBatch(() => 0);
      fill(batch, toFullSize + 8 * perFull);
      batch.take();
      batch.drained();
      batch.drained();
      assert.ok(batch.retired > SPARE_BUFFERS, 'nothing let go at once');
      mock.timers.tick(1000);
      assert.equal(batch.retired, SPARE_BUFFERS);
    } finally {
      mock.timers.reset();
    }
  });

  test('a link still busy when the delay ends keeps its buffers until it goes quiet', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const batch = new SendBatch(() => 0);
      fill(batch, toFullSize + 8 * perFull);
      batch.take();
      batch.drained();
      fill(batch, 2 * perFull); // buffers turn over meanwhile
      batch.take();
      const kept = batch.retired;
      mock.timers.tick(1000);
      assert.equal(batch.retired, kept, 'a busy link is not trimmed');
      mock.timers.tick(1000);
      assert.equal(batch.retired, SPARE_BUFFERS, 'trimmed once quiet');
    } finally {
      mock.timers.reset();
    }
  });
});

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

describe('FramedLink with reused batch buffers', () => {
  test('every frame arrives intact through a slow reader that makes buffers cycle', async () => {
    const [x, y] = await socketPair();
    const count = 20_000;
    let next = 0;
    let bad = 0;
    const done = new Promise<void>((resolve) => {
      const receiver: FramedLink = new FramedLink(y, {
        onFrame: (f) => {
          if (f.readUInt32BE(0) !== next || f.some((v, i) => i >= 4 && v !== (next & 0xff))) bad++;
          if (++next === count) resolve();
          // reading stops now and then, so the sender's queue grows and its buffers cycle
          else if (next % 2000 === 0) receiver.pauseUntil((resume) => setTimeout(resume, 5));
        },
      }).start();
    });
    const sender = new FramedLink(x, { onFrame: () => undefined }).start();
    for (let n = 0; n < count; n++) {
      const frame = Buffer.alloc(500 + (n % 300), n & 0xff);
      frame.writeUInt32BE(frame.length - 4, 0);
      frame.writeUInt32BE(n, 4);
      await sender.writable(frame.length);
      sender.send(frame);
      if (n % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await done;
    assert.equal(bad, 0);
    sender.close();
  });
});
