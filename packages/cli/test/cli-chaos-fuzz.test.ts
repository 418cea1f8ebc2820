import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FuzzReport } from '@layer8/chaos';
import { l8 } from './cli-kit.ts';

describe('l8 chaos fuzz: its arguments and its report', () => {
  test('bad arguments fail with L8_ERR_INVALID_ARGUMENT before anything starts', async () => {
    for (const args of [
      ['--frames', '0'],
      ['--frames', 'many'],
      ['--seed', '-1'],
      ['--seed', '4294967296'],
      ['--target', 'gateway'],
      ['--hang', '5'],
    ]) {
      const r = await l8(['chaos', 'fuzz', ...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.err, /L8_ERR_INVALID_ARGUMENT/, args.join(' '));
      assert.equal(r.out, '', `${args.join(' ')}: nothing started`);
    }
  });

  test('--json prints one report object; the same seed sends the same frames', async () => {
    const run = async (): Promise<FuzzReport> => {
      const r = await l8(['chaos', 'fuzz', '--frames', '3000', '--seed', '3', '--target', 'vnic', '--json']);
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out) as FuzzReport;
    };
    const [a, b] = [await run(), await run()];
    assert.equal(a.seed, 3);
    assert.equal(a.framesSent, 3000);
    assert.equal(a.crashes + a.hangs, 0);
    assert.equal(a.targets[0]?.role, 'vnic');
    assert.equal(a.bytesSent, b.bytesSent, 'the seed replays the frames');
    // link setups follow how links ended (timing); the frames themselves follow the seed alone
    const frames = (c: Readonly<Record<string, number>>) =>
      Object.entries(c).filter(([k]) => !k.startsWith('handshake.'));
    assert.deepEqual(frames(a.coverage), frames(b.coverage));
  });

  test('the text report names what was refused by code and how to replay the run', async () => {
    const r = await l8(['chaos', 'fuzz', '--frames', '2000', '--seed', '9', '--target', 'vnet']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^l8 chaos fuzz: seed 9, 2000 frames into vnet/m);
    assert.match(r.out, /REJECTED BY CODE/);
    assert.match(r.out, /L8_ERR_MALFORMED_FRAME\s+\d+/);
    assert.match(r.out, /control pair\s+\d+ of \d+ answered/);
    assert.match(r.out, /replay with\s+l8 chaos fuzz --frames 2000 --seed 9 --target vnet$/m);
  });
});
