import type { DescMessage, Message } from '@bufbuild/protobuf';
import { getPath } from '@layer8/model';
import { Action, type L8Error, l8error, type NodeId, toL8Error } from '@layer8/protocol';
import type { VNic } from '@layer8/vnic';

/** What one instance computes over its share: a count, a sum of a field, or the SLA's own map. */
export type MapFn = { readonly count: true } | { readonly sum: string } | { readonly custom: unknown };

/** The request each instance gets (action MAP_REDUCE): the function, an optional L8QL filter, its share. */
export interface MapRequest {
  readonly fn: MapFn;
  readonly q?: string;
  /** This instance's share: the keys whose hash modulo `of` is `share`. */
  readonly share: number;
  readonly of: number;
}

/** What a fan-out returns: the merged result, and which instances did not answer (then `partial`). */
export interface MapReduceResult<R> {
  readonly result: R;
  readonly partial: boolean;
  readonly answered: number;
  readonly missing: { readonly node: NodeId; readonly error: L8Error }[];
}

/** FNV-1a 32 of a key: which share a key belongs to. */
export function shareOf(key: string, of: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % of;
}

/**
 * Runs `fn` over the entities of one share at an instance.
 * @throws L8_ERR_INVALID_ARGUMENT for a bad request or a `custom` function the SLA does not define
 */
export function mapShare<T extends Message>(
  desc: DescMessage,
  entries: readonly { key: string; entity: T }[],
  req: MapRequest,
  custom: ((items: T[], arg: unknown) => unknown) | undefined,
): unknown {
  if (
    !Number.isInteger(req?.share) ||
    !Number.isInteger(req.of) ||
    req.of < 1 ||
    req.share < 0 ||
    req.share >= req.of
  ) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'a map-reduce request needs a share in 0..of-1');
  }
  const mine = entries.filter((e) => shareOf(e.key, req.of) === req.share).map((e) => e.entity);
  const fn = req.fn;
  if (fn !== null && typeof fn === 'object' && 'count' in fn) return mine.length;
  if (fn !== null && typeof fn === 'object' && 'sum' in fn) {
    return mine.reduce((s, e) => s + Number(getPath(desc, e, fn.sum) ?? 0), 0);
  }
  if (fn === null || typeof fn !== 'object' || !('custom' in fn)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', 'a map-reduce function is {count}, {sum: path} or {custom}');
  }
  if (custom === undefined) throw l8error('L8_ERR_UNSUPPORTED', 'this service defines no custom map');
  return custom(mine, fn.custom);
}

/** Errors that are the caller's, not an instance's: the whole request fails with them, it is not partial. */
const CALLER_ERRORS: ReadonlySet<string> = new Set([
  'L8_ERR_FORBIDDEN',
  'L8_ERR_AUTH',
  'L8_ERR_TOKEN_EXPIRED',
  'L8_ERR_INVALID_ARGUMENT',
  'L8_ERR_QUERY',
  'L8_ERR_UNSUPPORTED',
]);

/**
 * Fans a map request out to every instance of (service, area) that health lists, one share each, and
 * merges the answers (`count` and `sum` add up; a custom map needs `merge`). An instance that fails or
 * misses the deadline leaves its share out: the result says `partial` and which instances are missing.
 * A refusal of the caller (forbidden, a bad token, a bad query) fails the whole request with its code.
 */
export async function fanOut<R>(
  vnic: VNic,
  target: { readonly service: string; readonly area: number },
  fn: MapFn,
  options: {
    readonly q?: string;
    readonly timeoutMs?: number;
    readonly identity?: string;
    readonly merge?: (parts: unknown[]) => R;
  },
): Promise<MapReduceResult<R>> {
  const nodes = vnic.health
    .instances(target.service, target.area)
    .map((r) => r.id)
    .sort();
  if (nodes.length === 0) throw l8error('L8_ERR_NO_SERVICE', `no instance of ${target.service}/${target.area}`);
  const ask = (node: NodeId, share: number) => {
    const req: MapRequest = { fn, share, of: nodes.length, ...(options.q === undefined ? {} : { q: options.q }) };
    const o = { action: Action.MAP_REDUCE, timeoutMs: options.timeoutMs ?? 10_000, identity: options.identity ?? '' };
    return vnic.request({ ...target, node }, req, o).then((m) => m.json<unknown>());
  };
  const settled = await Promise.allSettled(nodes.map((n, i) => ask(n, i)));
  const refused = settled.find((s) => s.status === 'rejected' && CALLER_ERRORS.has(toL8Error(s.reason).code));
  if (refused !== undefined) throw toL8Error((refused as PromiseRejectedResult).reason);
  const parts: unknown[] = [];
  const missing: MapReduceResult<R>['missing'][number][] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') parts.push(s.value);
    else missing.push({ node: nodes[i] as NodeId, error: toL8Error(s.reason, 'L8_ERR_INTERNAL') });
  });
  const merge = options.merge ?? ((ps: unknown[]) => ps.reduce((a: number, b) => a + Number(b), 0) as R);
  return { result: merge(parts), partial: missing.length > 0, answered: parts.length, missing };
}
