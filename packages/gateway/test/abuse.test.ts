import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor, withDeadline } from '@layer8/testkit';
import { type Gw, http, published, type Rig, rig } from './kit.ts';
import { WsClient } from './ws-client.ts';

const SERVICE = fileURLToPath(new URL('./service-child.ts', import.meta.url));
const IDLE = fileURLToPath(new URL('./idle-sockets.ts', import.meta.url));
const TSX = ['--conditions=source', '--import', 'tsx'];
const TIMEOUTS = { headersMs: 1000, requestMs: 2000, checkEveryMs: 200 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client that GETs `path` every 10 ms until stopped: what it got, and its slowest answer. */
function steady(url: string, path: string) {
  const seen = { ok: 0, failures: [] as string[], slowestMs: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}${path}`);
        await res.arrayBuffer();
        if (res.status === 200) seen.ok++;
        else seen.failures.push(`HTTP ${res.status}`);
      } catch (err) {
        seen.failures.push((err as Error).message);
      }
      seen.slowestMs = Math.max(seen.slowestMs, performance.now() - t0);
      await sleep(10);
    }
  })();
  /** Stops once the client has had `atLeast` answers (a count, not a time window: a loaded machine is slow). */
  return async (atLeast = 0) => {
    await waitFor(() => seen.ok >= atLeast || seen.failures.length > 0, {
      timeoutMs: 30_000,
      what: `${atLeast} answers`,
    });
    running = false;
    await loop;
    return seen;
  };
}

/**
 * Sends `head` at once, then one byte of `drip` (repeated forever; nothing when empty) every 100 ms; resolves when the server
 * closes the connection with how long that took and what it answered.
 */
function dribble(port: number, head: string, drip: string): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = connect({ host: '127.0.0.1', port });
    let answer = '';
    let i = 0;
    const timer = setInterval(() => drip !== '' && s.writable && s.write(drip[i++ % drip.length] as string), 100);
    s.on('data', (b) => {
      answer += b.toString();
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      clearInterval(timer);
      resolve({ ms: performance.now() - t0, answer });
    });
    s.write(head);
  });
}

/** Sends `raw` bytes as one request and resolves with the status line's code. */
function rawRequest(port: number, raw: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(raw));
    let answer = '';
    s.on('data', (b) => {
      answer += b.toString();
    });
    s.once('error', reject);
    s.once('close', () => resolve(Number(answer.slice(9, 12))));
  });
}

/** The soft limit of open files of this process. */
function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]);
}

describe('abusive clients are answered or cut, and never disturb the others', () => {
  let r: Rig;
  let gw: Gw;
  let service: ChildProcess;
  const port = () => Number(new URL(gw.url).port);

  before(async () => {
    r = await rig();
    service = fork(SERVICE, [r.ca.dir, 'a', r.vnet.addresses.unix as string], { execArgv: TSX });
    await withDeadline(once(service, 'message'), 30_000, 'the service process serving');
    gw = await r.gateway('g', { timeouts: TIMEOUTS, bodyLimit: 64 * 1024 });
    await published(gw, 'Orders');
    const posted = await http(gw.url, 'POST', '/l8/0/Orders', { id: '1', number: 'N-1', city: 'Paris' });
    assert.equal(posted.status, 201, posted.text);
  });
  after(async () => {
    service?.kill();
    await r?.close();
  });

  test('slow-loris: headers or a body one byte at a time, or nothing, are cut with 408; others go on', async () => {
    const stop = steady(gw.url, '/l8/0/Orders/1');
    const head = 'GET /l8/0/Orders/1 HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    const post =
      'POST /l8/0/Orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n';
    const lorises = [
      ...Array.from({ length: 20 }, () => dribble(port(), head, 'a')),
      ...Array.from({ length: 10 }, () => dribble(port(), post, '{"id":"2","number":"')),
      ...Array.from({ length: 5 }, () => dribble(port(), '', '')),
    ];
    const cut = await withDeadline(Promise.all(lorises), 10_000, 'every slow client cut');
    const seen = await stop(20);
    for (const [i, c] of cut.entries()) {
      const limit = (i >= 20 && i < 30 ? TIMEOUTS.requestMs : TIMEOUTS.headersMs) + 1500;
      assert.ok(c.ms < limit, `slow client ${i} cut after ${Math.round(c.ms)} ms (limit ${limit})`);
      assert.match(c.answer, /^HTTP\/1\.1 408 /, `slow client ${i} is told why`);
    }
    assert.deepEqual(seen.failures, []);
    assert.ok(seen.ok >= 20, `the normal client got ${seen.ok} answers meanwhile`);
  });

  test('malformed JSON, wrong types, unknown services, oversized bodies, bad HTTP: each its status', async () => {
    const stop = steady(gw.url, '/l8/0/Orders/1');
    const call = (method: string, path: string, body?: unknown) => http(gw.url, method, path, body);
    const statusOf = async (p: Promise<{ status: number }>) => (await p).status;
    const huge = { id: '3', city: 'x'.repeat(2 * 1024 * 1024) };
    const cases: [string, () => Promise<number>, number][] = [
      ['malformed JSON', () => statusOf(call('POST', '/l8/0/Orders', '{"id": "3", ')), 400],
      ['a wrong field type', () => statusOf(call('POST', '/l8/0/Orders', { id: '3', lines: [{ qty: 'many' }] })), 400],
      ['an unknown field', () => statusOf(call('PUT', '/l8/0/Orders', { id: '3', nope: true })), 400],
      ['an unknown service', () => statusOf(call('GET', '/l8/0/Nope/1')), 404],
      ['an oversized body', () => statusOf(call('POST', '/l8/0/Orders', huge)), 413],
      ['not HTTP', () => rawRequest(port(), 'HELLO THERE\r\n\r\n'), 400],
      ['headers too large', () => rawRequest(port(), `GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`), 431],
    ];
    const rounds = await Promise.all(
      Array.from({ length: 10 }, () => Promise.all(cases.map(async ([what, run]) => [what, await run()] as const))),
    );
    const seen = await stop(5);
    for (const round of rounds) {
      assert.deepEqual(
        round,
        cases.map(([what, , status]) => [what, status]),
      );
    }
    assert.deepEqual(seen.failures, []);
    assert.ok(seen.ok >= 5, `the normal client got ${seen.ok} answers meanwhile`);
    assert.equal((await call('GET', '/l8/0/Orders/3')).status, 404, 'nothing of it was written');
  });

  test('10,000 idle WebSockets: past the limit 503, then cut by the heartbeat; a normal client goes on', async () => {
    const limit = 9000;
    const need = limit + 1000;
    assert.ok(openFilesLimit() >= need, `this process may open ${openFilesLimit()} files, the test needs ${need}`);
    const g2 = await r.gateway('g2', { ws: { maxConnections: limit, pingIntervalMs: 8000 } });
    await published(g2, 'Orders');
    const normal = await WsClient.open(g2.url);
    assert.equal((await normal.subscribe('all', 'Orders')).op, 'snapshot');
    const stop = steady(g2.url, '/l8/0/Orders/1');
    // bare sockets in a process of their own, its open-file limit raised to what 10,000 need
    // (the IPC channel of spawn's 'ipc' stdio survives the exec)
    const target = new URL(g2.url).host;
    const args = [process.execPath, ...TSX, IDLE, target, '10000'];
    const idle = spawn('sh', ['-c', 'ulimit -n 16384 2>/dev/null; exec "$0" "$@"', ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      const [opened] = (await withDeadline(once(idle, 'message'), 30_000, '10,000 upgrades')) as [
        { statuses: Record<string, number> },
      ];
      assert.deepEqual(opened.statuses, { '101': limit - 1, '503': 10_000 - (limit - 1) });
      assert.equal(g2.gateway.push.counters.open, limit);

      const from = normal.messages.length;
      assert.equal((await http(g2.url, 'PATCH', '/l8/0/Orders', { id: '1', city: 'Lyon' })).status, 200);
      await normal.next((m) => m.op === 'change' && m.key === '1', 'the change, with 8,999 idle neighbours', from);

      await waitFor(() => g2.gateway.push.counters.open === 1, { what: 'idle sockets cut', timeoutMs: 25_000 });
      // the gateway destroys a socket CLOSE_GRACE_MS after its close frame when no close frame comes back
      const closed = async () => {
        idle.send('closed?');
        return ((await withDeadline(once(idle, 'message'), 5000, 'closed count')) as [{ closed: number }])[0].closed;
      };
      const end = performance.now() + 10_000;
      while ((await closed()) < limit - 1 && performance.now() < end) await sleep(200);
      assert.equal(await closed(), limit - 1, 'every idle socket was closed by the gateway');
      assert.equal(g2.gateway.push.counters.dead, limit - 1);

      const again = normal.messages.length;
      assert.equal((await http(g2.url, 'PATCH', '/l8/0/Orders', { id: '1', city: 'Nice' })).status, 200);
      await normal.next((m) => m.op === 'change' && m.key === '1', 'the next change', again);
      const seen = await stop(20);
      assert.deepEqual(seen.failures, []);
      assert.ok(seen.ok >= 20, `the HTTP client got ${seen.ok} answers meanwhile`);
    } finally {
      await stop();
      normal.close();
      idle.kill();
    }
  });
});
