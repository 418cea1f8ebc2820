/** Introspection: the node tree of a model, built from its protobuf descriptor. */
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { keysOf, type ModelKeys } from './keys.ts';

/** What a node holds. */
export const NodeKind = {
  MESSAGE: 'message',
  SCALAR: 'scalar',
  ENUM: 'enum',
  LIST: 'list',
  MAP: 'map',
} as const;

/** A value of {@link NodeKind}. */
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

/** One node of a model tree: the root message or one field. */
export interface ModelNode {
  /** Proto field name; the lower-cased type name for the root. */
  readonly name: string;
  /** Path from the root without keys (`lines.qty`); empty for the root. */
  readonly path: string;
  readonly kind: NodeKind;
  /** Scalar type (`int32`, `string`…), or full message / enum name; for lists and maps, of the element. */
  readonly type: string;
  /** For lists and maps: whether elements are messages, scalars or enums. */
  readonly element?: 'message' | 'scalar' | 'enum';
  /** For maps: the scalar type of the key. */
  readonly mapKey?: string;
  /** Field number; 0 for the root. */
  readonly number: number;
  /** True when the field has explicit presence (`optional`, message, oneof member). */
  readonly explicit: boolean;
  /** Name of the oneof the field belongs to. */
  readonly oneof?: string;
  /** True when the message type already appears above: children are not expanded again. */
  readonly recursive: boolean;
  /** Keys of the message type (root and message nodes only). */
  readonly keys?: ModelKeys;
  readonly children: readonly ModelNode[];
}

/** The node tree of `desc`. Recursive types are cut where a type repeats on the way down. */
export function introspect(desc: DescMessage): ModelNode {
  return {
    name: desc.name.toLowerCase(),
    path: '',
    kind: NodeKind.MESSAGE,
    type: desc.typeName,
    number: 0,
    explicit: false,
    recursive: false,
    keys: keysOf(desc),
    children: childrenOf(desc, '', [desc.typeName]),
  };
}

function childrenOf(desc: DescMessage, prefix: string, seen: readonly string[]): ModelNode[] {
  return desc.fields.map((f) => nodeOf(f, prefix === '' ? f.name : `${prefix}.${f.name}`, seen));
}

function nodeOf(field: DescField, path: string, seen: readonly string[]): ModelNode {
  const message = field.message;
  const recursive = message !== undefined && seen.includes(message.typeName);
  const base = {
    name: field.name,
    path,
    kind: kindOf(field),
    type: elementType(field),
    number: field.number,
    explicit: field.presence !== IMPLICIT,
    recursive,
    children: message === undefined || recursive ? [] : childrenOf(message, path, [...seen, message.typeName]),
  };
  return {
    ...base,
    ...(field.oneof === undefined ? {} : { oneof: field.oneof.name }),
    ...(field.fieldKind === 'list' ? { element: field.listKind } : {}),
    ...(field.fieldKind === 'map' ? { element: field.mapKind, mapKey: scalarName(field.mapKey) } : {}),
    ...(field.fieldKind === 'message' ? { keys: keysOf(field.message) } : {}),
  };
}

function kindOf(field: DescField): NodeKind {
  return field.fieldKind === 'message' ? NodeKind.MESSAGE : field.fieldKind;
}

function elementType(field: DescField): string {
  if (field.message !== undefined) return field.message.typeName;
  if (field.enum !== undefined) return field.enum.typeName;
  return scalarName(field.scalar as ScalarType);
}

/** The proto name of a scalar type: `int32`, `string`, `bytes`… */
export function scalarName(type: ScalarType): string {
  return (ScalarType[type] as string).toLowerCase();
}

/** Every node of the tree, depth first, root excluded. */
export function allNodes(root: ModelNode): ModelNode[] {
  return root.children.flatMap((c) => [c, ...allNodes(c)]);
}

/** The node at a key-less path (`lines.qty`), or undefined. */
export function nodeAt(root: ModelNode, path: string): ModelNode | undefined {
  return allNodes(root).find((n) => n.path === path);
}

/** `FeatureSet.FieldPresence.IMPLICIT`: proto3 scalars without `optional`. */
const IMPLICIT = 2;
