import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import type { L8Error } from '@layer8/protocol';
import { devProvider, tempDir, waitFor } from '@layer8/testkit';
import { VNic, type VNicState, type VNicStatus } from '@layer8/vnic';
import { VNet } from '../src/index.ts';

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: L8Error) => e.code,
  );

/** A VNet on a unix socket of its own (and TCP port 0). */
async function startVNet(socketPath: string): Promise<VNet> {
  const v = new VNet({ provider: devProvider(), host: '127.0.0.1', port: 0, socketPath });
  await v.start();
  return v;
}

/** Collects every status change of `n` until it closes. */
function record(n: VNic): { states: VNicState[]; all: VNicStatus[]; done: Promise<void> } {
  const out = { states: [] as VNicState[], all: [] as VNicStatus[], done: Promise.resolve() };
  out.done = (async () => {
    for await (const s of n.status()) {
      out.states.push(s.state);
      out.all.push(s);
    }
  })();
  return out;
}

describe('VNic lifecycle: status(), closed(), drain() and the connect deadline', () => {
  test('status() yields connecting, connected, disconnected, reconnecting, connected and closed', async () => {
    const dir = tempDir('l8-life-');
    const path = `${dir.path}/vnet.sock`;
    let vnet = await startVNet(path);
    const n = new VNic({ provider: devProvider(), vnet: { path }, reconnect: { firstMs: 20, maxMs: 50 } });
    const log = record(n);
    await n.connect();
    await vnet.close();
    await waitFor(() => log.states.includes('disconnected'), { what: 'disconnected' });
    const lost = log.all.find((s) => s.state === 'disconnected');
    assert.ok(lost?.reason !== undefined, 'a lost link says why');
    vnet = await startVNet(path);
    await waitFor(() => log.states.filter((s) => s === 'connected').length === 2, { what: 'connected again' });
    await n.close();
    await log.done;
    assert.equal(await n.closed(), undefined, 'a clean close has no reason');
    const distinct = log.states.filter((s, i) => s !== log.states[i - 1]);
    assert.deepEqual(distinct.slice(0, 3), ['connecting', 'connected', 'disconnected']);
    assert.ok(distinct.includes('reconnecting'));
    assert.deepEqual(distinct.slice(-2), ['connected', 'closed']);
    for await (const _ of n.status()) assert.fail('a closed VNic yields nothing');
    await vnet.close();
    dir.remove();
  });

  test('drain() lets running handlers finish, refuses new work, withdraws the service, then closes', async () => {
    const dir = tempDir('l8-drain-');
    const vnet = await startVNet(`${dir.path}/vnet.sock`);
    const vnet$ = { path: vnet.addresses.unix as string };
    const worker = new VNic({ provider: devProvider(), vnet: vnet$, alias: 'worker' });
    const client = new VNic({ provider: devProvider(), vnet: vnet$, alias: 'client' });
    await Promise.all([worker.connect(), client.connect()]);
    let release: (() => void) | undefined;
    worker.subscribe({ service: 'jobs' }, () => new Promise<string>((r) => (release = () => r('finished'))));
    await waitFor(() => client.health.instances('jobs', 0).length === 1, { what: 'jobs announced' });
    const running = client.request({ service: 'jobs' });
    await waitFor(() => worker.handlers.inFlight === 1, { what: 'the job running' });
    const drained = worker.drain(10_000);
    assert.equal(worker.state, 'draining');
    assert.equal(await codeOf(worker.request({ service: 'jobs' })), 'L8_ERR_CLOSED');
    await waitFor(() => client.health.instances('jobs', 0).length === 0, { what: 'jobs withdrawn from health' });
    assert.equal(worker.state, 'draining', 'still draining while the job runs');
    release?.();
    assert.equal((await running).json(), 'finished', 'the running job’s reply reaches the caller');
    await drained;
    assert.equal(worker.state, 'closed');
    assert.equal(await worker.closed(), undefined);
    await client.close();
    await vnet.close();
    dir.remove();
  });

  test('drain() past its deadline aborts running handlers with L8_ERR_CLOSED and closes', async () => {
    const dir = tempDir('l8-drain2-');
    const vnet = await startVNet(`${dir.path}/vnet.sock`);
    const n = new VNic({ provider: devProvider(), vnet: { path: vnet.addresses.unix as string } });
    await n.connect();
    let reason: unknown;
    n.subscribe({ service: 'stuck' }, (_m, ctx) => {
      ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason), { once: true });
      return new Promise(() => undefined);
    });
    const stuck = n.request({ service: 'stuck' }, undefined, { timeoutMs: 60_000 });
    await waitFor(() => n.handlers.inFlight === 1, { what: 'the handler running' });
    await n.drain(50);
    assert.equal(n.state, 'closed');
    assert.equal((reason as L8Error | undefined)?.code, 'L8_ERR_CLOSED');
    assert.equal(await codeOf(stuck), 'L8_ERR_CLOSED');
    await vnet.close();
    dir.remove();
  });

  test('connect() with no VNet rejects at the deadline with the last cause, and the VNic closes', async () => {
    const dir = tempDir('l8-nonet-');
    const path = `${dir.path}/missing.sock`;
    const n = new VNic({ provider: devProvider(), vnet: { path }, connectTimeoutMs: 300, reconnect: { firstMs: 20 } });
    const e = await n.connect().then(
      () => assert.fail('connected to nothing'),
      (err: L8Error) => err,
    );
    assert.equal(e.code, 'L8_ERR_CONNECT');
    assert.match(e.message, /within 300 ms/);
    assert.ok(e.message.includes(path), `names the socket: ${e.message}`);
    assert.equal(n.state, 'closed');
    assert.equal((await n.closed())?.code, 'L8_ERR_CONNECT');
    dir.remove();
  });

  test('connect() to a refused TCP port names the address', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await new Promise((r) => server.close(r));
    const n = new VNic({ provider: devProvider(), vnet: { host: '127.0.0.1', port }, connectTimeoutMs: 300 });
    const e = await n.connect().then(
      () => assert.fail('connected to a closed port'),
      (err: L8Error) => err,
    );
    assert.equal(e.code, 'L8_ERR_CONNECT');
    assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message);
  });

  test('a close() aborts the signal of a running handler', async () => {
    const dir = tempDir('l8-abort-');
    const vnet = await startVNet(`${dir.path}/vnet.sock`);
    const n = new VNic({ provider: devProvider(), vnet: { path: vnet.addresses.unix as string } });
    await n.connect();
    let reason: unknown;
    n.subscribe({ service: 'long' }, (_m, ctx) => {
      ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason), { once: true });
      return new Promise(() => undefined);
    });
    const p = codeOf(n.request({ service: 'long' }));
    await waitFor(() => n.handlers.inFlight === 1, { what: 'running' });
    await n.close();
    assert.equal((reason as L8Error | undefined)?.code, 'L8_ERR_CLOSED');
    assert.equal(await p, 'L8_ERR_CLOSED');
    await vnet.close();
    dir.remove();
  });
});
