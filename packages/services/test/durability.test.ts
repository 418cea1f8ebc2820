import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OrderSchema } from '@layer8/fixtures';
import { DevProvider } from '@layer8/security';
import { tempDir, waitFor } from '@layer8/testkit';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { ServiceManager } from '../src/index.ts';
import { registry } from './kit.ts';

const CHILD = fileURLToPath(new URL('./durable-child.ts', import.meta.url));
const provider = () => new DevProvider({ passphrase: 'durable-test', warn: () => undefined });
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts the child; `lines` collects what it prints. */
function child(path: string, dir: string, mode: 'write' | 'serve'): { proc: ChildProcess; lines: string[] } {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD, path, dir, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const lines: string[] = [];
  let rest = '';
  proc.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { proc, lines };
}

test('no acknowledged write is lost across a kill -9 and a restart (SQLite write-through)', async () => {
  const dir = tempDir('l8-durable-');
  const vnet = new VNet({ provider: provider(), host: '127.0.0.1', port: 0, socketPath: `${dir.path}/v.sock` });
  await vnet.start();
  const client = new VNic({ provider: provider(), vnet: { path: `${dir.path}/v.sock` }, alias: 'checker' });
  try {
    const writer = child(`${dir.path}/v.sock`, `${dir.path}/data`, 'write');
    await waitFor(() => writer.lines.filter((l) => l.startsWith('acked')).length >= 200, {
      timeoutMs: 60_000,
      what: '200 acknowledged writes',
    });
    writer.proc.kill('SIGKILL');
    await new Promise((r) => writer.proc.once('exit', r));
    const acked = writer.lines.filter((l) => l.startsWith('acked')).map((l) => BigInt(l.split(' ')[1] as string));
    const server = child(`${dir.path}/v.sock`, `${dir.path}/data`, 'serve');
    await waitFor(() => server.lines.includes('serving'), {
      timeoutMs: 60_000,
      what: 'the restarted instance serving',
    });
    await client.connect();
    const orders = new ServiceManager(client, { registry: registry() }).client('Orders', 0, OrderSchema);
    const held = new Set((await orders.get('select * from Order')).items.map((o) => o.id));
    const lost = acked.filter((id) => !held.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes were lost`);
    server.proc.kill('SIGKILL');
  } finally {
    await client.close();
    await vnet.close();
    dir.remove();
  }
});
