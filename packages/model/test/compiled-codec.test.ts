/**
 * The compiled protobuf codec against @bufbuild/protobuf: same bytes, deep-equal messages, on arbitrary values of
 * every model in the model's and the fixtures' proto/ (generated from the descriptors), and the same verdict on mangled bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create, type DescMessage, fromBinary, type Message, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import {
  AllTypesSchema,
  CustomerSchema,
  demoCustomer,
  file_layer8_demo_v1_bench,
  file_layer8_demo_v1_codec,
  file_layer8_demo_v1_demo,
  OrderSchema,
  WithLongStringSchema,
  WithWrapperSchema,
} from '@layer8/fixtures';
import { L8Error } from '@layer8/protocol';
import fc from 'fast-check';
import { file_layer8_model_v1_delta } from '../src/gen/layer8/model/v1/delta_pb.ts';
import { file_layer8_model_v1_envelope } from '../src/gen/layer8/model/v1/envelope_pb.ts';
import { modelCodec, TypeRegistry } from '../src/index.ts';
import { type CompiledCodec, compileCodec } from '../src/internal.ts';
import { messageArb } from './message-arb.ts';

const registry = new TypeRegistry().register(
  file_layer8_demo_v1_demo,
  file_layer8_demo_v1_bench,
  file_layer8_demo_v1_codec,
  file_layer8_model_v1_delta,
  file_layer8_model_v1_envelope,
);
const compiledTypes = registry
  .names()
  .map((n) => registry.get(n).desc)
  .filter((d) => d !== WithWrapperSchema && d !== WithLongStringSchema);

function compiled(desc: DescMessage): CompiledCodec {
  const codec = compileCodec(desc);
  assert.ok(codec, `${desc.typeName} compiles`);
  return codec;
}

/** Valid bytes of `desc`, then mangled: truncated, a byte changed, bytes inserted, or random. */
function mangledArb(desc: DescMessage): fc.Arbitrary<Uint8Array> {
  const valid = messageArb(desc, { depth: 1 }).map((m) => toBinary(desc, m));
  const edit = fc.tuple(valid, fc.nat(), fc.nat({ max: 255 }), fc.uint8Array({ minLength: 1, maxLength: 3 }));
  return fc.oneof(
    valid,
    fc.uint8Array({ maxLength: 24 }),
    edit.map(([b, at]) => b.subarray(0, at % (b.length + 1))),
    edit.map(([b, at, byte]) => b.map((x, i) => (b.length > 0 && i === at % b.length ? byte : x))),
    edit.map(([b, at, , ins]) => {
      const i = at % (b.length + 1);
      return new Uint8Array([...b.subarray(0, i), ...ins, ...b.subarray(i)]);
    }),
  );
}

function outcome(fn: () => Message): { ok: Message } | { err: unknown } {
  try {
    return { ok: fn() };
  } catch (err) {
    return { err };
  }
}

