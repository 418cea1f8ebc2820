import type { Message } from '@bufbuild/protobuf';
import {
  type BoundQuery,
  bindQuery,
  decodeEnvelope,
  type Envelope,
  parseQuery,
  printQuery,
  type Query,
} from '@layer8/model';
import { Action, ContentType, l8error, type NodeId, toL8Error } from '@layer8/protocol';
import type { VNic } from '@layer8/vnic';
import type { Route } from './route.ts';

/** An entity as the service answered it for one identity. */
export interface Fetched {
  readonly key: string;
  readonly version: number;
  readonly entity: Message;
}

/** The query a subscription follows, checked against the route's model. */
export interface FollowedQuery {
  /** Sent for every snapshot. */
  readonly text: string;
  /** Evaluated on every entity fetched after a change. */
  readonly bound: BoundQuery;
}

/**
 * The query of a subscription: `q` (default every item) bound to the route's model. A subscription follows
 * the whole result, so `limit`, `page` and projections are refused; the snapshot asks for at most the
 * descriptor's `maxLimit` items.
 * @throws L8_ERR_QUERY (bad L8QL, another type, a projection, grouping, limit or page)
 */
export function followedQuery(route: Route, q: string | undefined): FollowedQuery {
  const typeName = route.model.desc.typeName;
  try {
    const query = parseQuery(q === undefined || q.trim() === '' ? `select * from ${typeName}` : q);
    if (query.select !== '*' || query.groupBy.length > 0 || query.limit !== undefined || query.page !== undefined) {
      throw l8error('L8_ERR_QUERY', 'a subscription follows whole items: use select * without group-by, limit or page');
    }
    const bound = bindQuery(route.model.registry, query);
    if (bound.desc.typeName !== typeName) throw l8error('L8_ERR_QUERY', `${route.name} holds ${typeName}`);
    const limited: Query = { ...query, limit: route.descriptor.maxLimit };
    return { text: printQuery(limited), bound };
  } catch (err) {
    throw toL8Error(err, 'L8_ERR_QUERY');
  }
}

/** Where fetches go and how long they may take. */
export interface FetchContext {
  readonly vnic: VNic;
  readonly timeoutMs: number;
}

/**
 * The whole result of a subscription's query, as `identity` may see it, from `node`.
 * @throws L8_ERR_LIMIT when the result is over the descriptor's `maxLimit`; the service's errors
 */
export async function fetchSnapshot(
  ctx: FetchContext,
  route: Route,
  node: NodeId,
  query: FollowedQuery,
  identity: string,
): Promise<Fetched[]> {
  const env = await get(ctx, route, node, { q: query.text }, identity);
  const items = env.items.filter((i) => i.value !== undefined).map(fetchedOf);
  if (env.metadata.total > items.length) {
    const max = route.descriptor.maxLimit;
    throw l8error('L8_ERR_LIMIT', `the result has ${env.metadata.total} items, over ${max}: narrow the query`, {
      data: { maxLimit: max },
    });
  }
  return items;
}

/**
 * One entity as `identity` may see it, from `node`; undefined when it does not exist for that identity.
 * @throws the service's errors but L8_ERR_NOT_FOUND
 */
export async function fetchEntity(
  ctx: FetchContext,
  route: Route,
  node: NodeId,
  key: string,
  identity: string,
): Promise<Fetched | undefined> {
  try {
    const env = await get(ctx, route, node, { key }, identity);
    const item = env.items[0];
    return item?.value === undefined ? undefined : fetchedOf(item);
  } catch (err) {
    if ((err as { code?: string }).code === 'L8_ERR_NOT_FOUND') return undefined;
    throw err;
  }
}

async function get(ctx: FetchContext, route: Route, node: NodeId, body: object, identity: string): Promise<Envelope> {
  const target = { service: route.name, area: route.area, node };
  const m = await ctx.vnic.request(target, body, { action: Action.GET, identity, timeoutMs: ctx.timeoutMs });
  if (m.contentType !== ContentType.PROTOBUF) {
    throw l8error('L8_ERR_DECODE', `${route.name} answered with content type ${m.contentType}, not an envelope`);
  }
  return decodeEnvelope(route.model.registry, m.payload);
}

function fetchedOf(i: Envelope['items'][number]): Fetched {
  return { key: i.key, version: i.version ?? 0, entity: i.value as Message };
}
