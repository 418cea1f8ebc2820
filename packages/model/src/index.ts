/** @layer8/model: protobuf models, introspection, property paths, versioned deltas and L8QL (docs/models.md). */
export { deletePath, getPath, type PathLike, setPath } from './access.ts';
export {
  type ApplyOptions,
  applyChangeSet,
  type ChangeSet,
  type ChangeSetOptions,
  makeChangeSet,
  type Versioned,
} from './change-set.ts';
export { changeSetFromWire, changeSetToWire, decodeChangeSet, encodeChangeSet } from './change-wire.ts';
export {
  type CodecEngine,
  decodeJson,
  encodeJson,
  type ModelCodec,
  type ModelCodecOptions,
  modelCodec,
  type PayloadContentType,
} from './codec.ts';
export {
  applyChanges,
  type Change,
  ChangeOp,
  DiffMode,
  type DiffOptions,
  deepClone,
  deepEqual,
  diff,
  merge,
} from './diff.ts';
export {
  decodeEnvelope,
  type Envelope,
  type EnvelopeItem,
  type EnvelopeMetadata,
  type EnvelopeOptions,
  type EnvelopePaging,
  encodeEnvelope,
  makeEnvelope,
} from './envelope.ts';
export { allNodes, introspect, type ModelNode, NodeKind, nodeAt } from './introspect.ts';
export { keysOf, keyText, type ModelKeys, primaryKeyOf, splitKey } from './keys.ts';
export {
  applyNotification,
  decodeNotificationSet,
  encodeNotificationSet,
  NotificationKind,
  type NotificationSet,
  SequenceTracker,
  SequenceVerdict,
} from './notification.ts';
export { escapeKey, formatPath, type PathStep, parsePath } from './path.ts';
export type { AggregateFn, Comparator, Expr, Literal, Operand, Query } from './ql-ast.ts';
export { type BoundPath, type BoundQuery, bindQuery } from './ql-bind.ts';
export { matches, projectRow, type QueryResult, type Row, runQuery } from './ql-eval.ts';
export { parseQuery } from './ql-parser.ts';
export { type PrintOptions, printQuery, queryHash } from './ql-print.ts';
export {
  createTableSql,
  type SqlColumn,
  SqlDialect,
  type SqlOptions,
  type SqlQuery,
  sqlColumns,
  sqlRow,
  toSql,
} from './ql-sql.ts';
export { type TypeEntry, TypeRegistry, typeId } from './registry.ts';
export { findField, type ResolvedPath, type ResolvedStep, resolvePath, type StepKey } from './resolve.ts';
