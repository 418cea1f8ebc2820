/** What every backend shares: checks of keys, versions and items, their bytes, and L8QL binding. */
import type { DescMessage, Message } from '@bufbuild/protobuf';
import { type BoundQuery, bindQuery, type ModelCodec, modelCodec, type TypeRegistry, toSql } from '@layer8/model';
import { type L8Error, l8error } from '@layer8/protocol';
import type { ScanOptions, StoreBackend, StoredItem, StoreOptions } from './store.ts';

/** A NUL or a lone surrogate: neither survives UTF-8 and PostgreSQL text, so no key may hold one. */
const BAD_KEY = /[\0\p{Cs}]/u;

/** The model side of a store: its type, table, codec and query binding. */
export class EntityCodec {
  readonly desc: DescMessage;
  readonly registry: TypeRegistry;
  /** The table name: the option, else the snake_case message name as the model's SQL translator makes it. */
  readonly table: string;
  readonly #codec: ModelCodec;

  constructor(o: StoreOptions) {
    this.desc = o.type;
    this.registry = o.registry;
    this.table = o.table ?? o.type.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    this.#codec = modelCodec(o.type);
  }

  /**
   * The protobuf bytes of `stored` once its key, version and item are checked.
   * @throws L8_ERR_INVALID_ARGUMENT for a bad key or version, or an item not of the store's type.
   */
  encode(stored: StoredItem): Uint8Array {
    if (typeof stored !== 'object' || stored === null) throw invalid('a stored item is {key, version, item}', {});
    checkKey(stored.key);
    if (!Number.isSafeInteger(stored.version) || stored.version < 0) {
      throw invalid(`version ${String(stored.version)} is not a safe integer ≥ 0`, { key: stored.key });
    }
    return this.#codec.encode(stored.item);
  }

  /**
   * The stored item of a row.
   * @throws L8_ERR_DECODE when the stored bytes are not a message of the type.
   */
  decode(key: string, version: number, bytes: Uint8Array): StoredItem {
    return { key, version, item: this.#codec.decode(bytes) };
  }

  /** Decodes only the message. */
  message(bytes: Uint8Array): Message {
    return this.#codec.decode(bytes);
  }

  /**
   * Binds an entity query on the store's type.
   * @throws L8_ERR_QUERY for another type, aggregates, group-by or a path through a list or map (no SQL
   *   column); what `bindQuery` throws.
   */
  bind(l8ql: string): BoundQuery {
    const bound = bindQuery(this.registry, l8ql);
    const column = bound.query.fromColumn;
    if (bound.desc.typeName !== this.desc.typeName) {
      throw queryError(`this store holds ${this.desc.typeName}, not ${bound.desc.typeName}`, column);
    }
    if (bound.aggregate) {
      throw queryError('a store query returns entities: aggregates and group-by run on the items it returns', column);
    }
    // a path with no column (through a list or map) throws here, so every backend refuses the same queries
    toSql(bound);
    return bound;
  }
}

/**
 * Checks a key.
 * @throws L8_ERR_INVALID_ARGUMENT when it is not a string, or holds a NUL or a lone surrogate.
 */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || BAD_KEY.test(key)) {
    throw invalid('a key is a string without NUL characters or lone surrogates', { key: String(key) });
  }
}

/** Checked scan options: `limit` Infinity when absent. */
export function scanBounds(options: ScanOptions): { readonly after: string | undefined; readonly limit: number } {
  if (options.after !== undefined) checkKey(options.after);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw invalid(`scan limit ${String(limit)} is not an integer ≥ 0`, {});
  }
  return { after: options.after, limit };
}

/**
 * Orders keys by Unicode code point, as SQLite (BINARY) and PostgreSQL (`COLLATE "C"`) order their UTF-8
 * bytes; JavaScript's `<` compares UTF-16 units, which puts astral characters before U+E000–U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (astral code points) above U+E000–U+FFFF. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** The error of every call on a closed store. */
export function closedError(backend: StoreBackend): L8Error {
  return l8error('L8_ERR_CLOSED', `the ${backend} store is closed`, { data: { backend } });
}

function invalid(message: string, data: object): L8Error {
  return l8error('L8_ERR_INVALID_ARGUMENT', message, { data });
}

function queryError(message: string, column: number): L8Error {
  return l8error('L8_ERR_QUERY', `L8QL: ${message} at column ${column}`, { data: { column } });
}
