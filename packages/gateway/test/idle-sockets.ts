/**
 * A client process for the gateway's abuse test: opens argv[3] WebSockets to the gateway at argv[2]
 * (`host:port`) with bare TCP sockets, in batches of 500, each sending only the upgrade request and
 * then nothing: no message, no pong, no close frame. It reports over IPC how many upgrades were answered
 * 101 and how many otherwise (by status), then, on any message, how many of the upgraded sockets the gateway has closed since.
 */
import { connect, type Socket } from 'node:net';

const [, , address, countArg] = process.argv as [string, string, string, string];
const [host, port] = address.split(':') as [string, string];
const BATCH = 500;
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const sockets: Socket[] = [];
const statuses: Record<string, number> = {};
let closed = 0;

/** Opens one idle WebSocket; resolves with the status line's code (or `error`). */
function open(): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port: Number(port) });
    sockets.push(s);
    let head = '';
    let upgraded = false;
    const onData = (b: Buffer) => {
      head += b.toString('latin1');
      if (!head.includes('\r\n')) return;
      s.off('data', onData);
      s.resume(); // reads and drops whatever comes next (pings, the close frame) without answering
      upgraded = head.startsWith('HTTP/1.1 101');
      resolve(head.slice(9, 12));
    };
    s.on('data', onData);
    s.once('close', () => {
      if (upgraded) closed++;
      resolve('closed');
    });
    s.once('error', () => resolve('error'));
    s.write(
      `GET /ws HTTP/1.1\r\nHost: ${address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: l8.v1\r\n\r\n`,
    );
  });
}

for (let i = 0; i < Number(countArg); i += BATCH) {
  const batch = await Promise.all(Array.from({ length: Math.min(BATCH, Number(countArg) - i) }, open));
  for (const s of batch) statuses[s] = (statuses[s] ?? 0) + 1;
}
process.send?.({ statuses });
process.on('message', () => process.send?.({ closed }));
process.on('disconnect', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
