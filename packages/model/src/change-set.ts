/**
 * Versioned change sets. The entity version lives outside the user's message, in {@link Versioned}, so
 * models need no special field. A change set records the version it was made from and applies only on
 * top of exactly that version; anything else is a gap that asks for a resync.
 */
import type { DescMessage, Message } from '@bufbuild/protobuf';
import { l8error } from '@layer8/protocol';
import { applyChanges, type Change, type DiffMode, deepClone, diff } from './diff.ts';
import { keysOf, primaryKeyOf } from './keys.ts';

/** An entity with its version. Versions start at 1 for a new entity and grow by one per change set. */
export interface Versioned<T extends Message = Message> {
  readonly entity: T;
  readonly version: number;
}

/** The changes of one entity from one version to the next. */
export interface ChangeSet {
  /** Full name of the model type. */
  readonly type: string;
  /** Primary key text of the entity (empty when the type declares no primary key). */
  readonly key: string;
  /** The version the changes apply on top of. */
  readonly fromVersion: number;
  /** The version of the entity after the changes. */
  readonly toVersion: number;
  readonly changes: readonly Change[];
}

/** Options of {@link makeChangeSet}. */
export interface ChangeSetOptions {
  /** PUT (default) or PATCH semantics for `after`. */
  readonly mode?: DiffMode;
  /** The key to record; by default the primary key of `after` (PUT) or `before` (PATCH). */
  readonly key?: string;
}

/**
 * The change set that turns `before` (at its version) into `after`, at version `before.version + 1`.
 * @throws L8_ERR_INVALID_ARGUMENT when `before.version` is not a non-negative safe integer.
 */
export function makeChangeSet(
  desc: DescMessage,
  before: Versioned,
  after: Message,
  options: ChangeSetOptions = {},
): ChangeSet {
  checkVersion(before.version, 'version');
  const mode = options.mode ?? 'put';
  const key = options.key ?? defaultKey(desc, mode === 'put' ? after : before.entity);
  const changes = diff(desc, before.entity, after, { mode });
  return { type: desc.typeName, key, fromVersion: before.version, toVersion: before.version + 1, changes };
}

function defaultKey(desc: DescMessage, message: Message): string {
  return keysOf(desc).primary.length === 0 ? '' : primaryKeyOf(desc, message);
}

/** Options of {@link applyChangeSet}. */
export interface ApplyOptions {
  /** Mutates `held.entity` instead of a clone (faster, but a failing change leaves it half applied). */
  readonly inPlace?: boolean;
}

/**
 * Applies a change set on top of `held` and returns the entity at `changeSet.toVersion`. By default the
 * entity is cloned first, so a failure leaves `held` untouched.
 * @throws L8_ERR_VERSION_GAP when `changeSet.fromVersion` is not `held.version`; `data` has `held`,
 *   `fromVersion`, `toVersion` and `stale` (true when the change set is already included: drop it).
 * @throws L8_ERR_INVALID_ARGUMENT when the type differs or `toVersion` is not after `fromVersion`;
 *   L8_ERR_PATH when a change does not fit the model.
 */
export function applyChangeSet<T extends Message>(
  desc: DescMessage,
  held: Versioned<T>,
  changeSet: ChangeSet,
  options: ApplyOptions = {},
): Versioned<T> {
  checkChangeSet(desc, changeSet);
  if (changeSet.fromVersion !== held.version) throw gap(held.version, changeSet);
  const entity = options.inPlace === true ? held.entity : deepClone(desc, held.entity);
  applyChanges(desc, entity, changeSet.changes);
  return { entity, version: changeSet.toVersion };
}

function checkChangeSet(desc: DescMessage, cs: ChangeSet): void {
  if (cs.type !== desc.typeName) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `change set of ${cs.type} applied to ${desc.typeName}`, {
      data: { type: cs.type, expected: desc.typeName },
    });
  }
  checkVersion(cs.fromVersion, 'fromVersion');
  checkVersion(cs.toVersion, 'toVersion');
  if (cs.toVersion <= cs.fromVersion) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `change set goes from version ${cs.fromVersion} to ${cs.toVersion}`, {
      data: { fromVersion: cs.fromVersion, toVersion: cs.toVersion },
    });
  }
}

function gap(held: number, cs: ChangeSet) {
  const stale = cs.toVersion <= held;
  const what = stale ? 'is already included' : 'does not follow';
  return l8error(
    'L8_ERR_VERSION_GAP',
    `change set ${cs.type}<${cs.key}> v${cs.fromVersion}→v${cs.toVersion} ${what} the held version ${held}`,
    { data: { type: cs.type, key: cs.key, held, fromVersion: cs.fromVersion, toVersion: cs.toVersion, stale } },
  );
}

/** @throws L8_ERR_INVALID_ARGUMENT unless `v` is a non-negative safe integer. */
export function checkVersion(v: number, name: string): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${name} ${v} is not a non-negative safe integer`, {
      data: { [name]: v },
    });
  }
}
