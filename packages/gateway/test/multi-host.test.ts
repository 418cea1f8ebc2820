import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hostAddress, type TempOverlay, tempDir, tempOverlay, waitFor, withDeadline } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { Gateway } from '../src/index.ts';
import { type Answer, http } from './kit.ts';

const CHILD = fileURLToPath(new URL('./service-child.ts', import.meta.url));
type Page = { items: { id: string; city: string }[]; versions: number[]; total: number; limit: number; page: number };

const code = (a: Answer) => (a.json as { code?: string } | undefined)?.code;

/** Polls the async `probe` every 50 ms until it is true; fails after `ms`. */
async function eventually(probe: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await probe())) {
    if (performance.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Two TLS VNets on 127.0.0.2 and 127.0.0.3: two Orders instances in processes of their own on the first,
 * the gateway on the second, so every request crosses both VNets to another process.
 */
describe('the gateway over two VNets, to service instances in other processes', () => {
  let ca: TempOverlay;
  const dir = tempDir('l8-gw-multi-');
  const vnets: VNet[] = [];
  const children: ChildProcess[] = [];
  let vnic: VNic;
  let gateway: Gateway;
  let url: string;
  const call = (method: string, path: string, body?: unknown) => http(url, method, path, body);

  /** Starts an Orders instance in a child process on VNet 0; resolves with its node id. */
  async function instance(node: string): Promise<ChildProcess> {
    const child = fork(CHILD, [ca.dir, node, vnets[0]?.addresses.unix as string], {
      execArgv: ['--conditions=source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    await withDeadline(once(child, 'message'), 30_000, `${node} serving`);
    return child;
  }

  /** Asks `path` `n` times (the gateway spreads them over the instances): every answer must equal the first. */
  async function settled(path: string, n = 6): Promise<Answer> {
    let first: Answer | undefined;
    await eventually(async () => {
      first = await call('GET', path);
      for (let i = 1; i < n; i++) if ((await call('GET', path)).text !== first.text) return false;
      return true;
    }, `the instances agree on ${path}`);
    return first as Answer;
  }

  before(async () => {
    ca = await tempOverlay(['svc-1', 'svc-2', 'g'], { vnets: ['v0', 'v1'] });
    for (let i = 0; i < 2; i++) {
      const peers = vnets.map((v) => v.addresses.tcp);
      const socketPath = `${dir.path}/v${i}.sock`;
      const v = new VNet({
        provider: ca.provider(`v${i}`),
        host: hostAddress(i),
        port: 0,
        socketPath,
        peers,
        alias: `v${i}`,
      });
      await v.start();
      vnets.push(v);
    }
    await Promise.all([instance('svc-1'), instance('svc-2')]);
    vnic = new VNic({ provider: ca.provider('g'), alias: 'g', vnet: { path: vnets[1]?.addresses.unix as string } });
    await vnic.connect();
    gateway = new Gateway({ vnic, port: 0 });
    url = (await gateway.start()).url;
    await waitFor(() => (gateway.directory.route(0, 'Orders')?.nodes.length ?? 0) === 2, {
      what: 'Orders published by both instances',
      timeoutMs: 20_000,
    });
  });
  after(async () => {
    await gateway?.close();
    await vnic?.close();
    for (const c of children) if (c.connected) c.disconnect();
    await Promise.all(
      children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)),
    );
    for (const v of vnets) await v.close();
    dir.remove();
    ca.remove();
  });

  test('the two hosts: VNets on 127.0.0.2 and .3, the instances remote, the route names both', () => {
    assert.deepEqual(
      vnets.map((v) => v.addresses.tcp.host),
      ['127.0.0.2', '127.0.0.3'],
    );
    const route = gateway.directory.route(0, 'Orders');
    assert.equal(route?.nodes.length, 2);
    for (const n of route?.nodes ?? []) assert.notEqual(n, vnic.id, 'the instances are other nodes');
  });

  test('POST, GET, PUT, PATCH and DELETE through both VNets; both instances answer the same', async () => {
    const posted = await call('POST', '/l8/0/Orders', { id: '501', number: 'M-1', customerId: 'c1', city: 'Paris' });
    assert.equal(posted.status, 201, posted.text);
    assert.equal((posted.json as { version: number }).version, 1);
    const got = await settled('/l8/0/Orders/501');
    assert.deepEqual(got.json, posted.json);

    const put = await call('PUT', '/l8/0/Orders', { id: '501', number: 'M-1', customerId: 'c1', city: 'Lyon' });
    assert.equal(put.status, 200, put.text);
    const patched = await call('PATCH', '/l8/0/Orders', { id: '501', customerId: 'c9' });
    assert.equal(patched.status, 200, patched.text);
    const now = (await settled('/l8/0/Orders/501')).json as { item: Record<string, unknown>; version: number };
    assert.deepEqual([now.item.city, now.item.customerId, now.version], ['Lyon', 'c9', 3]);

    assert.equal((await call('DELETE', '/l8/0/Orders/501')).status, 204);
    const gone = await settled('/l8/0/Orders/501');
    assert.deepEqual([gone.status, code(gone)], [404, 'L8_ERR_NOT_FOUND']);
  });

  test('L8QL with paging over both instances: pages, totals and the limit', async () => {
    for (let i = 1; i <= 14; i++) {
      const o = { id: String(2000 + i), number: `P-${i}`, city: i % 2 === 0 ? 'Oslo' : 'Rome' };
      const a = await call('POST', '/l8/0/Orders', o);
      assert.equal(a.status, 201, a.text);
    }
    const q = encodeURIComponent("select * from Order where city = 'Oslo' sort-by id");
    const pages: string[][] = [];
    for (let page = 0; page < 3; page++) {
      const a = await settled(`/l8/0/Orders?q=${q}&limit=3&page=${page}`);
      assert.equal(a.status, 200, a.text);
      const p = a.json as Page;
      assert.deepEqual([p.total, p.limit, p.page], [7, 3, page]);
      assert.ok(p.items.every((o) => o.city === 'Oslo'));
      pages.push(p.items.map((o) => o.id));
    }
    assert.deepEqual(pages, [['2002', '2004', '2006'], ['2008', '2010', '2012'], ['2014']]);
    const over = await call('GET', `/l8/0/Orders?q=${q}&limit=51`);
    assert.deepEqual([over.status, code(over)], [400, 'L8_ERR_LIMIT']);
  });

  test('an instance killed: the gateway answers from the other one once health has noticed', async () => {
    const victim = children[0] as ChildProcess;
    const exited = once(victim, 'exit');
    victim.kill('SIGKILL');
    await exited;
    // a GET may still go to the dead instance until health notices: those fail, then all succeed
    await eventually(async () => (await call('GET', '/l8/0/Orders/2002')).status === 200, 'a GET answered', 15_000);
    await waitFor(() => gateway.directory.route(0, 'Orders')?.nodes.length === 1, {
      what: 'the dead instance leaves the route',
      timeoutMs: 15_000,
    });
    for (let i = 0; i < 5; i++) {
      const a = await call('GET', `/l8/0/Orders/${2001 + i}`);
      assert.equal(a.status, 200, a.text);
    }
  });
});
