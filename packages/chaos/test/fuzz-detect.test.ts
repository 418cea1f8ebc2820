import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runFuzz } from '../src/index.ts';

/**
 * The fuzzer's detectors, tried on real faults of its target process: a crash is a process that ends by
 * itself (here SIGKILL, which no fuzz frame could cause, stands in for one), a hang a VNet that stops
 * serving the control pair for longer than the deadline (SIGSTOP, then SIGCONT).
 */
describe('l8 chaos fuzz sees a crash and a hang of its target', () => {
  test('a VNet that dies mid-run is reported as a crash with its signal, and its channels stop', async () => {
    const frames = 5_000_000;
    const r = await runFuzz({
      frames,
      seed: 11,
      target: 'vnet',
      onTargets: ([vnet]) => void setTimeout(() => process.kill(vnet?.pid ?? 0, 'SIGKILL'), 1000),
    });
    assert.equal(r.crashes, 1);
    assert.equal(r.targets[0]?.crash?.signal, 'SIGKILL');
    assert.ok(r.framesSent > 0 && r.framesSent < frames, `${r.framesSent} frames sent before the crash`);
  });

  test('a VNet stopped for longer than the hang deadline is reported as a hang of the control pair', async () => {
    const r = await runFuzz({
      frames: 20_000,
      seed: 12,
      target: 'vnet',
      hangMs: 1000,
      onTargets: ([vnet]) => {
        const pid = vnet?.pid ?? 0;
        setTimeout(() => {
          process.kill(pid, 'SIGSTOP');
          setTimeout(() => process.kill(pid, 'SIGCONT'), 1800);
        }, 300);
      },
    });
    assert.equal(r.crashes, 0);
    assert.ok((r.control?.stalls ?? 0) >= 1, JSON.stringify(r.control));
    assert.ok(r.hangs >= 1);
    assert.ok((r.control?.answered ?? 0) > 0);
  });
});
