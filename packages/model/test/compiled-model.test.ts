/**
 * The compiled differ and cloner against the reflective ones (the diff of diff.ts, protobuf-es `clone`): the same
 * changes, clones and equality verdicts on arbitrary messages of every demo, codec-test and wire model, and the
 * same outcome (result or error) on invalid values and odd shapes, which the compiled code hands back.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clone, create, type DescMessage, fromBinary, type Message } from '@bufbuild/protobuf';
import {
  AllTypesSchema,
  file_layer8_demo_v1_bench,
  file_layer8_demo_v1_codec,
  file_layer8_demo_v1_demo,
  OrderLineSchema,
  OrderSchema,
  SeatSchema,
  WithLongStringSchema,
  WithWrapperSchema,
} from '@layer8/fixtures';
import fc from 'fast-check';
import { file_layer8_model_v1_delta } from '../src/gen/layer8/model/v1/delta_pb.ts';
import { file_layer8_model_v1_envelope } from '../src/gen/layer8/model/v1/envelope_pb.ts';
import { applyChanges, DiffMode, deepClone, deepEqual, diff, TypeRegistry } from '../src/index.ts';
import { compiledModel, reflectDiff } from '../src/internal.ts';
import { anyText, messageArb, wellFormedText } from './message-arb.ts';

const registry = new TypeRegistry().register(
  file_layer8_demo_v1_demo,
  file_layer8_demo_v1_bench,
  file_layer8_demo_v1_codec,
  file_layer8_model_v1_delta,
  file_layer8_model_v1_envelope,
);
const types = registry.names().map((n) => registry.get(n).desc);
const runs = (desc: DescMessage) => (desc === AllTypesSchema ? 300 : desc === OrderSchema ? 200 : 40);
const modes = [DiffMode.PUT, DiffMode.PATCH];

/** A small deterministic generator of numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `a` with some members taken from `c`, and some message fields mixed the same way one level down. */
function mix(desc: DescMessage, a: Message, c: Message, rnd: () => number): Message {
  const b = clone(desc, a) as unknown as Record<string, unknown>;
  const from = clone(desc, c) as unknown as Record<string, unknown>;
  for (const member of desc.members) {
    const name = member.localName;
    const r = rnd();
    if (r < 0.3) b[name] = from[name];
    else if (r < 0.6 && member.kind === 'field' && member.fieldKind === 'message') {
      const [x, y] = [b[name], from[name]];
      if (isMessage(x) && isMessage(y)) b[name] = mix(member.message, x, y, rnd);
    }
  }
  return b as unknown as Message;
}

function isMessage(v: unknown): v is Message {
  return typeof v === 'object' && v !== null && '$typeName' in v;
}

/** Two messages of `desc`: unrelated, or the second made from the first with some changes. */
function pairArb(desc: DescMessage, text = wellFormedText): fc.Arbitrary<[Message, Message]> {
  const m = messageArb(desc, { text });
  const related = fc
    .tuple(m, m, fc.integer())
    .map(([a, c, seed]): [Message, Message] => [a, mix(desc, a, c, rng(seed))]);
  return fc.oneof(
    fc.tuple(m, m),
    related,
    m.map((a): [Message, Message] => [a, clone(desc, a)]),
  );
}