describe('compiled codec', () => {
  test('every demo and wire model compiles; wrapper and jstype fields do not', () => {
    for (const desc of compiledTypes) assert.equal(registry.get(desc.typeName).codec.engine, 'compiled');
    assert.match(registry.get('WithWrapper').codec.description, /name is a wrapper/);
    assert.match(registry.get('WithLongString').codec.description, /jstype/);
    const proto2 = modelCodec(FileDescriptorProtoSchema);
    assert.equal(proto2.engine, 'bufbuild');
    assert.match(proto2.description, /google\.protobuf\.FileDescriptorProto is not proto3/);
    assert.equal(modelCodec(OrderSchema, { engine: 'bufbuild' }).engine, 'bufbuild');
    assert.equal(compileCodec(WithWrapperSchema), undefined);
  });

  test('encode gives the bytes of toBinary, decode the message of fromBinary (every model)', () => {
    for (const desc of compiledTypes) {
      const codec = compiled(desc);
      fc.assert(
        fc.property(messageArb(desc), (m) => {
          const bytes = toBinary(desc, m);
          assert.deepStrictEqual(codec.encode(m), bytes);
          const decoded = codec.decode(bytes);
          assert.deepStrictEqual(decoded, fromBinary(desc, bytes));
          assert.deepStrictEqual(codec.encode(decoded), bytes);
        }),
        { numRuns: desc === AllTypesSchema ? 400 : 60 },
      );
    }
  });

  test('the registry codec round-trips to what fromBinary gives', () => {
    const { codec, desc } = registry.get('AllTypes');
    fc.assert(
      fc.property(messageArb(desc), (m) => {
        const bytes = codec.encode(m);
        assert.deepStrictEqual(codec.decode(bytes), fromBinary(desc, toBinary(desc, m)));
      }),
      { numRuns: 150 },
    );
  });

  test('mangled bytes: the same message as fromBinary, or L8_ERR_DECODE when fromBinary fails', () => {
    for (const desc of [AllTypesSchema, OrderSchema, CustomerSchema]) {
      const codec = registry.get(desc.typeName).codec;
      const fast = compiled(desc);
      fc.assert(
        fc.property(mangledArb(desc), (bytes) => {
          const want = outcome(() => fromBinary(desc, bytes));
          const got = outcome(() => codec.decode(bytes));
          const direct = outcome(() => fast.decode(bytes));
          if ('ok' in direct) assert.deepStrictEqual(direct.ok, (want as { ok: Message }).ok);
          if ('ok' in want) return assert.deepStrictEqual(got, want);
          assert.ok('err' in got && got.err instanceof L8Error, `not an L8Error: ${JSON.stringify(got)}`);
          assert.equal(got.err.code, 'L8_ERR_DECODE');
        }),
        { numRuns: 1500 },
      );
    }
  });

  test('unknown fields go through bufbuild both ways', () => {
    const codec = registry.get('Seat').codec;
    const bytes = new Uint8Array([0x0a, 0x01, 0x74, 0xa8, 0x1f, 0x07, 0x92, 0x01, 0x02, 0x68, 0x69]);
    const seat = codec.decode(bytes);
    assert.deepStrictEqual(seat, fromBinary(registry.get('Seat').desc, bytes));
    assert.equal((seat as { $unknown?: unknown[] }).$unknown?.length, 2);
    assert.deepStrictEqual(codec.encode(seat), bytes);
  });

  test('invalid values encode (or fail) as with toBinary', () => {
    const codec = registry.get('AllTypes').codec;
    const cases: Record<string, unknown>[] = [
      { fInt32: '7' },
      { fUint32: -1 },
      { fFloat: 1e300 },
      { fInt64: 1 },
      { fUint64: -1n },
      { fString: 5 },
      { fBool: 1 },
      { fBytes: [1, 2] },
      { mInt32: { x: 'v' } },
      { mBool: { maybe: create(AllTypesSchema) } },
      { child: { $typeName: 'other' } },
      { rInt32: 'nope' },
      { mString: null },
    ];
    for (const patch of cases) {
      const m = Object.assign(create(AllTypesSchema), patch);
      const want = outcome(() => toBinary(AllTypesSchema, m) as unknown as Message);
      const got = outcome(() => codec.encode(m) as unknown as Message);
      if ('ok' in want) assert.deepStrictEqual(got, want, Object.keys(patch)[0]);
      else assert.equal((got as { err: Error }).err.message, (want.err as Error).message);
    }
  });

  test('deep nesting past the compiled limit still decodes', () => {
    let m = create(AllTypesSchema, { fInt32: 1 });
    for (let i = 0; i < 99; i++) m = create(AllTypesSchema, { child: m });
    const codec = registry.get('AllTypes').codec;
    const bytes = codec.encode(m);
    assert.deepStrictEqual(bytes, toBinary(AllTypesSchema, m));
    assert.deepStrictEqual(codec.decode(bytes), fromBinary(AllTypesSchema, bytes));
  });

  test('long messages and non-ASCII text', () => {
    const codec = compiled(CustomerSchema);
    const c = demoCustomer(3);
    c.notes = `${'ü'.repeat(3000)}\uD800`;
    c.tags = Array.from({ length: 300 }, (_, i) => `t${i}`);
    const bytes = toBinary(CustomerSchema, c);
    assert.deepStrictEqual(codec.encode(c), bytes);
    assert.deepStrictEqual(codec.decode(bytes), fromBinary(CustomerSchema, bytes));
  });
});
