/**
 * The envelope: the request and response payload of services. A list of keyed items, each a model value or
 * the error that replaced it, with metadata counts, an optional L8QL query and paging.
 */
import { create, type Message } from '@bufbuild/protobuf';
import { ContentType, l8error, type WireError } from '@layer8/protocol';
import { binaryOf, decodeJson, encodeJson, type PayloadContentType } from './codec.ts';
import {
  type EnvelopeItemWire,
  EnvelopeItemWireSchema,
  type EnvelopeWire,
  EnvelopeWireSchema,
  ItemErrorWireSchema,
} from './gen/layer8/model/v1/envelope_pb.ts';
import type { TypeRegistry } from './registry.ts';

/** One item: a model message (with `type`), a schemaless JSON value (`type` empty), or an error. */
export interface EnvelopeItem {
  readonly key: string;
  /** Full model type name; empty for a schemaless JSON value. */
  readonly type: string;
  readonly value?: unknown;
  readonly error?: WireError;
  /** Entity version; 0 when unknown. */
  readonly version?: number;
  /** How `value` travels; default protobuf when `type` is set, JSON otherwise. */
  readonly contentType?: PayloadContentType;
}

/** Counts about the items. */
export interface EnvelopeMetadata {
  /** Items matching the query before paging (equals `count` when there was no paging). */
  readonly total: number;
  readonly count: number;
  readonly errors: number;
}

/** Where the envelope sits in a paged result. */
export interface EnvelopePaging {
  readonly page: number;
  readonly limit: number;
  readonly more: boolean;
}

/** A request or response payload. */
export interface Envelope {
  readonly items: readonly EnvelopeItem[];
  readonly metadata: EnvelopeMetadata;
  readonly query?: string;
  readonly paging?: EnvelopePaging;
}

/** Options of {@link makeEnvelope}. */
export interface EnvelopeOptions {
  readonly query?: string;
  readonly paging?: EnvelopePaging;
  /** Matches before paging; default the item count. */
  readonly total?: number;
}

/** Builds an envelope and fills its metadata from the items. */
export function makeEnvelope(items: readonly EnvelopeItem[], options: EnvelopeOptions = {}): Envelope {
  const errors = items.filter((i) => i.error !== undefined).length;
  return {
    items,
    metadata: { total: options.total ?? items.length, count: items.length, errors },
    ...(options.query === undefined ? {} : { query: options.query }),
    ...(options.paging === undefined ? {} : { paging: options.paging }),
  };
}

/**
 * Encodes an envelope as `layer8.model.v1.EnvelopeWire`.
 * @throws L8_ERR_UNKNOWN_TYPE for an item of an unregistered type; L8_ERR_INVALID_ARGUMENT for a value that
 *   is not of its type or not JSON-serialisable.
 */
export function encodeEnvelope(registry: TypeRegistry, envelope: Envelope): Uint8Array {
  const wire = create(EnvelopeWireSchema, {
    items: envelope.items.map((item) => itemToWire(registry, item)),
    metadata: {
      total: BigInt(envelope.metadata.total),
      count: envelope.metadata.count,
      errors: envelope.metadata.errors,
    },
    ...(envelope.paging === undefined ? {} : { paging: envelope.paging }),
  });
  if (envelope.query !== undefined) wire.query = envelope.query;
  return binaryOf(EnvelopeWireSchema).encode(wire);
}

function itemToWire(registry: TypeRegistry, item: EnvelopeItem): EnvelopeItemWire {
  const contentType = item.contentType ?? (item.type === '' ? ContentType.JSON : ContentType.PROTOBUF);
  const wire = create(EnvelopeItemWireSchema, {
    key: item.key,
    type: item.type,
    contentType,
    version: BigInt(item.version ?? 0),
  });
  if (item.error !== undefined)
    wire.error = create(ItemErrorWireSchema, { code: item.error.code, message: item.error.message });
  if (item.value === undefined) return wire;
  wire.value =
    item.type === ''
      ? encodeJson(item.value)
      : registry.get(item.type).codec.encode(item.value as Message, contentType);
  return wire;
}

/**
 * Decodes an envelope.
 * @throws L8_ERR_DECODE when the bytes or an item do not decode (`data.item` is its index);
 *   L8_ERR_UNKNOWN_TYPE for an item of an unregistered type.
 */
export function decodeEnvelope(registry: TypeRegistry, bytes: Uint8Array): Envelope {
  let wire: EnvelopeWire;
  try {
    wire = binaryOf(EnvelopeWireSchema).decode(bytes) as typeof wire;
  } catch (err) {
    throw l8error('L8_ERR_DECODE', `envelope does not decode: ${(err as Error).message}`, { cause: err });
  }
  const meta = wire.metadata;
  return {
    items: wire.items.map((item, i) => itemFromWire(registry, item, i)),
    metadata: { total: Number(meta?.total ?? 0n), count: meta?.count ?? 0, errors: meta?.errors ?? 0 },
    ...(wire.query === undefined ? {} : { query: wire.query }),
    ...(wire.paging === undefined
      ? {}
      : { paging: { page: wire.paging.page, limit: wire.paging.limit, more: wire.paging.more } }),
  };
}

function itemFromWire(registry: TypeRegistry, wire: EnvelopeItemWire, index: number): EnvelopeItem {
  const contentType = wire.contentType === ContentType.JSON ? ContentType.JSON : ContentType.PROTOBUF;
  const base = { key: wire.key, type: wire.type, version: Number(wire.version), contentType };
  const withError = wire.error === undefined ? base : { ...base, error: { ...pick(wire.error) } };
  if (wire.value.length === 0 && wire.error !== undefined) return withError;
  try {
    const value =
      wire.type === '' ? decodeJson(wire.value) : registry.get(wire.type).codec.decode(wire.value, contentType);
    return { ...withError, value };
  } catch (err) {
    const e = err as { code?: string; data?: object };
    if (e.code !== 'L8_ERR_DECODE') throw err;
    throw l8error('L8_ERR_DECODE', `envelope item ${index}: ${(err as Error).message}`, {
      cause: err,
      data: { ...e.data, item: index },
    });
  }
}

function pick(e: { code: string; message: string }): WireError {
  return { code: e.code, message: e.message };
}
