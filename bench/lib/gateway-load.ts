/**
 * Load processes of the gateway benchmark, driven over IPC by bench/gateway.ts. `http`: autocannon's
 * programmatic API (in this process, so its CPU is measured like every other process of the case) doing
 * GET /l8/0/Orders/<key> with the keys in turn over N connections, each response's latency recorded in
 * the shared histogram; `ws`: WebSocket subscribers of the Layer8 gateway's `/ws`, counting the change
 * messages they get.
 */
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { serve, sleep } from './overlay-ipc.ts';
import { Histogram, type Mark } from './overlay-load.ts';

/** Arguments of `http`. */
export interface HttpArgs {
  readonly url: string;
  readonly connections: number;
  /** Keys 1…keys, taken in turn. */
  readonly keys: number;
}

const hist = new Histogram();
let done = 0;
let errors = 0;
let lastError: string | undefined;
let received = 0;
let cannon: autocannon.Instance | undefined;
const sockets: WebSocket[] = [];

/** Starts autocannon (no end of its own: `stop` ends it). */
function http(a: HttpArgs): void {
  let next = 0;
  const setupRequest = (req: autocannon.Request) => ({ ...req, path: `/l8/0/Orders/${(next++ % a.keys) + 1}` });
  const c = autocannon(
    { url: a.url, connections: a.connections, duration: 3600, requests: [{ setupRequest }] },
    () => undefined,
  );
  cannon = c;
  c.on('response', (_client, status: number, _bytes: number, ms: number) => {
    if (status === 200) {
      done++;
      hist.record(ms * 1000);
    } else {
      errors++;
      lastError = `HTTP ${status}`;
    }
  });
  c.on('reqError', (err: Error) => {
    errors++;
    lastError = err.message;
  });
}

function mark(): Mark {
  const lat = hist.count === 0 ? {} : { p50Us: hist.percentile(50), p99Us: hist.percentile(99) };
  hist.reset();
  const err = lastError === undefined ? {} : { lastError };
  return { done, sent: 0, received, errors, ...err, ...lat };
}

/** Opens one subscriber: the upgrade, then `subscribe` to `q`; resolves on its snapshot. */
function subscriber(url: string, q: string, id: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, ['l8.v1']);
    sockets.push(ws);
    ws.once('open', () => ws.send(JSON.stringify({ op: 'subscribe', id: `s${id}`, area: 0, service: 'Orders', q })));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
    ws.on('close', (code) => {
      errors++;
      lastError = `closed ${code}`;
    });
    ws.on('message', (data: Buffer) => {
      const s = data.toString();
      if (s.includes('"op":"change"')) received++;
      else if (s.includes('"op":"snapshot"')) resolve();
      else if (s.includes('"op":"error"')) reject(new Error(s));
    });
  });
}

/** Opens `count` subscribers of `q`, 50 at a time, each on a connection of its own. */
async function ws(a: { url: string; count: number; q: string }): Promise<number> {
  for (let i = 0; i < a.count; i += 50) {
    const batch = Array.from({ length: Math.min(50, a.count - i) }, (_, j) => subscriber(a.url, a.q, i + j));
    await Promise.all(batch);
    await sleep(5);
  }
  return sockets.length;
}

serve({
  http,
  ws,
  mark,
  stop: () => {
    cannon?.stop();
    cannon = undefined;
    return mark();
  },
  close: () => {
    for (const s of sockets) s.terminate();
  },
});
