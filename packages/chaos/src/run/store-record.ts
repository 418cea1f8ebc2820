import { create, createFileRegistry, type DescMessage, setExtension } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  MessageOptionsSchema,
} from '@bufbuild/protobuf/wkt';
import { TypeRegistry } from '@layer8/model';
import { primary_key } from '@layer8/model/gen/layer8/model/v1/options_pb.js';

/**
 * The model of the chaos run's stateful service (`--disk-full`): `layer8.chaos.v1.Record`, a key and a
 * number, keyed by `id`. Built at run time from a descriptor, so that the chaos tooling ships no
 * generated code of its own.
 */

/** The stateful service a disk-full fault writes to. */
export const STORE_SERVICE = 'ChaosStore';

function recordFile() {
  const options = create(MessageOptionsSchema);
  setExtension(options, primary_key, 'id');
  const field = (name: string, number: number, type: FieldDescriptorProto_Type) => ({
    name,
    number,
    type,
    label: FieldDescriptorProto_Label.OPTIONAL,
    jsonName: name,
  });
  return create(FileDescriptorProtoSchema, {
    name: 'layer8/chaos/v1/record.proto',
    package: 'layer8.chaos.v1',
    syntax: 'proto3',
    messageType: [
      {
        name: 'Record',
        options,
        field: [field('id', 1, FieldDescriptorProto_Type.STRING), field('n', 2, FieldDescriptorProto_Type.INT64)],
      },
    ],
  });
}

const registry = createFileRegistry(recordFile(), () => undefined);

/** `layer8.chaos.v1.Record`: `id` (the primary key), `n`. */
export const RecordSchema = registry.getMessage('layer8.chaos.v1.Record') as DescMessage;

/** A type registry that holds the record (for a service manager and its clients). */
export function recordRegistry(): TypeRegistry {
  return new TypeRegistry().register(RecordSchema);
}
