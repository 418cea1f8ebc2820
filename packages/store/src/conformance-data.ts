/**
 * The model and data of the conformance suite. The model is built from a descriptor here (it is the same as
 * the .proto in the comment below), so the suite needs no generated code and no file of the user's:
 *
 *   package layer8.store.v1;
 *   enum Stage { STAGE_UNSPECIFIED = 0; STAGE_NEW = 1; STAGE_DONE = 2; }
 *   message Place { string city = 1; }
 *   message ConformanceItem {
 *     option (layer8.model.v1.primary_key) = "id";
 *     option (layer8.model.v1.unique_key) = "name";
 *     option (layer8.model.v1.non_unique_key) = "category,stage";
 *     string id = 1; string name = 2; string category = 3; Stage stage = 4; int64 amount = 5;
 *     optional double score = 6; optional bool flag = 7; Place place = 8; repeated string tags = 9;
 *     bytes blob = 10; int32 rank = 11; uint32 size = 12;
 *   }
 */
import { create, createFileRegistry, type DescMessage, type Message, setExtension } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_descriptor,
  FieldDescriptorProto_Label as Label,
  MessageOptionsSchema,
  FieldDescriptorProto_Type as Type,
} from '@bufbuild/protobuf/wkt';
import { TypeRegistry } from '@layer8/model';
import {
  file_layer8_model_v1_options,
  non_unique_key,
  primary_key,
  unique_key,
} from '@layer8/model/gen/layer8/model/v1/options_pb.js';
import fc from 'fast-check';
import type { StoredItem, StoreOptions } from './store.ts';

/** What a field needs besides its name, number and type. */
interface FieldExtra {
  readonly typeName?: string;
  readonly label?: Label;
  readonly proto3Optional?: boolean;
  readonly oneofIndex?: number;
}

function field(name: string, number: number, type: Type, more: FieldExtra = {}) {
  const jsonName = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return { name, number, type, label: Label.OPTIONAL, jsonName, ...more };
}

function itemMessage(): DescriptorProto {
  const options = create(MessageOptionsSchema);
  setExtension(options, primary_key, 'id');
  setExtension(options, unique_key, ['name']);
  setExtension(options, non_unique_key, ['category,stage']);
  return create(DescriptorProtoSchema, {
    name: 'ConformanceItem',
    options,
    oneofDecl: [{ name: '_score' }, { name: '_flag' }],
    field: [
      field('id', 1, Type.STRING),
      field('name', 2, Type.STRING),
      field('category', 3, Type.STRING),
      field('stage', 4, Type.ENUM, { typeName: '.layer8.store.v1.Stage' }),
      field('amount', 5, Type.INT64),
      field('score', 6, Type.DOUBLE, { proto3Optional: true, oneofIndex: 0 }),
      field('flag', 7, Type.BOOL, { proto3Optional: true, oneofIndex: 1 }),
      field('place', 8, Type.MESSAGE, { typeName: '.layer8.store.v1.Place' }),
      field('tags', 9, Type.STRING, { label: Label.REPEATED }),
      field('blob', 10, Type.BYTES),
      field('rank', 11, Type.INT32),
      field('size', 12, Type.UINT32),
    ],
  });
}

function buildTypes(): { readonly item: DescMessage; readonly place: DescMessage } {
  const file = create(FileDescriptorProtoSchema, {
    name: 'layer8/store/v1/conformance.proto',
    package: 'layer8.store.v1',
    dependency: ['layer8/model/v1/options.proto'],
    syntax: 'proto3',
    enumType: [
      {
        name: 'Stage',
        value: ['STAGE_UNSPECIFIED', 'STAGE_NEW', 'STAGE_DONE'].map((name, number) => ({ name, number })),
      },
    ],
    messageType: [{ name: 'Place', field: [field('city', 1, Type.STRING)] }, itemMessage()],
  });
  const deps = [file_layer8_model_v1_options, file_google_protobuf_descriptor];
  const registry = createFileRegistry(file, (name) => deps.find((d) => d.proto.name === name));
  const get = (name: string) => registry.getMessage(`layer8.store.v1.${name}`) as DescMessage;
  return { item: get('ConformanceItem'), place: get('Place') };
}

/** `layer8.store.v1.ConformanceItem` and `Place`. */
export const conformanceTypes = buildTypes();

/** The store options of the suite: its own registry, and `table`. */
export function conformanceOptions(table: string): StoreOptions {
  const registry = new TypeRegistry().register(conformanceTypes.item, conformanceTypes.place);
  return { type: conformanceTypes.item, registry, table };
}

