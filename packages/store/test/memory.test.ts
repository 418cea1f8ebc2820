/** The in-memory store passes the conformance suite (it is also the suite's oracle); key order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { storeConformance } from '../src/conformance.ts';
import { compareKeys, memoryStore } from '../src/index.ts';

storeConformance('memory', async (o) => memoryStore(o), { durable: false });

test('compareKeys orders strings as their UTF-8 bytes compare (code point order)', () => {
  const units = fc.constantFrom('a', 'Z', '\0', 'é', '\uD7FF', '\uE000', '\uFFFD', '\uFFFF', '\u{10000}', '\u{1F600}');
  const key = fc.array(units, { maxLength: 4 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(key, key, (a, b) => {
      const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.equal(Math.sign(compareKeys(a, b)), bytes, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }),
    { numRuns: 500 },
  );
});
