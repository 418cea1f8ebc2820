import { type DescEnum, type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as plain data. */
export type JsonSchema = { readonly [k: string]: unknown };

const INT32 = { type: 'integer', format: 'int32', minimum: -2147483648, maximum: 2147483647 };
const UINT32 = { type: 'integer', minimum: 0, maximum: 4294967295 };
const INT64 = { type: 'string', format: 'int64', pattern: '^-?[0-9]+$' };
const UINT64 = { type: 'string', pattern: '^[0-9]+$' };
const BYTES = { type: 'string', format: 'byte', contentEncoding: 'base64' };
const SPECIAL = { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] };
const FLOAT = { anyOf: [{ type: 'number', format: 'float' }, SPECIAL] };
const DOUBLE = { anyOf: [{ type: 'number', format: 'double' }, SPECIAL] };

const SCALARS: Readonly<Record<ScalarType, JsonSchema>> = {
  [ScalarType.DOUBLE]: DOUBLE,
  [ScalarType.FLOAT]: FLOAT,
  [ScalarType.INT64]: INT64,
  [ScalarType.UINT64]: UINT64,
  [ScalarType.INT32]: INT32,
  [ScalarType.FIXED64]: UINT64,
  [ScalarType.FIXED32]: UINT32,
  [ScalarType.BOOL]: { type: 'boolean' },
  [ScalarType.STRING]: { type: 'string' },
  [ScalarType.BYTES]: BYTES,
  [ScalarType.UINT32]: UINT32,
  [ScalarType.SFIXED32]: INT32,
  [ScalarType.SFIXED64]: INT64,
  [ScalarType.SINT32]: INT32,
  [ScalarType.SINT64]: INT64,
};

/** The well-known types with a JSON form of their own (protobuf's JSON mapping). */
const WELL_KNOWN: Readonly<Record<string, JsonSchema>> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time' },
  'google.protobuf.Duration': { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$' },
  'google.protobuf.FieldMask': { type: 'string' },
  'google.protobuf.Struct': { type: 'object' },
  'google.protobuf.Value': {},
  'google.protobuf.ListValue': { type: 'array' },
  'google.protobuf.Empty': { type: 'object', maxProperties: 0 },
  'google.protobuf.Any': { type: 'object', properties: { '@type': { type: 'string' } } },
  'google.protobuf.DoubleValue': DOUBLE,
  'google.protobuf.FloatValue': FLOAT,
  'google.protobuf.Int64Value': INT64,
  'google.protobuf.UInt64Value': UINT64,
  'google.protobuf.Int32Value': INT32,
  'google.protobuf.UInt32Value': UINT32,
  'google.protobuf.BoolValue': { type: 'boolean' },
  'google.protobuf.StringValue': { type: 'string' },
  'google.protobuf.BytesValue': BYTES,
};

/** Map keys as JSON object keys: integers and booleans are written as their text. */
const KEY_PATTERN: Partial<Record<ScalarType, string>> = {
  [ScalarType.BOOL]: '^(true|false)$',
  [ScalarType.INT32]: '^-?[0-9]+$',
  [ScalarType.SINT32]: '^-?[0-9]+$',
  [ScalarType.SFIXED32]: '^-?[0-9]+$',
  [ScalarType.INT64]: '^-?[0-9]+$',
  [ScalarType.SINT64]: '^-?[0-9]+$',
  [ScalarType.SFIXED64]: '^-?[0-9]+$',
  [ScalarType.UINT32]: '^[0-9]+$',
  [ScalarType.FIXED32]: '^[0-9]+$',
  [ScalarType.UINT64]: '^[0-9]+$',
  [ScalarType.FIXED64]: '^[0-9]+$',
};

/**
 * Builds the JSON Schemas of model messages as protobuf's canonical JSON writes them (what the gateway
 * answers): JSON field names, 64-bit integers as strings, enums by name, bytes in base64, repeated
 * fields as arrays, maps as objects, the well-known types in their own form. Each message becomes one
 * named schema, referenced with `$ref` (so recursive models work); a second, different message of an
 * already used name gets a `_2`, `_3`, … suffix.
 *
 * Invariant: `schemas` holds a schema for every name in `#names`, complete once `ref` returns.
 */
export class SchemaBuilder {
  /** Named schemas, for `components.schemas`. */
  readonly schemas: Record<string, JsonSchema> = {};
  readonly #names = new Map<DescMessage, string>();
  readonly #prefix: string;

  /** `prefix` is where the named schemas live, e.g. `#/components/schemas/`. */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The schema of a message: a `$ref` to its named schema, or the inline form of a well-known type. */
  ref(desc: DescMessage): JsonSchema {
    const known = WELL_KNOWN[desc.typeName];
    if (known !== undefined) return known;
    return { $ref: `${this.#prefix}${this.nameOf(desc)}` };
  }

  /** The name of a message's schema, building it on first use. */
  nameOf(desc: DescMessage): string {
    const named = this.#names.get(desc);
    if (named !== undefined) return named;
    let name = desc.typeName;
    for (let n = 2; name in this.schemas; n++) name = `${desc.typeName}_${n}`;
    this.#names.set(desc, name);
    this.schemas[name] = {};
    this.schemas[name] = this.#message(desc);
    return name;
  }

  #message(desc: DescMessage): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    for (const f of desc.fields) properties[f.jsonName] = this.#field(f);
    const oneofs = desc.oneofs.map((o) => `${o.name}: one of ${o.fields.map((f) => f.jsonName).join(', ')}`);
    const description = [desc.typeName, ...oneofs].join('; ');
    return { type: 'object', title: desc.name, description, properties, additionalProperties: false };
  }

  #field(f: DescField): JsonSchema {
    switch (f.fieldKind) {
      case 'scalar':
        return SCALARS[f.scalar];
      case 'enum':
        return enumSchema(f.enum);
      case 'message':
        return this.ref(f.message);
      case 'list':
        return { type: 'array', items: this.#element(f) };
      case 'map':
        return { type: 'object', additionalProperties: this.#element(f), ...keyNames(f.mapKey) };
    }
  }

  /** The schema of the elements of a list or the values of a map. */
  #element(f: DescField & { fieldKind: 'list' | 'map' }): JsonSchema {
    const kind = f.fieldKind === 'list' ? f.listKind : f.mapKind;
    if (kind === 'message') return this.ref(f.message as DescMessage);
    if (kind === 'enum') return enumSchema(f.enum as DescEnum);
    return SCALARS[f.scalar as ScalarType];
  }
}

/** An enum by its value names; `google.protobuf.NullValue` is JSON null. */
export function enumSchema(e: DescEnum): JsonSchema {
  if (e.typeName === 'google.protobuf.NullValue') return { type: 'null' };
  return { type: 'string', enum: e.values.map((v) => v.name) };
}

function keyNames(key: ScalarType): JsonSchema {
  const pattern = KEY_PATTERN[key];
  return pattern === undefined ? {} : { propertyNames: { pattern } };
}
