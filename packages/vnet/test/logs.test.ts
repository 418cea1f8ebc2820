import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { l8error, newNodeId, PROTOCOL_VERSION } from '@layer8/protocol';
import { devProvider, waitFor, waitForEvent } from '@layer8/testkit';
import { VNet, type VNetLogger } from '@layer8/vnet';
import { isGone } from '@layer8/vnet/internal';

/** One line a VNet logged. */
interface Line {
  readonly level: 'debug' | 'info' | 'warn';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A VNet logger that keeps every line, in order. */
function captured(): { logger: VNetLogger; lines: Line[]; find: (msg: string) => Line[] } {
  const lines: Line[] = [];
  const keep =
    (level: Line['level']) =>
    (fields: object, msg = ''): void => {
      lines.push({ level, msg, fields: fields as Record<string, unknown> });
    };
  const logger: VNetLogger = { debug: keep('debug'), info: keep('info'), warn: keep('warn') };
  return { logger, lines, find: (msg) => lines.filter((l) => l.msg === msg) };
}

function vnetOn(host: string, logger: VNetLogger, extra: Partial<ConstructorParameters<typeof VNet>[0]> = {}): VNet {
  return new VNet({ provider: devProvider(), host, port: 0, socketPath: false, logger, ...extra });
}

/** A TCP server that accepts and never answers: a dial to it waits for its handshake deadline. */
async function blackHole(host: string): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  // reading (and dropping) what arrives lets the socket see the other end's close
  const server = createServer((s) => sockets.push(s.resume()));
  await new Promise<void>((r) => server.listen(0, host, r));
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0, sockets };
}

/** A stream whose every write fails as a socket's does when the other end has gone (`write EPIPE`). */
function brokenPipe(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }));
    },
  });
}

describe('what a VNet logs', () => {
  const closers: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('a peer dial that ends after close() logs nothing after the VNet stopped', async () => {
    const hole = await blackHole('127.0.0.2');
    closers.push(() => new Promise((r) => hole.server.close(r)));
    const log = captured();
    const vnet = vnetOn('127.0.0.3', log.logger, { peers: [{ host: '127.0.0.2', port: hole.port }], handshakeMs: 300 });
    await vnet.start();
    await waitFor(() => hole.sockets.length > 0, { what: 'the dial reached the black hole' });
    await vnet.close();
    const stopped = log.lines.length;
    // the dialling side destroys its socket when its handshake deadline passes, in the same turn as it
    // fails the dial; the black hole sees that close only in a later turn
    await waitForEvent(hole.sockets[0] as Socket, 'close');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      log.lines.slice(stopped).map((l) => l.msg),
      [],
      'nothing is logged after close() resolved',
    );
  });

  test('a link whose other end went away (EPIPE) closes without a warning', async () => {
    const log = captured();
    const vnet = vnetOn('127.0.0.4', log.logger);
    await vnet.start();
    closers.push(() => vnet.close());
    const nodeId = newNodeId();
    const hello = {
      version: PROTOCOL_VERSION,
      nodeId,
      alias: 'cli',
      role: 'vnic' as const,
      vnet: vnet.id,
      services: [],
      maxFrame: 1 << 20,
      heartbeatMs: 3000,
    };
    const peer = { provider: 'dev', subject: 'dev', role: 'any' as const };
    vnet.attach({ stream: brokenPipe(), peer, hello, head: Buffer.alloc(0), transport: 'unix' }, false);
    const closed = (): Line[] => log.lines.filter((l) => l.msg.startsWith('link closed'));
    await waitFor(() => vnet.locals.size === 0 && closed().length > 0, { what: 'the broken link closed' });
    assert.deepEqual(log.find('link closed'), [], 'no warning for a write that raced the close');
    assert.match(String(log.find('link closed by the other end')[0]?.fields.err), /EPIPE/);
    assert.equal(log.find('link closed by the other end')[0]?.level, 'debug');
  });

  test('peer links going up and down are logged (info) with the peer id, alias and address', async () => {
    const logA = captured();
    const logB = captured();
    const a = vnetOn('127.0.0.5', logA.logger, { alias: 'vnet-a' });
    await a.start();
    closers.push(() => a.close());
    const b = vnetOn('127.0.0.6', logB.logger, { alias: 'vnet-b', peers: [a.addresses.tcp] });
    await b.start();
    await waitFor(() => logA.find('peer link up').length === 1 && logB.find('peer link up').length === 1, {
      what: 'both ends logged the link up',
    });
    const upAtB = logB.find('peer link up')[0] as Line;
    assert.equal(upAtB.level, 'info');
    assert.deepEqual(upAtB.fields, {
      peer: a.id,
      alias: 'vnet-a',
      address: `${a.addresses.tcp.host}:${a.addresses.tcp.port}`,
      dialled: true,
    });
    assert.equal(logA.find('peer link up')[0]?.fields.peer, b.id);
    assert.equal(logA.find('peer link up')[0]?.fields.alias, 'vnet-b');
    await b.close();
    await waitFor(() => logA.find('peer link down').length === 1, { what: 'a logged the link down' });
    const down = logA.find('peer link down')[0] as Line;
    assert.equal(down.level, 'info');
    assert.equal(down.fields.peer, b.id);
    assert.equal(down.fields.alias, 'vnet-b');
    assert.deepEqual(
      logA.lines.filter((l) => l.level === 'warn'),
      [],
      'a peer that closes normally is no fault',
    );
  });

  test('EPIPE and ECONNRESET count as the other end gone; other link errors do not', () => {
    const socketError = (code: string) =>
      l8error('L8_ERR_CONNECT', `link error: ${code}`, { cause: Object.assign(new Error(code), { code }) });
    assert.equal(isGone(socketError('EPIPE')), true);
    assert.equal(isGone(socketError('ECONNRESET')), true);
    assert.equal(isGone(socketError('ETIMEDOUT')), false);
    assert.equal(isGone(l8error('L8_ERR_CONNECT', 'link error: write EPIPE')), false);
  });
});
