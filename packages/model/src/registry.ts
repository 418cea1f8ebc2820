/** The type registry: model type name → descriptor, constructor and codec. */
import {
  create,
  createRegistry,
  type DescFile,
  type DescMessage,
  type Message,
  type Registry,
} from '@bufbuild/protobuf';
import { nestedTypes } from '@bufbuild/protobuf/reflect';
import { l8error } from '@layer8/protocol';
import { type ModelCodec, modelCodec } from './codec.ts';
import { keysOf, type ModelKeys } from './keys.ts';

/** One registered model type. */
export interface TypeEntry {
  /** Full protobuf name, e.g. `layer8.demo.v1.Order`. */
  readonly name: string;
  readonly desc: DescMessage;
  /** Primary, unique and non-unique keys declared with the `layer8.model.v1` options. */
  readonly keys: ModelKeys;
  /** Binary and JSON codec of the type. */
  readonly codec: ModelCodec;
  /** Compact type id used in change sets: FNV-1a 32 of the UTF-8 full name. */
  readonly id: number;
  /** Makes a new message of the type, optionally initialised. */
  create(init?: Record<string, unknown>): Message;
}

/**
 * Holds the model types a process knows. Instance-scoped (pass it around, no global registry).
 * Names resolve by full name, or by short name (case-insensitive) when that is unambiguous.
 */
export class TypeRegistry {
  /** Full name → entry. */
  readonly #byName = new Map<string, TypeEntry>();
  /** Type id → entry. */
  readonly #byId = new Map<number, TypeEntry>();
  /** Lower-cased short name → entries sharing it. */
  readonly #byShort = new Map<string, TypeEntry[]>();
  #pb: Registry | undefined;

  /**
   * Registers message descriptors, or every message (nested ones too) of generated files.
   * Registering the same descriptor twice is a no-op.
   * @throws L8_ERR_INVALID_ARGUMENT when a key option names a missing or non-scalar field, or when another
   *   descriptor already uses the name.
   */
  register(...items: readonly (DescMessage | DescFile)[]): this {
    for (const item of items) {
      const descs = item.kind === 'file' ? [...nestedTypes(item)] : [item];
      for (const desc of descs) if (desc.kind === 'message') this.#add(desc);
    }
    return this;
  }

  /** The entry of `name` (full or unambiguous short name), or undefined. */
  find(name: string): TypeEntry | undefined {
    const full = this.#byName.get(name);
    if (full !== undefined) return full;
    const short = this.#byShort.get(name.toLowerCase());
    return short?.length === 1 ? short[0] : undefined;
  }

  /**
   * The entry of `name`.
   * @throws L8_ERR_UNKNOWN_TYPE when no type, or several types of that short name, are registered.
   */
  get(name: string): TypeEntry {
    const entry = this.find(name);
    if (entry !== undefined) return entry;
    const candidates = (this.#byShort.get(name.toLowerCase()) ?? []).map((e) => e.name);
    const why = candidates.length > 1 ? `is ambiguous (${candidates.join(', ')})` : 'is not registered';
    throw l8error('L8_ERR_UNKNOWN_TYPE', `model type "${name}" ${why}`, { data: { type: name, candidates } });
  }

  /**
   * The entry of a type id (see {@link typeId}).
   * @throws L8_ERR_UNKNOWN_TYPE when no registered type has that id.
   */
  byId(id: number): TypeEntry {
    const entry = this.#byId.get(id);
    if (entry !== undefined) return entry;
    throw l8error('L8_ERR_UNKNOWN_TYPE', `no model type has id ${id}`, { data: { typeId: id } });
  }

  /** True when `name` resolves to exactly one type. */
  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** Full names of every registered type, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  /** A `@bufbuild/protobuf` registry of the same types (for JSON with `Any`, and reflection tools). */
  get protobuf(): Registry {
    this.#pb ??= createRegistry(...[...this.#byName.values()].map((e) => e.desc));
    return this.#pb;
  }

  #add(desc: DescMessage): void {
    const known = this.#byName.get(desc.typeName);
    if (known !== undefined) {
      if (known.desc === desc) return;
      throw l8error('L8_ERR_INVALID_ARGUMENT', `model type ${desc.typeName} is registered with another descriptor`);
    }
    const id = typeId(desc.typeName);
    const clash = this.#byId.get(id);
    if (clash !== undefined) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `model types ${clash.name} and ${desc.typeName} share type id ${id}`);
    }
    const entry: TypeEntry = {
      name: desc.typeName,
      desc,
      keys: keysOf(desc),
      codec: modelCodec(desc),
      id,
      create: (init) => create(desc, init as never),
    };
    this.#byName.set(desc.typeName, entry);
    this.#byId.set(id, entry);
    const short = desc.name.toLowerCase();
    this.#byShort.set(short, [...(this.#byShort.get(short) ?? []), entry]);
    this.#pb = undefined;
  }
}

const utf8 = new TextEncoder();

/** The type id of a full type name: FNV-1a 32 over its UTF-8 bytes (language-neutral, stable). */
export function typeId(fullName: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8.encode(fullName)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}
