import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ATTACHED_KINDS, type ChaosReport, chaosRunAttached } from '@layer8/chaos';
import { initSecurity } from '@layer8/security';
import { children, l8, spawnL8, stop, tempDir } from './cli-kit.ts';

/**
 * `l8 chaos run --vnet HOST:PORT …` against an overlay the run did not start: two `l8 vnet start`
 * processes with the TLS provider, peered. The run starts only its own VNic processes (a VNic
 * certificate of the overlay, shared by all of them), over TCP through a proxy each or over the VNets'
 * unix sockets, and injects only the faults it owns. The VNets must still run afterwards: the run never
 * kills or stops a process it did not start.
 */

const dir = tempDir('l8-chaos-vnet-');

/** A running `l8 vnet start`: its process, TCP port and unix socket. */
interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly socket: string;
}

async function startVNet(i: number, peers: readonly Running[]): Promise<Running> {
  const socket = join(dir, `vnet-${i}.sock`);
  const { child, match } = await spawnL8(
    [
      ...['vnet', 'start', '--host', `127.0.0.${i + 2}`, '--port', '0', '--socket', socket],
      ...['--security', dir, '--node', `vnet-${i}`, '--heartbeat', '1000', '--alias', `vnet-${i}`],
      ...peers.flatMap((p) => ['--peer', `127.0.0.${peers.indexOf(p) + 2}:${p.port}`]),
    ],
    /listening on tcp [\d.]+:(\d+)/,
  );
  return { child, port: Number(match[1]), socket };
}

let vnets: Running[] = [];
before(async () => {
  await initSecurity({ dir, vnets: ['vnet-0', 'vnet-1'], nodes: ['chaos', 'other'] });
  const first = await startVNet(0, []);
  vnets = [first, await startVNet(1, [first])];
});
after(async () => {
  await Promise.all(children.map(stop));
});

function assertHeld(r: ChaosReport, kinds: readonly string[]): void {
  const where = `seed ${r.seed}: ${JSON.stringify({ checks: r.checks.filter((c) => !c.ok), faults: r.faults })}`;
  assert.deepEqual(
    [...new Set(r.faults.map((f) => f.kind))].sort(),
    [...kinds].sort(),
    `the faults it injected: ${where}`,
  );
  assert.deepEqual(
    r.faults.filter((f) => f.error !== undefined).map((f) => `${f.kind}: ${f.error}`),
    [],
    'every fault injected and measured',
  );
  assert.ok(r.requests > 0 && r.answered > 0 && r.multicast.delivered > 0, 'the load ran');
  assert.equal(r.lost, 0, where);
  assert.equal(r.crashes, 0, where);
  assert.equal(r.duplicates, 0, where);
  assert.deepEqual(r.hostile.admitted, [], 'a node of another overlay is refused by the VNets');
  assert.ok(r.health.identical, `health tables differ: ${r.health.differing.join(', ')}`);
  assert.ok(r.ok, where);
  for (const v of vnets) assert.equal(v.child.exitCode ?? v.child.signalCode, null, 'the VNets still run');
}

describe('l8 chaos run --vnet: faults only on the processes and links it owns', () => {
  test('2 running TLS VNets, 2 VNics each over TCP proxies, seed 7 for 15 s', { timeout: 60_000 }, async () => {
    const r = await l8([
      ...['chaos', 'run', '--vnet', `127.0.0.2:${vnets[0]?.port}`, '--vnet', `127.0.0.3:${vnets[1]?.port}`],
      ...['--security', dir, '--node', 'chaos', '--vnics', '2', '--heartbeat', '1000'],
      ...['--duration', '15s', '--seed', '7', '--json'],
    ]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as ChaosReport;
    assertHeld(report, ATTACHED_KINDS);
    assert.equal(report.seed, 7);
    assert.deepEqual(report.setup.attached?.via, 'tcp');
    assert.match(report.setup.leftOut?.['kill-vnet'] ?? '', /not the run’s own/);
    assert.ok(report.faults.some((f) => f.kind === 'partition' && /^vnic-\d-\d\|vnet-\d$/.test(f.target)));
    assert.ok(report.hostile.attempts >= report.faults.length, 'a hostile join tried under every fault');
  });

  test('over the VNets’ unix sockets: kills and pauses only (no proxy on a unix link)', {
    timeout: 60_000,
  }, async () => {
    const r = await chaosRunAttached({
      vnets: vnets.map((v, i) => ({ host: `127.0.0.${i + 2}`, port: v.port })),
      sockets: vnets.map((v) => v.socket),
      vnicsPerVnet: 2,
      security: { tls: { dir, node: 'chaos' } },
      heartbeatMs: 1000,
      seed: 11,
      durationMs: 8000,
    });
    assertHeld(r, ['kill-vnic', 'pause']);
    assert.equal(r.setup.attached?.via, 'unix');
    assert.match(r.setup.leftOut?.partition ?? '', /unix sockets/);
  });

  test('a VNet certificate, --vnets or a --socket without --vnet: L8_ERR_INVALID_ARGUMENT', async () => {
    const vnet = ['--vnet', `127.0.0.2:${vnets[0]?.port}`, '--security', dir];
    for (const args of [
      [...vnet, '--node', 'vnet-0'],
      [...vnet, '--node', 'chaos', '--vnets', '2'],
      ['--socket', '/tmp/x.sock'],
    ]) {
      const r = await l8(['chaos', 'run', ...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.err, /L8_ERR_INVALID_ARGUMENT/, args.join(' '));
      assert.equal(r.out, '', `${args.join(' ')}: nothing started`);
    }
  });
});
