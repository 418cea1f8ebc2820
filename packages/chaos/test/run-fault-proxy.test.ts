import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FaultProxy, Prng, withDeadline } from '@layer8/chaos';

/** A TCP sink on 127.0.0.1 that keeps what each connection sent and whether it closed. */
interface Sink {
  readonly server: Server;
  readonly port: number;
  readonly conns: { bytes: Buffer[]; closed: boolean; socket: Socket }[];
}

async function sink(): Promise<Sink> {
  const conns: Sink['conns'] = [];
  const server = createServer((socket) => {
    const c = { bytes: [] as Buffer[], closed: false, socket };
    conns.push(c);
    socket.on('data', (d: Buffer) => c.bytes.push(d));
    socket.on('close', () => {
      c.closed = true;
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  return { server, port: typeof a === 'object' && a !== null ? a.port : 0, conns };
}

async function until(probe: () => boolean, what: string): Promise<void> {
  await withDeadline(
    (async () => {
      while (!probe()) await new Promise((r) => setImmediate(r));
    })(),
    5000,
    what,
  );
}

async function dial(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
}

/** Sends one byte from the sink's end of a connection back through the proxy to the client. */
async function echoed(client: Socket, sinkConn: Sink['conns'][number]): Promise<void> {
  const got = once(client, 'data');
  sinkConn.socket.write('!');
  await withDeadline(got, 5000, 'a byte back');
}

describe('the fault proxy', () => {
  let s: Sink;
  before(async () => {
    s = await sink();
  });
  after(() => new Promise((r) => s.server.close(r)));

  test('a stall holds every byte back and loses none: they arrive in order at the heal', async () => {
    const proxy = new FaultProxy({ host: '127.0.0.1', port: s.port });
    const via = await proxy.listen('127.0.0.1');
    const client = await dial(via.port);
    client.write('before|');
    await until(() => s.conns.at(-1)?.bytes.length === 1, 'the first bytes');
    const conn = s.conns.at(-1) as Sink['conns'][number];
    proxy.stall();
    for (let i = 0; i < 50; i++) client.write(`${i},`);
    const heldForwarded = proxy.forwardedBytes;
    await new Promise((r) => setTimeout(r, 50)); // what a stall holds stays held: nothing may arrive meanwhile
    assert.equal(Buffer.concat(conn.bytes).toString(), 'before|');
    assert.equal(proxy.forwardedBytes, heldForwarded);
    proxy.heal();
    const expected = `before|${Array.from({ length: 50 }, (_, i) => `${i},`).join('')}`;
    await until(() => Buffer.concat(conn.bytes).toString() === expected, 'the held bytes');
    await echoed(client, conn);
    client.destroy();
    await proxy.close();
  });

  test('a connection opened during a stall reaches the target only at the heal; a close is held too', async () => {
    const proxy = new FaultProxy({ host: '127.0.0.1', port: s.port });
    const via = await proxy.listen('127.0.0.1');
    const open = await dial(via.port);
    open.write('x');
    await until(() => s.conns.at(-1)?.bytes.length === 1, 'the open connection');
    const openConn = s.conns.at(-1) as Sink['conns'][number];
    const count = s.conns.length;
    proxy.stall();
    const late = await dial(via.port);
    late.write('late');
    open.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.conns.length, count, 'no new connection at the target during the stall');
    assert.equal(openConn.closed, false, 'the close did not cross the stall');
    proxy.heal();
    await until(() => openConn.closed, 'the held close');
    await until(() => Buffer.concat(s.conns.at(-1)?.bytes ?? []).toString() === 'late', 'the held connection');
    late.destroy();
    await proxy.close();
  });

  test('latency and loss delay segments but keep every byte and their order', async () => {
    const prng = new Prng(3);
    const proxy = new FaultProxy({ host: '127.0.0.1', port: s.port }, { random: () => prng.next() });
    const via = await proxy.listen('127.0.0.1');
    proxy.delayMs = 5;
    proxy.loss = 0.5;
    const client = await dial(via.port);
    const chunks = Array.from({ length: 200 }, (_, i) => `${i};`);
    for (const c of chunks) {
      client.write(c);
      await new Promise((r) => setImmediate(r));
    }
    const conn = (): Sink['conns'][number] | undefined => s.conns.at(-1);
    await until(() => Buffer.concat(conn()?.bytes ?? []).toString() === chunks.join(''), 'every byte in order');
    assert.ok(proxy.retransmits > 0, 'segments were lost and retransmitted');
    client.destroy();
    await proxy.close();
  });

  test('a cut closes what is open and refuses new connections until the heal', async () => {
    const proxy = new FaultProxy({ host: '127.0.0.1', port: s.port });
    const via = await proxy.listen('127.0.0.1');
    const client = await dial(via.port);
    const closed = once(client, 'close');
    proxy.cut();
    await withDeadline(closed, 5000, 'the cut connection closed');
    const refused = connect({ host: '127.0.0.1', port: via.port });
    refused.on('error', () => undefined);
    await withDeadline(once(refused, 'close'), 5000, 'a new connection closed');
    proxy.heal();
    const again = await dial(via.port);
    again.write('ok');
    await until(() => Buffer.concat(s.conns.at(-1)?.bytes ?? []).toString() === 'ok', 'traffic after the heal');
    again.destroy();
    await proxy.close();
  });
});