/** A ConformanceItem. */
export function conformanceItem(init: Record<string, unknown>): Message {
  return create(conformanceTypes.item, init as never);
}

/** The stored item of `init`, keyed by its id. */
export function stored(init: Record<string, unknown> & { id: string }, version = 1): StoredItem {
  return { key: init.id, version, item: conformanceItem(init) };
}

const text = fc.constantFrom('', 'a', 'A', 'ab', 'Paris', 'paris', 'b*c', 'x_y', 'z%', 'Lyon');

const itemArb = fc
  .record(
    {
      id: fc.constantFrom('a', 'b', 'c', 'd'),
      name: text,
      category: text,
      stage: fc.integer({ min: 0, max: 2 }),
      amount: fc.bigInt({ min: -3n, max: 3n }),
      score: fc.constantFrom(0, 0.5, -1.25, 3),
      flag: fc.boolean(),
      place: fc.record({ city: text }),
      tags: fc.array(text, { maxLength: 2 }),
      blob: fc.constantFrom(new Uint8Array(), Uint8Array.of(0, 255)),
      rank: fc.integer({ min: -2, max: 5 }),
      size: fc.constantFrom(0, 1, 3, 3_000_000_000, 4_294_967_295),
    },
    { requiredKeys: ['id', 'name', 'stage', 'category'] },
  )
  .map((init) => conformanceItem(init));

/**
 * Up to 25 stored items. Ids repeat (the store does not enforce keys of the model) so sorts also tie on the
 * primary key and fall back to the store key, which is in another order than insertion.
 */
export const itemsArb: fc.Arbitrary<StoredItem[]> = fc
  .array(itemArb, { maxLength: 25 })
  .map((items) => items.map((item, i) => ({ key: `k${(items.length - i) % 7}-${i}`, version: i, item })));

const stringField = fc.constantFrom('id', 'name', 'category', 'place.city');
const numberField = fc.constantFrom('stage', 'amount', 'score', 'rank', 'size');
const literal = (f: string): fc.Arbitrary<string> => {
  if (['id', 'name', 'category', 'place.city'].includes(f)) {
    return fc.oneof(text, fc.constantFrom('a*', '*a*', 'P*s', '*', 'b*c', 'x_*', 'z%*', '*y')).map((s) => `'${s}'`);
  }
  if (f === 'amount') return fc.constantFrom('0', '1', '2', '-1', '3');
  return fc.constantFrom('0', '1', '2', '-1', '0.5', '3', '3000000000');
};
const op = fc.constantFrom('=', '!=', '<', '<=', '>', '>=');

const compareArb = fc.oneof(
  fc
    .tuple(fc.oneof(stringField, numberField), op)
    .chain(([f, o]) =>
      literal(f).map((v) => `${f} ${o} ${/\*/.test(v) && !['=', '!='].includes(o) ? v.replace(/\*/g, '') : v}`),
    ),
  fc
    .tuple(fc.oneof(stringField, numberField, fc.constant('flag')), fc.constantFrom('=', '!='))
    .map(([f, o]) => `${f} ${o} nil`),
  fc.tuple(fc.constantFrom('=', '!='), fc.boolean()).map(([o, b]) => `flag ${o} ${b}`),
  fc
    .tuple(stringField, fc.boolean(), fc.array(text, { minLength: 1, maxLength: 3 }))
    .map(([f, neg, vs]) => `${f} ${neg ? 'not in' : 'in'} [${vs.map((v) => `'${v}'`).join(', ')}]`),
  fc.constantFrom('stage in [new, done]', 'stage = STAGE_DONE', 'stage not in [1]'),
);

const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small' },
    compareArb,
    fc.tuple(tie('expr'), fc.constantFrom('and', 'or'), tie('expr')).map(([a, o, b]) => `(${a} ${o} ${b})`),
  ),
}));

/** L8QL entity queries over ConformanceItem: where, sort, descending, paging, match-case. */
export const queryArb: fc.Arbitrary<string> = fc
  .record({
    where: fc.option(expr),
    sort: fc.option(fc.oneof(stringField, numberField, fc.constant('flag'))),
    descending: fc.boolean(),
    limit: fc.option(fc.integer({ min: 1, max: 6 })),
    page: fc.integer({ min: 0, max: 2 }),
    matchCase: fc.boolean(),
  })
  .map((q) =>
    [
      'select * from ConformanceItem',
      q.where === null ? '' : `where ${q.where}`,
      q.sort === null ? '' : `sort-by ${q.sort}`,
      q.descending ? 'descending' : '',
      q.limit === null ? '' : `limit ${q.limit} page ${q.page}`,
      q.matchCase ? 'match-case' : '',
    ].join(' '),
  );
