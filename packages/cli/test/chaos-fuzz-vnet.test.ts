import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FuzzReport, runFuzz } from '@layer8/chaos';
import { initSecurity, TlsProvider } from '@layer8/security';
import { children, l8, spawnL8, stop, tempDir } from './cli-kit.ts';

/**
 * `l8 chaos fuzz --vnet HOST:PORT` against a VNet the fuzzer did not start: an `l8 vnet start` process
 * with the TLS provider (and its Prometheus endpoint), fuzzed over its TCP port with a VNic certificate of
 * the overlay. It must keep serving the control pair, and its refusals are read from its own counters
 * when its endpoint is given, else from what the fuzzer saw on its links. A VNet killed mid-run is
 * reported as having stopped answering (the fuzzer cannot see an exit code).
 */

const dir = tempDir('l8-fuzz-vnet-');

/** A running `l8 vnet start` on 127.0.0.2 with TLS: its process, TCP port and metrics URL. */
interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly metrics: string;
}

async function startVNet(name: string): Promise<Running> {
  const { child, match } = await spawnL8(
    [
      ...['vnet', 'start', '--host', '127.0.0.2', '--port', '0', '--socket', join(dir, `${name}.sock`)],
      ...['--security', dir, '--node', name, '--heartbeat', '1000', '--metrics', '127.0.0.1:0'],
    ],
    /listening on tcp [\d.]+:(\d+)[\s\S]*metrics at (\S+)/,
  );
  return { child, port: Number(match[1]), metrics: match[2] as string };
}

function assertServed(r: FuzzReport, frames: number): void {
  const where = `seed ${r.seed}: ${JSON.stringify({ control: r.control, remote: r.remote, channels: r.channels })}`;
  assert.equal(r.crashes, 0, where);
  assert.equal(r.hangs, 0, where);
  assert.equal(r.framesSent, frames, where);
  assert.ok(r.tls, 'fuzzed over TLS');
  assert.ok((r.control?.answered ?? 0) > 0, where);
  assert.equal(r.control?.answered, r.control?.requests, `the control pair was answered throughout: ${where}`);
  assert.equal(r.control?.stalls, 0, where);
  const [vnet] = r.targets;
  assert.equal(vnet?.rssBefore, null, 'the RSS of a process of another is not seen');
  assert.equal(vnet?.crash, undefined);
  assert.ok(r.linksCut + r.linksEndedByFuzzer > 0, where);
}

let vnet: Running;
before(async () => {
  await initSecurity({ dir, vnets: ['vnet-0', 'vnet-1'], nodes: ['fuzzer'] });
  vnet = await startVNet('vnet-0');
});
after(async () => {
  await Promise.all(children.map(stop));
});

describe('l8 chaos fuzz --vnet: a running TLS VNet keeps serving and counts what it refused', () => {
  test('3 000 frames read against its own counters (its /metrics)', { timeout: 60_000 }, async () => {
    const r = await runFuzz({
      frames: 3000,
      seed: 31,
      vnet: {
        address: { host: '127.0.0.2', port: vnet.port },
        provider: new TlsProvider({ dir, node: 'fuzzer' }),
        metricsUrl: vnet.metrics,
      },
    });
    assertServed(r, 3000);
    assert.equal(r.remote?.counters, 'metrics', JSON.stringify(r.remote));
    assert.equal(r.targets[0]?.counters, 'metrics');
    assert.ok((r.rejectedByCode.L8_ERR_MALFORMED_FRAME ?? 0) > 0, JSON.stringify(r.rejectedByCode));
    assert.ok(Object.keys(r.rejectedByCode).length >= 3, JSON.stringify(r.rejectedByCode));
    assert.ok((r.targets[0]?.framesIn ?? 0) >= 3000, 'the VNet counted the frames in');
    assert.equal(vnet.child.exitCode, null, 'the VNet process still runs');
  });

  test('l8 chaos fuzz --vnet without --metrics: 2 000 frames, refusals as the fuzzer observed them', {
    timeout: 60_000,
  }, async () => {
    const r = await l8([
      ...['chaos', 'fuzz', '--vnet', `127.0.0.2:${vnet.port}`, '--security', dir, '--node', 'fuzzer'],
      ...['--peer-node', 'vnet-1', '--frames', '2000', '--seed', '32', '--json'],
    ]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as FuzzReport;
    assertServed(report, 2000);
    assert.equal(report.remote?.counters, 'observed');
    assert.match(report.remote?.unseen ?? '', /RSS/);
    assert.deepEqual(report.channels.map((c) => c.name).sort(), ['vnet/peer', 'vnet/tls']);
    const codes = Object.keys(report.rejectedByCode);
    assert.ok(codes.includes('L8_ERR_UNREACHABLE') && codes.length >= 2, JSON.stringify(report.rejectedByCode));
  });

  test('the text report names the VNet, where its counters came from, and how to replay', {
    timeout: 60_000,
  }, async () => {
    const r = await l8([
      ...['chaos', 'fuzz', '--vnet', `127.0.0.2:${vnet.port}`, '--security', dir, '--node', 'fuzzer'],
      ...['--metrics', vnet.metrics, '--frames', '1000', '--seed', '33'],
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^l8 chaos fuzz: seed 33, 1000 frames into the VNet at 127\.0\.0\.2:\d+, TLS/m);
    assert.match(r.out, /^counters\s+metrics$/m);
    assert.match(r.out, /^vnet\s+\d+\s+not seen\s+no/m);
    assert.match(r.out, /replay with\s+l8 chaos fuzz --frames 1000 --seed 33 --vnet 127\.0\.0\.2:\d+$/m);
  });

  test('a VNet certificate, --tls or --target with --vnet: L8_ERR_INVALID_ARGUMENT', async () => {
    const base = ['chaos', 'fuzz', '--vnet', `127.0.0.2:${vnet.port}`, '--security', dir];
    for (const extra of [
      ['--node', 'vnet-0'],
      ['--node', 'fuzzer', '--tls'],
      ['--node', 'fuzzer', '--target', 'vnic'],
    ]) {
      const r = await l8([...base, ...extra]);
      assert.equal(r.code, 1, extra.join(' '));
      assert.match(r.err, /L8_ERR_INVALID_ARGUMENT/, extra.join(' '));
    }
  });

  test('a VNet killed mid-run: reported as a crash that stopped answering', { timeout: 60_000 }, async () => {
    const doomed = await startVNet('vnet-1');
    setTimeout(() => doomed.child.kill('SIGKILL'), 1500).unref();
    const r = await runFuzz({
      frames: 5_000_000,
      seed: 34,
      hangMs: 1000,
      vnet: { address: { host: '127.0.0.2', port: doomed.port }, provider: new TlsProvider({ dir, node: 'fuzzer' }) },
    });
    assert.equal(r.crashes, 1, JSON.stringify(r.targets));
    assert.equal(r.targets[0]?.crash?.stoppedAnswering, true);
    assert.ok(r.framesSent > 0 && r.framesSent < 5_000_000, `${r.framesSent} frames before it stopped`);
  });
});
