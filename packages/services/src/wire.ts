import type { DescMessage, Message } from '@bufbuild/protobuf';
import { decodeEnvelope, type Envelope, encodeEnvelope, makeEnvelope, type TypeRegistry } from '@layer8/model';
import { ContentType, l8error } from '@layer8/protocol';
import { Encoded, type Incoming } from '@layer8/vnic';
import type { Held } from './entity-cache.ts';
import type { FetchedState } from './replica.ts';

/**
 * What the actions of a stateful service carry (docs/services.md): POST, PUT and PATCH the model
 * (protobuf), DELETE and GET a small JSON request; every answer is an envelope of items with their
 * versions (protobuf).
 */
export interface GetRequest {
  /** An L8QL query. */
  readonly q?: string;
  /** A primary key. */
  readonly key?: string;
  /** A unique key: its fields (as declared) and the key text. */
  readonly unique?: { readonly fields: readonly string[]; readonly value: string };
}

/** The body of a DELETE: the primary key. */
export interface DeleteRequest {
  readonly key: string;
}

/** The envelope of `states`, with the query's total before paging. */
export function envelopeOf(
  registry: TypeRegistry,
  desc: DescMessage,
  states: readonly { key: string; entity: Message; version: number }[],
  total = states.length,
  query?: string,
): Encoded {
  const items = states.map((s) => ({ key: s.key, type: desc.typeName, value: s.entity, version: s.version }));
  const env = makeEnvelope(items, query === undefined ? { total } : { total, query });
  return new Encoded(encodeEnvelope(registry, env), ContentType.PROTOBUF);
}

/** The envelope a service answered with. @throws L8_ERR_DECODE */
export function readEnvelope(registry: TypeRegistry, m: Incoming): Envelope {
  if (m.contentType !== ContentType.PROTOBUF) {
    throw l8error('L8_ERR_DECODE', `a service answered with content type ${m.contentType}, not an envelope`);
  }
  return decodeEnvelope(registry, m.payload);
}

/** A replication request between instances (action SYNC). */
export type SyncRequest =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'snapshot'; readonly after?: string; readonly limit: number };

/** One state in a SYNC answer: the entity as base64 protobuf, or a deletion. */
interface SyncEntry {
  readonly key: string;
  readonly version: number;
  readonly writer: string;
  readonly body?: string;
}

/** The JSON form of a held state or a tombstone. */
export function syncEntry(
  codec: { encode(m: Message): Uint8Array },
  key: string,
  s: Held | { version: number; writer: string },
): SyncEntry {
  const base = { key, version: s.version, writer: s.writer };
  return 'entity' in s ? { ...base, body: Buffer.from(codec.encode(s.entity)).toString('base64') } : base;
}

/** The state a SYNC entry carries. @throws L8_ERR_DECODE */
export function fromSyncEntry<T extends Message>(
  codec: { decode(b: Uint8Array): T },
  e: SyncEntry,
): FetchedState<T> & { key: string } {
  if (typeof e?.key !== 'string' || !Number.isSafeInteger(e.version) || typeof e.writer !== 'string') {
    throw l8error('L8_ERR_DECODE', 'a SYNC entry lacks its key, version or writer');
  }
  const base = { key: e.key, version: e.version, writer: e.writer };
  return e.body === undefined ? base : { ...base, entity: codec.decode(Buffer.from(e.body, 'base64')) };
}

/** A page of a snapshot. */
export interface SnapshotPage {
  readonly entries: readonly SyncEntry[];
  readonly more: boolean;
}
