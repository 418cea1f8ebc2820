import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildReport, tallyIncarnation } from '@layer8/chaos';
import { parseDuration, render } from '../src/commands/chaos-run.ts';
import { l8 } from './cli-kit.ts';

describe('l8 chaos run: its arguments and its report', () => {
  test('durations take ms, s, m and h, and bare seconds', () => {
    assert.equal(parseDuration('1500ms'), 1500);
    assert.equal(parseDuration('60s'), 60_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('90'), 90_000);
  });

  test('bad arguments fail with L8_ERR_INVALID_ARGUMENT before anything starts', async () => {
    for (const args of [
      ['--duration', '10x'],
      ['--duration', '0s'],
      ['--vnets', '1'],
      ['--vnics', '0'],
      ['--vnets', 'three'],
      ['--seed', '-3'],
      ['--seed', 'abc'],
      ['--heartbeat', '50'],
      ['--rate', '0'],
    ]) {
      const r = await l8(['chaos', 'run', ...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.err, /L8_ERR_INVALID_ARGUMENT/, args.join(' '));
      assert.equal(r.out, '', `${args.join(' ')}: nothing started`);
    }
  });

  test('the report prints its operations, faults and checks, and how to replay the seed', () => {
    const report = buildReport({
      seed: 42,
      setup: { vnets: 3, vnicsPerVnet: 4, heartbeatMs: 1000, provider: 'tls', rate: 20, mcastRate: 2, timeoutMs: 2000 },
      durationMs: 60_000,
      requests: tallyIncarnation(
        {
          sent: 3,
          settled: [
            [0, 2, 'OK'],
            [0, 1, 'L8_ERR_CONNECT'],
          ],
          unsettled: [9],
          paused: [],
        },
        2000,
      ),
      multicast: { sent: 1, refusedByCode: {}, delivered: 11, duplicates: 0, dupRequests: 0 },
      crashed: [],
      faults: [
        {
          kind: 'kill-vnet',
          target: 'vnet-1',
          holdMs: 2000,
          atMs: 100,
          detectMs: 20,
          recoverMs: 900,
          convergeMs: 950,
          spurious: 0,
          probes: [],
        },
      ],
      health: { identical: true, tables: 15, nodes: 15, expected: 15, waitedMs: 3, differing: [], fingerprint: [] },
      maxLagMs: 12,
    });
    const text = render(report);
    assert.match(text, /^requests\s+3$/m);
    assert.match(text, /^failed by code\s+L8_ERR_CONNECT 1$/m);
    assert.match(text, /^lost\s+1$/m);
    assert.match(text, /^kill-vnet\s+vnet-1\s+2000 ms\s+\+100 ms\s+20 ms\s+900 ms\s+950 ms\s+0$/m);
    assert.match(text, /^no request lost\s+1 lost\s+NO$/m);
    assert.match(text, /^seed 42: CHECKS FAILED \(replay: l8 chaos run --seed 42\)$/m);
  });
});
