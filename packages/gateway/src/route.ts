import type { DescMessage, FileRegistry } from '@bufbuild/protobuf';
import { type ModelCodec, TypeRegistry } from '@layer8/model';
import type { NodeId } from '@layer8/protocol';
import { modelOf, type WebDescriptor } from '@layer8/services';
import { fingerprint } from './descriptor-check.ts';

/** A service's model as the gateway rebuilt it from a descriptor: no generated code needed. */
export interface RouteModel {
  readonly desc: DescMessage;
  /** Every file of the model, for JSON of `google.protobuf.Any` and for the OpenAPI schemas. */
  readonly files: FileRegistry;
  /** Holds only this model: decodes the envelopes the service answers with. */
  readonly registry: TypeRegistry;
  /** Protobuf codec of the model (what POST, PUT and PATCH send). */
  readonly codec: ModelCodec;
}

/** One published (area, service): its descriptor, its model and the nodes that offer it. */
export interface Route {
  readonly name: string;
  readonly area: number;
  readonly descriptor: WebDescriptor;
  readonly model: RouteModel;
  /** Nodes that advertise exactly this descriptor, sorted. */
  readonly nodes: readonly NodeId[];
  /** Nodes that advertise another descriptor for the same (area, service): a conflict when non-empty. */
  readonly conflicting: readonly NodeId[];
  /** See {@link fingerprint}. */
  readonly fingerprint: string;
}

/** The key of (area, name) in route tables. */
export function routeKey(area: number, name: string): string {
  return `${area}/${name}`;
}

/**
 * The model of a descriptor. @throws L8_ERR_DECODE, L8_ERR_UNKNOWN_TYPE (a bad file set), and
 * L8_ERR_INVALID_ARGUMENT when its key options do not fit the type
 */
export function buildModel(d: WebDescriptor): RouteModel {
  const { desc, files } = modelOf(d);
  const registry = new TypeRegistry().register(desc);
  return { desc, files, registry, codec: registry.get(desc.typeName).codec };
}

/** What one node advertises of one (area, service). */
export interface Offer {
  readonly node: NodeId;
  readonly descriptor: WebDescriptor;
  readonly fingerprint: string;
}

/**
 * The descriptor that wins among different ones for one (area, service): the one most nodes offer, ties
 * going to the one whose smallest node id is smallest. Every gateway that sees the same offers picks
 * the same one, whatever order they arrived in.
 */
export function winner(offers: readonly Offer[]): Offer {
  const by = new Map<string, Offer[]>();
  for (const o of offers) by.set(o.fingerprint, [...(by.get(o.fingerprint) ?? []), o]);
  const groups = [...by.values()].map((g) => g.sort((x, y) => cmp(x.node, y.node)));
  groups.sort((x, y) => y.length - x.length || cmp((x[0] as Offer).node, (y[0] as Offer).node));
  return (groups[0] as Offer[])[0] as Offer;
}

/** Groups offers by (area, service). */
export function offersByRoute(nodes: ReadonlyMap<NodeId, readonly WebDescriptor[]>): Map<string, Offer[]> {
  const out = new Map<string, Offer[]>();
  for (const [node, list] of nodes) {
    for (const descriptor of list) {
      const k = routeKey(descriptor.area, descriptor.name);
      out.set(k, [...(out.get(k) ?? []), { node, descriptor, fingerprint: fingerprint(descriptor) }]);
    }
  }
  return out;
}

/** The route of one (area, service)'s offers, with the model of the winning descriptor. */
export function routeOf(offers: readonly Offer[], modelOf: (d: WebDescriptor) => RouteModel): Route {
  const won = winner(offers);
  const same = offers.filter((o) => o.fingerprint === won.fingerprint).map((o) => o.node);
  const other = offers.filter((o) => o.fingerprint !== won.fingerprint).map((o) => o.node);
  return {
    name: won.descriptor.name,
    area: won.descriptor.area,
    descriptor: won.descriptor,
    model: modelOf(won.descriptor),
    nodes: same.sort(cmp),
    conflicting: other.sort(cmp),
    fingerprint: won.fingerprint,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
