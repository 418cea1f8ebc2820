/**
 * Worker process of the overlay benchmark's physical limit, `raw-tcp`: two Node processes over one TCP
 * loopback connection with length-prefixed frames (4-byte length, 1-byte kind, the 100-byte payload) and
 * writes batched per event-loop turn, with no routing, security, ids or deadlines. A requester matches
 * answers to requests in order (the responder answers in order); every system's figure reads as a
 * fraction of this one.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { PAYLOAD, serve } from './overlay-ipc.ts';
import { Driver, PUMP_WINDOW } from './overlay-load.ts';

const REQUEST = 1;
const ONE_WAY = 2;
const FRAME = Buffer.alloc(4 + 1 + PAYLOAD.length);
FRAME.writeUInt32BE(1 + PAYLOAD.length, 0);
Buffer.from(PAYLOAD).copy(FRAME, 5);
/** Bytes waiting in the socket above which the stream pump waits a turn. */
const HIGH_WATER = 1024 * 1024;

const driver = new Driver();
let server: Server | undefined;
let socket: Socket | undefined;
/** Answers of the requests in flight, oldest first. */
const waiting: (() => void)[] = [];

/**
 * A socket whose frames are written once per turn: `send` queues, a `setImmediate` writes them all
 * with one `write` (as every system of the benchmark batches its writes).
 */
class Batched {
  readonly #s: Socket;
  #queued: Buffer[] = [];
  constructor(s: Socket) {
    this.#s = s;
  }
  send(frame: Buffer): void {
    if (this.#queued.push(frame) === 1) setImmediate(() => this.#flush());
  }
  get backlog(): number {
    return this.#s.writableLength;
  }
  #flush(): void {
    const q = this.#queued;
    this.#queued = [];
    this.#s.write(q.length === 1 ? (q[0] as Buffer) : Buffer.concat(q));
  }
}

/** Calls `onFrame(kind)` for each whole frame read from `s`. */
function frames(s: Socket, onFrame: (kind: number) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  s.on('data', (chunk: Buffer) => {
    let buf: Buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      onFrame(buf[4] as number);
      buf = buf.subarray(4 + buf.readUInt32BE(0));
    }
    pending = buf;
  });
}

function frameOf(kind: number): Buffer {
  const f = Buffer.from(FRAME);
  f[4] = kind;
  return f;
}

const REQUEST_FRAME = frameOf(REQUEST);
const ONE_WAY_FRAME = frameOf(ONE_WAY);

/** The responder: answers requests in order, counts one-way frames. */
function listen(): Promise<number> {
  const srv = createServer((s) => {
    s.setNoDelay(true);
    const out = new Batched(s);
    frames(s, (kind) => (kind === REQUEST ? out.send(REQUEST_FRAME) : driver.received++));
  });
  server = srv;
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port)));
}

/** The requester: one connection to the responder. */
async function dial(port: number): Promise<Batched> {
  const s = tcpConnect({ host: '127.0.0.1', port });
  await new Promise((resolve) => s.once('connect', resolve));
  s.setNoDelay(true);
  socket = s;
  frames(s, () => waiting.shift()?.());
  return new Batched(s);
}

let out: Batched | undefined;

serve({
  listen,
  dial: async ({ port }: { port: number }) => {
    out = await dial(port);
  },
  requests: ({ concurrency }: { concurrency: number }) => {
    const o = out as Batched;
    driver.requests(
      () =>
        new Promise<void>((resolve) => {
          waiting.push(resolve);
          o.send(REQUEST_FRAME);
        }),
      concurrency,
    );
  },
  stream: () => {
    const o = out as Batched;
    driver.pump(async () => {
      if (o.backlog > HIGH_WATER) return 0;
      for (let i = 0; i < PUMP_WINDOW; i++) o.send(ONE_WAY_FRAME);
      return PUMP_WINDOW;
    });
  },
  mark: () => driver.mark(),
  stop: () => driver.stop(),
  close: async () => {
    socket?.destroy();
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  },
});
