/**
 * The fast paths of the change-set wire form: the wire message written out as `create()` makes it, encoded by
 * the compiled codec to the bytes of `toBinary`; paths read straight into field numbers and keys exactly as
 * `resolvePath` binds them (or left to it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DescMessage, fromBinary, type Message, toBinary } from '@bufbuild/protobuf';
import { AllTypesSchema, file_layer8_demo_v1_codec, OrderSchema } from '@layer8/fixtures';
import fc from 'fast-check';
import { ChangeSetWireSchema } from '../src/gen/layer8/model/v1/delta_pb.ts';
import { changeSetToWire, decodeChangeSet, encodeChangeSet, makeChangeSet, resolvePath } from '../src/index.ts';
import { fastWirePath, wirePathOf } from '../src/wire-path.ts';
import { demoRegistry } from './fixtures.ts';
import { messageArb, wellFormedText } from './message-arb.ts';

const registry = demoRegistry().register(file_layer8_demo_v1_codec);

function outcome<T>(fn: () => T): { ok: T } | { err: unknown } {
  try {
    return { ok: fn() };
  } catch (err) {
    return { err };
  }
}

describe('change set wire form', () => {
  test('the wire message is what decoding its bytes gives, and the bytes are those of toBinary', () => {
    for (const desc of [OrderSchema, AllTypesSchema] as DescMessage[]) {
      const m = messageArb(desc, { text: wellFormedText });
      const versions = fc.tuple(fc.nat({ max: 1000 }), fc.constantFrom(1, 2));
      fc.assert(
        fc.property(m, m, versions, fc.boolean(), (a, b, [from, step], embedded) => {
          const cs = { ...makeChangeSet(desc, { entity: a, version: from }, b, { key: 'k' }), toVersion: from + step };
          const wire = changeSetToWire(registry, cs, embedded);
          assert.deepStrictEqual(wire, fromBinary(ChangeSetWireSchema, toBinary(ChangeSetWireSchema, wire)));
          const bytes = encodeChangeSet(registry, cs);
          assert.deepStrictEqual(bytes, toBinary(ChangeSetWireSchema, changeSetToWire(registry, cs)));
          assert.deepStrictEqual(decodeChangeSet(registry, bytes), cs);
        }),
        { numRuns: desc === AllTypesSchema ? 200 : 300 },
      );
    }
  });
});

/** Path text over the names, keys and punctuation of Order and AllTypes, valid or not. */
const pathArb = fc
  .array(
    fc.oneof(
      fc.constantFrom('id', 'lines', 'lines_by_no', 'linesByNo', 'LINES', 'order', 'Order', 'ship_to', 'shipTo'),
      fc.constantFrom('city', 'qty', 'tags', 'flags', 'notes', 'card', 'x', 'no', 'sku', 'child', 'children'),
      fc.constantFrom('mInt32', 'm_uint64', 'mBool', 'm_string', 'fInt32', 'cMessage', 'c_message', 'value', '_'),
      fc.constantFrom('<0>', '<1>', '<007>', '<true>', '<false>', '<-1>', '<>', '<a\\>b>', '<x', '<4294967296>'),
      fc.constantFrom('.', '.', '.', '<', '>', '\\', '9', ' ', '<18446744073709551615>', '<-9223372036854775809>'),
    ),
    { minLength: 1, maxLength: 7 },
  )
  .map((parts) => parts.join(''));

describe('wire paths', () => {
  test('read as resolvePath binds them, or left to it', () => {
    for (const desc of [OrderSchema, AllTypesSchema] as DescMessage[]) {
      fc.assert(
        fc.property(pathArb, (text) => {
          const fast = fastWirePath(desc, text);
          const slow = outcome(() => wirePathOf(resolvePath(desc, text)));
          if (fast !== undefined) assert.deepStrictEqual({ ok: fast }, slow, text);
        }),
        { numRuns: 3000 },
      );
    }
  });

  test('every path a diff makes takes the fast path', () => {
    const m = messageArb(OrderSchema, { text: wellFormedText });
    fc.assert(
      fc.property(m, m, (a: Message, b: Message) => {
        for (const change of makeChangeSet(OrderSchema, { entity: a, version: 1 }, b).changes) {
          const fast = fastWirePath(OrderSchema, change.path);
          assert.deepStrictEqual(fast, wirePathOf(resolvePath(OrderSchema, change.path)), change.path);
        }
      }),
      { numRuns: 300 },
    );
  });
});
