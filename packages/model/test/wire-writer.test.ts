import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireWriter } from '../src/wire.ts';

test('a short ASCII string that makes the buffer grow keeps its bytes', () => {
  for (let fill = 500; fill <= 512; fill++) {
    const w = new WireWriter();
    w.reset();
    w.bytes(new Uint8Array(fill));
    w.string('x y');
    const out = w.finish();
    assert.deepEqual([...out.subarray(out.length - 4)], [3, 0x78, 0x20, 0x79], `after ${fill} bytes`);
  }
});