function outcome<T>(fn: () => T): { ok: T } | { err: string } {
  try {
    return { ok: fn() };
  } catch (err) {
    return { err: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** Every object (messages, arrays, maps, bytes, oneofs) reachable from `v`. */
function objectsOf(v: unknown, into = new Set<object>()): Set<object> {
  if (typeof v !== 'object' || v === null || into.has(v)) return into;
  into.add(v);
  if (!(v instanceof Uint8Array)) for (const x of Object.values(v)) objectsOf(x, into);
  return into;
}

/** The same members in the same order, all the way down. */
function assertSameOrder(a: unknown, b: unknown): void {
  if (typeof a !== 'object' || a === null || a instanceof Uint8Array) return;
  assert.deepStrictEqual(Object.keys(a), Object.keys(b as object));
  for (const k of Object.keys(a)) assertSameOrder((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
}

describe('compiled diff', () => {
  test('every model compiles except the one with jstype = JS_STRING', () => {
    for (const desc of types) assert.equal(compiledModel(desc) === undefined, desc === WithLongStringSchema);
  });

  test('the changes of the reflective diff, PUT and PATCH, on every model', () => {
    for (const desc of types) {
      const compiled = compiledModel(desc);
      fc.assert(
        fc.property(pairArb(desc), ([a, b]) => {
          for (const mode of modes) {
            const want = reflectDiff(desc, a, b, { mode });
            assert.deepStrictEqual(diff(desc, a, b, { mode }), want);
            if (compiled !== undefined) assert.deepStrictEqual(compiled.diff(a, b, mode === 'patch'), want);
          }
        }),
        { numRuns: runs(desc) },
      );
    }
  });

  test('applying the changes to before gives after (PUT), or after merged into before (PATCH)', () => {
    for (const desc of [OrderSchema, AllTypesSchema, SeatSchema, WithWrapperSchema] as DescMessage[]) {
      fc.assert(
        fc.property(pairArb(desc), ([a, b]) => {
          for (const mode of modes) {
            const x = clone(desc, a);
            applyChanges(desc, x, diff(desc, a, b, { mode }));
            assert.deepStrictEqual(reflectDiff(desc, x, b, { mode }), []);
          }
        }),
        { numRuns: runs(desc) },
      );
    }
  });

  test('invalid text (protobuf-es refuses to clone it): the same changes or the same error', () => {
    for (const desc of [OrderSchema, AllTypesSchema]) {
      fc.assert(
        fc.property(pairArb(desc, anyText), ([a, b]) => {
          for (const mode of modes) {
            assert.deepStrictEqual(
              outcome(() => diff(desc, a, b, { mode })),
              outcome(() => reflectDiff(desc, a, b, { mode })),
            );
          }
        }),
        { numRuns: 200 },
      );
    }
  });

  test('odd shapes go to the reflective diff: the same changes or the same error', () => {
    const odd: Record<string, unknown>[] = [
      { tags: { ['__proto__']: 'p', 'a<b>': 'x' } },
      { linesByNo: { '007': create(OrderLineSchema), '-0': undefined } },
      { flags: { maybe: 1n, true: 2n } },
      { lines: [undefined, create(OrderSchema)] },
      { lines: undefined },
      { shipTo: create(OrderSchema) },
      { shipTo: null },
      { payment: { case: 'card', value: undefined } },
      { payment: { case: 'nope', value: 1 } },
      { id: 5, number: 7, status: undefined, signature: [1, 2], discount: Number.NaN, gift: undefined },
      { notes: ['a', new Uint8Array([1])], ratings: [1, 2.5, -0] },
    ];
    for (const patch of odd) {
      const a = Object.assign(create(OrderSchema, { id: 1n, shipTo: { city: 'x' }, lines: [{ no: 1 }] }), patch);
      const b = create(OrderSchema, { id: 2n, tags: { x: 'y' }, linesByNo: { 7: { no: 7 } }, shipTo: {} });
      for (const [x, y] of [
        [a, b],
        [b, a],
        [a, a],
      ] as const) {
        for (const mode of modes) {
          const want = outcome(() => reflectDiff(OrderSchema, x, y, { mode }));
          assert.deepStrictEqual(
            outcome(() => diff(OrderSchema, x, y, { mode })),
            want,
            JSON.stringify(Object.keys(patch)),
          );
        }
      }
    }
  });
});

describe('compiled deepEqual', () => {
  test('equal exactly when the reflective diff finds no change', () => {
    for (const desc of types) {
      fc.assert(
        fc.property(pairArb(desc), ([a, b]) => {
          assert.equal(deepEqual(desc, a, b), reflectDiff(desc, a, b).length === 0);
          assert.ok(deepEqual(desc, a, clone(desc, a)));
        }),
        { numRuns: runs(desc) },
      );
    }
  });
});

describe('compiled clone', () => {
  test('the message clone() gives, members in the same order, sharing no object with the source', () => {
    for (const desc of types) {
      const compiled = compiledModel(desc);
      fc.assert(
        fc.property(messageArb(desc, { text: wellFormedText }), (m) => {
          const want = clone(desc, m);
          const copy = deepClone(desc, m);
          assert.deepStrictEqual(copy, want);
          assertSameOrder(copy, want);
          if (compiled !== undefined) assert.deepStrictEqual(compiled.clone(m), want);
          const source = objectsOf(m);
          for (const o of objectsOf(copy)) assert.ok(!source.has(o), 'the clone shares an object with its source');
        }),
        { numRuns: runs(desc) },
      );
    }
  });

  test('mutating the clone leaves the source as it was', () => {
    const m = create(OrderSchema, {
      lines: [{ no: 1, qty: 2 }],
      tags: { a: 'b' },
      shipTo: { city: 'Paris' },
      signature: new Uint8Array([1, 2]),
      linesByNo: { 3: { no: 3 } },
    });
    const before = clone(OrderSchema, m);
    const c = deepClone(OrderSchema, m);
    c.lines[0]!.qty = 9;
    c.lines.push(create(OrderLineSchema));
    c.tags.z = 'z';
    c.shipTo!.city = 'Lyon';
    c.signature[0] = 7;
    c.linesByNo[3]!.no = 4;
    assert.deepStrictEqual(m, before);
  });

  test('unknown fields are kept, their bytes copied', () => {
    const bytes = new Uint8Array([0x0a, 0x01, 0x74, 0xa8, 0x1f, 0x07, 0x92, 0x01, 0x02, 0x68, 0x69]);
    const seat = fromBinary(SeatSchema, bytes);
    const copy = deepClone(SeatSchema, seat);
    assert.deepStrictEqual(copy, clone(SeatSchema, seat));
    assert.equal(copy.$unknown?.length, 2);
    assert.notEqual(copy.$unknown?.[0]?.data, seat.$unknown?.[0]?.data);
  });

  test('invalid values and odd shapes: the same clone or the same error as clone()', () => {
    fc.assert(
      fc.property(messageArb(AllTypesSchema, { text: anyText }), (m) => {
        assert.deepStrictEqual(
          outcome(() => deepClone(AllTypesSchema, m)),
          outcome(() => clone(AllTypesSchema as DescMessage, m)),
        );
      }),
      { numRuns: 300 },
    );
    const odd: Record<string, unknown>[] = [
      { fInt32: 1.5 },
      { fInt64: 3 },
      { oUint64: -1n },
      { fFloat: 1e300 },
      { mInt32: { '007': 'x' } },
      { mInt64: { '0x10': new Uint8Array() } },
      { mBool: { maybe: create(AllTypesSchema) } },
      { rInt64: [1, 2] },
      { child: create(OrderSchema) },
      { choice: { case: 'cMessage', value: undefined } },
      { fString: '\uD800' },
    ];
    for (const patch of odd) {
      const m = Object.assign(create(AllTypesSchema), patch);
      const want = outcome(() => clone(AllTypesSchema, m));
      assert.deepStrictEqual(
        outcome(() => deepClone(AllTypesSchema, m)),
        want,
        Object.keys(patch)[0],
      );
    }
  });
});
