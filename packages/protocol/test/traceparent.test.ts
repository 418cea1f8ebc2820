import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatTraceparent, parseTraceparent } from '../src/index.ts';

/** The W3C grammar as a regular expression: the reference the hand-written parser must agree with. */
const W3C = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function reference(s: string): { traceId: string; spanId: string; flags: number } | undefined {
  const m = W3C.exec(s);
  if (m === null || m[1] === 'ff' || /^0+$/.test(m[2] as string) || /^0+$/.test(m[3] as string)) return undefined;
  return { traceId: m[2] as string, spanId: m[3] as string, flags: Number.parseInt(m[4] as string, 16) };
}

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const nearHex = (n: number) =>
  fc.array(fc.constantFrom(...'0123456789abcdefABCDEFg-z \u00e1\u0130'.split('')), { minLength: n, maxLength: n });
const valid = fc.tuple(hex(2), hex(32), hex(16), hex(2)).map((p) => p.join('-'));
const mangled = fc
  .tuple(nearHex(2), nearHex(32), nearHex(16), nearHex(2), fc.constantFrom('-', '_', ''))
  .map(([v, t, s, f, sep]) => [v.join(''), t.join(''), s.join(''), f.join('')].join(sep));

describe('traceparent', () => {
  test('parses exactly what the W3C grammar accepts (valid and mangled values)', () => {
    fc.assert(
      fc.property(fc.oneof(valid, mangled, fc.string()), (s) => {
        assert.deepEqual(parseTraceparent(s), reference(s));
      }),
      { numRuns: 3000 },
    );
  });

  test('refuses version ff, all-zero ids, upper case, other lengths and undefined', () => {
    const ok = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.deepEqual(parseTraceparent(ok), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    });
    for (const bad of [
      `ff${ok.slice(2)}`,
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      ok.toUpperCase(),
      `${ok}-`,
      ok.slice(1),
      `0${ok.slice(2)}x`,
      `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g`,
    ])
      assert.equal(parseTraceparent(bad), undefined, bad);
    assert.equal(parseTraceparent(undefined), undefined);
  });

  test('formats what it parses back to the same text (version 00)', () => {
    fc.assert(
      fc.property(valid, (s) => {
        const p = parseTraceparent(s);
        if (p === undefined || !s.startsWith('00')) return;
        assert.equal(formatTraceparent(p.traceId, p.spanId, p.flags), s);
      }),
    );
  });
});
