/** Primary, unique and non-unique keys declared on models with the `layer8.model.v1` message options. */
import { type DescField, type DescMessage, getOption, type Message, ScalarType } from '@bufbuild/protobuf';
import { reflect } from '@bufbuild/protobuf/reflect';
import { l8error } from '@layer8/protocol';
import { non_unique_key, primary_key, unique_key } from './gen/layer8/model/v1/options_pb.ts';

/** The keys of a model type; each key is a list of top-level field names (several for a composite key). */
export interface ModelKeys {
  /** Fields of the primary key; empty when the type declares none. */
  readonly primary: readonly string[];
  readonly unique: readonly (readonly string[])[];
  readonly nonUnique: readonly (readonly string[])[];
}

/**
 * Reads the key options of `desc`.
 * @throws L8_ERR_INVALID_ARGUMENT when a key names a field that does not exist or is not a singular
 *   scalar or enum field (bytes excluded).
 */
export function keysOf(desc: DescMessage): ModelKeys {
  let keys = declared.get(desc);
  if (keys === undefined) {
    keys = readKeys(desc);
    declared.set(desc, keys);
  }
  return keys;
}

/** The keys of every type read so far (reading options builds extension containers: once per type). */
const declared = new WeakMap<DescMessage, ModelKeys>();

function readKeys(desc: DescMessage): ModelKeys {
  const parse = (spec: string) => Object.freeze(checkKey(desc, spec));
  const primary = getOption(desc, primary_key);
  return Object.freeze({
    primary: primary === '' ? Object.freeze([]) : parse(primary),
    unique: Object.freeze(getOption(desc, unique_key).map(parse)),
    nonUnique: Object.freeze(getOption(desc, non_unique_key).map(parse)),
  });
}

function checkKey(desc: DescMessage, spec: string): string[] {
  const names = spec.split(',').map((s) => s.trim());
  for (const name of names) {
    const field = desc.fields.find((f) => f.name === name);
    if (field === undefined || !isKeyField(field)) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `key "${spec}" of ${desc.typeName}: "${name}" is not a scalar field`, {
        data: { type: desc.typeName, key: spec, field: name },
      });
    }
  }
  return names;
}

function isKeyField(field: DescField): boolean {
  if (field.fieldKind === 'enum') return true;
  return field.fieldKind === 'scalar' && field.scalar !== ScalarType.BYTES;
}

/**
 * The text of a key of `message`: the field's value for a one-field key, the values joined with `,` (each
 * escaping `\` and `,` with a backslash) for a composite key. Enums give their number.
 */
export function keyText(desc: DescMessage, message: Message, fields: readonly string[]): string {
  if (fields.length === 1) return fieldText(desc, message, fields[0] as string);
  return fields.map((name) => fieldText(desc, message, name).replace(/[\\,]/g, (c) => `\\${c}`)).join(',');
}

/** The fields of every type read so far, by proto name. */
const byName = new WeakMap<DescMessage, Map<string, DescField>>();

function fieldsOf(desc: DescMessage): Map<string, DescField> {
  let m = byName.get(desc);
  if (m === undefined) {
    m = new Map(desc.fields.map((f) => [f.name, f]));
    byName.set(desc, m);
  }
  return m;
}

/** The text of one top-level scalar field: read directly when it is set, through reflection otherwise (its default). */
function fieldText(desc: DescMessage, message: Message, name: string): string {
  const field = fieldsOf(desc).get(name);
  if (field === undefined) return '';
  const direct =
    field.oneof === undefined ? (message as unknown as Record<string, unknown>)[field.localName] : undefined;
  if (direct !== undefined) return scalarText(direct);
  return scalarText(reflect(desc, message as never, false).get(field));
}

/**
 * The primary key text of `message`.
 * @throws L8_ERR_INVALID_ARGUMENT when the type declares no primary key.
 */
export function primaryKeyOf(desc: DescMessage, message: Message): string {
  const { primary } = keysOf(desc);
  if (primary.length === 0) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${desc.typeName} declares no primary key`, {
      data: { type: desc.typeName },
    });
  }
  return keyText(desc, message, primary);
}

/** Splits a composite key text made by {@link keyText} back into its values. */
export function splitKey(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) current += text[++i];
    else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** The text form of a scalar value: strings as is, numbers and bigints in decimal, booleans as true/false. */
export function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}
