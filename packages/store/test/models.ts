/**
 * Test models of the SQL backends: two versions of `layer8.test.v1.Thing` (the second adds fields, as a
 * service's next release would), and the check that a store opened with the newer one fills the new columns.
 */
import assert from 'node:assert/strict';
import { create, createFileRegistry, type DescMessage, setExtension } from '@bufbuild/protobuf';
import {
  DescriptorProtoSchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_descriptor,
  FieldDescriptorProto_Label as Label,
  MessageOptionsSchema,
  FieldDescriptorProto_Type as Type,
} from '@bufbuild/protobuf/wkt';
import { TypeRegistry } from '@layer8/model';
import { file_layer8_model_v1_options, primary_key } from '@layer8/model/gen/layer8/model/v1/options_pb.js';
import type { Store, StoreOptions } from '../src/index.ts';

const FIELDS = [
  { name: 'id', number: 1, type: Type.STRING, jsonName: 'id' },
  { name: 'name', number: 2, type: Type.STRING, jsonName: 'name' },
  { name: 'level', number: 3, type: Type.INT32, jsonName: 'level' },
  { name: 'note', number: 4, type: Type.STRING, jsonName: 'note' },
  { name: 'big', number: 5, type: Type.UINT64, jsonName: 'big' },
];

/** `Thing` with its first `fields` fields: 2 (id, name) or 5 (level, note, big added). */
export function thingType(fields: 2 | 5): DescMessage {
  const options = create(MessageOptionsSchema);
  setExtension(options, primary_key, 'id');
  const thing = create(DescriptorProtoSchema, {
    name: 'Thing',
    options,
    field: FIELDS.slice(0, fields).map((f) => ({ ...f, label: Label.OPTIONAL })),
  });
  const file = create(FileDescriptorProtoSchema, {
    name: 'layer8/test/v1/thing.proto',
    package: 'layer8.test.v1',
    dependency: ['layer8/model/v1/options.proto'],
    syntax: 'proto3',
    messageType: [thing],
  });
  const deps = [file_layer8_model_v1_options, file_google_protobuf_descriptor];
  const registry = createFileRegistry(file, (name) => deps.find((d) => d.proto.name === name));
  return registry.getMessage('layer8.test.v1.Thing') as DescMessage;
}

/** Store options of a Thing version on `table`. */
export function thingOptions(fields: 2 | 5, table: string): StoreOptions {
  const type = thingType(fields);
  return { type, registry: new TypeRegistry().register(type), table };
}

/**
 * Writes Things with the old model, opens the table with the new one and checks that queries on the new
 * fields see the zero values the interpreter sees (the columns were filled, not left NULL).
 */
export async function checkNewColumns(open: (o: StoreOptions) => Promise<Store>, table: string): Promise<void> {
  const v1 = thingOptions(2, table);
  const old = await open(v1);
  await old.batch(['a', 'b'].map((id, i) => ({ op: 'put', item: { key: id, version: i, item: thing(v1, { id }) } })));
  await old.close();
  const v2 = thingOptions(5, table);
  const store = await open(v2);
  try {
    await store.put({ key: 'c', version: 9, item: thing(v2, { id: 'c', level: 5, note: 'z' }) });
    const ids = async (q: string) => (await store.query(q)).items.map((m) => (m as unknown as { id: string }).id);
    assert.deepEqual(await ids("select * from Thing where note < 'b'"), ['a', 'b']);
    assert.deepEqual(await ids('select * from Thing where level = 0'), ['a', 'b']);
    assert.deepEqual(await ids('select * from Thing where level > 1'), ['c']);
    assert.equal((await store.get('a'))?.version, 0);
  } finally {
    await store.close();
  }
}

/** A Thing of the options' type. */
export function thing(o: StoreOptions, init: Record<string, unknown>) {
  return create(o.type, init as never);
}
