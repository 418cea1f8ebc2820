/**
 * Notification sets: what a service cache tells its peers when an entity is posted, put, patched or deleted.
 * Post and put carry the full entity, patch carries a change set, delete only the key. Each source numbers
 * its sets without gaps so receivers can spot a loss ({@link SequenceTracker}).
 */
import { create, type fromBinary, type Message } from '@bufbuild/protobuf';
import { ContentType, l8error } from '@layer8/protocol';
import { applyChangeSet, type ChangeSet, checkVersion, type Versioned } from './change-set.ts';
import { changeSetFromWire, changeSetToWire } from './change-wire.ts';
import { binaryOf } from './codec.ts';
import { NotificationSetWireSchema, NotificationKind as WireKind } from './gen/layer8/model/v1/delta_pb.ts';
import type { TypeRegistry } from './registry.ts';

/** What happened to the entity. */
export const NotificationKind = { POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete' } as const;

/** A value of {@link NotificationKind}. */
export type NotificationKind = (typeof NotificationKind)[keyof typeof NotificationKind];

/** One notification set. `entity` is present for post and put, `changeSet` for patch. */
export interface NotificationSet {
  readonly kind: NotificationKind;
  /** Node id of the sender. */
  readonly source: string;
  /** Per-source sequence, 1, 2, 3… */
  readonly sequence: number;
  readonly service: string;
  readonly area: number;
  readonly modelType: string;
  readonly modelKey: string;
  /** Entity version after the change; for delete, the last version held. */
  readonly version: number;
  readonly entity?: Message;
  readonly changeSet?: ChangeSet;
}

const TO_WIRE = {
  post: WireKind.POST,
  put: WireKind.PUT,
  patch: WireKind.PATCH,
  delete: WireKind.DELETE,
} as const;
const FROM_WIRE = new Map<number, NotificationKind>(Object.entries(TO_WIRE).map(([k, v]) => [v, k as never]));

/**
 * Encodes a notification set.
 * @throws L8_ERR_INVALID_ARGUMENT when post/put lack the entity or patch lacks the change set;
 *   L8_ERR_UNKNOWN_TYPE for an unregistered model type.
 */
export function encodeNotificationSet(registry: TypeRegistry, n: NotificationSet): Uint8Array {
  const entry = registry.get(n.modelType);
  checkVersion(n.sequence, 'sequence');
  checkVersion(n.version, 'version');
  const needsEntity = n.kind === 'post' || n.kind === 'put';
  if (needsEntity && n.entity === undefined) throw missing(n, 'entity');
  if (n.kind === 'patch' && n.changeSet === undefined) throw missing(n, 'changeSet');
  const wire = create(NotificationSetWireSchema, {
    kind: TO_WIRE[n.kind],
    source: n.source,
    sequence: BigInt(n.sequence),
    service: n.service,
    area: n.area,
    modelType: entry.name,
    modelKey: n.modelKey,
    version: BigInt(n.version),
    entity: needsEntity ? entry.codec.encode(n.entity as Message, ContentType.PROTOBUF) : new Uint8Array(0),
  });
  if (n.kind === 'patch') wire.changeSet = changeSetToWire(registry, n.changeSet as ChangeSet, true);
  return binaryOf(NotificationSetWireSchema).encode(wire);
}

/**
 * Decodes a notification set.
 * @throws L8_ERR_DECODE when the bytes, the kind, the entity or the change set do not decode;
 *   L8_ERR_UNKNOWN_TYPE when the model type is not registered.
 */
export function decodeNotificationSet(registry: TypeRegistry, bytes: Uint8Array): NotificationSet {
  let wire: ReturnType<typeof fromBinary<typeof NotificationSetWireSchema>>;
  try {
    wire = binaryOf(NotificationSetWireSchema).decode(bytes) as typeof wire;
  } catch (err) {
    throw l8error('L8_ERR_DECODE', `notification set does not decode: ${(err as Error).message}`, { cause: err });
  }
  const kind = FROM_WIRE.get(wire.kind);
  if (kind === undefined) throw l8error('L8_ERR_DECODE', `notification kind ${wire.kind} is unknown`);
  const entry = registry.get(wire.modelType);
  const base = {
    kind,
    source: wire.source,
    sequence: Number(wire.sequence),
    service: wire.service,
    area: wire.area,
    modelType: entry.name,
    modelKey: wire.modelKey,
    version: Number(wire.version),
  };
  if (kind === 'post' || kind === 'put') return { ...base, entity: entry.codec.decode(wire.entity) };
  if (kind === 'patch' && wire.changeSet !== undefined) {
    return {
      ...base,
      changeSet: changeSetFromWire(registry, wire.changeSet, { type: entry.name, key: wire.modelKey }),
    };
  }
  if (kind === 'patch') throw l8error('L8_ERR_DECODE', 'patch notification without a change set');
  return base;
}

/**
 * What a receiver holds after a notification: post and put replace the entity (ignored when not newer than
 * what is held), patch applies the change set on top of the held version, delete removes it.
 * @throws L8_ERR_VERSION_GAP when a patch does not follow the held version, or there is nothing to patch.
 */
export function applyNotification(
  registry: TypeRegistry,
  held: Versioned | undefined,
  n: NotificationSet,
): Versioned | undefined {
  if (n.kind === 'delete') return undefined;
  if (n.kind === 'patch') {
    const cs = n.changeSet as ChangeSet;
    if (held === undefined) throw noBase(n, cs);
    return applyChangeSet(registry.get(n.modelType).desc, held, cs);
  }
  if (held !== undefined && held.version >= n.version) return held;
  return { entity: n.entity as Message, version: n.version };
}

function noBase(n: NotificationSet, cs: ChangeSet) {
  return l8error('L8_ERR_VERSION_GAP', `patch of ${n.modelType}<${n.modelKey}> but no entity is held`, {
    data: { type: n.modelType, key: n.modelKey, held: 0, fromVersion: cs.fromVersion, stale: false },
  });
}

function missing(n: NotificationSet, what: string) {
  return l8error('L8_ERR_INVALID_ARGUMENT', `${n.kind} notification of ${n.modelType} needs ${what}`, {
    data: { kind: n.kind, modelType: n.modelType },
  });
}

/** The verdict of {@link SequenceTracker.accept}. */
export const SequenceVerdict = { NEXT: 'next', DUPLICATE: 'duplicate', GAP: 'gap' } as const;

/** A value of {@link SequenceVerdict}. */
export type SequenceVerdict = (typeof SequenceVerdict)[keyof typeof SequenceVerdict];

/**
 * Tracks the last sequence number seen per source. `accept` says whether a set is the next one, a duplicate
 * (drop it) or follows a gap (resync with that source; the tracker then continues from the new number).
 */
export class SequenceTracker {
  /** Source → highest sequence accepted. */
  readonly #last = new Map<string, number>();

  /** Classifies `sequence` from `source` and records it unless it is a duplicate. */
  accept(source: string, sequence: number): SequenceVerdict {
    const last = this.#last.get(source);
    if (last !== undefined && sequence <= last) return SequenceVerdict.DUPLICATE;
    this.#last.set(source, sequence);
    const expected = (last ?? 0) + 1;
    return sequence === expected ? SequenceVerdict.NEXT : SequenceVerdict.GAP;
  }

  /** Forgets a source (it left, or restarted its numbering). */
  forget(source: string): void {
    this.#last.delete(source);
  }
}
