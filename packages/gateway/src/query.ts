import { parseQuery, printQuery, type Query } from '@layer8/model';
import { l8error, toL8Error } from '@layer8/protocol';
import { HttpError } from './http-errors.ts';
import { badRequest } from './request-context.ts';

/** The query string of `GET /l8/:area/:service`. */
export interface QueryParams {
  /** L8QL; default `select * from <the model's type>`. */
  readonly q?: unknown;
  /** Rows per page; overrides the query's `limit`. */
  readonly limit?: unknown;
  /** 0-based page; overrides the query's `page`. */
  readonly page?: unknown;
}

/** The query sent to the service, with the limit and page it ended up with. */
export interface PagedQuery {
  readonly q: string;
  readonly limit: number;
  readonly page: number;
}

/** Characters of `q` accepted (a query string is small; the body limit does not cover URLs). */
export const MAX_QUERY_CHARS = 8192;

/**
 * The L8QL a GET sends: `q` (or every item of `typeName`) with `?limit` and `?page` applied over the
 * query's own clauses. A query without a limit gets `maxLimit`; a larger limit is refused rather than
 * cut, so a client never mistakes a cut page for the whole result.
 * @throws HttpError 400: L8_ERR_QUERY (bad L8QL), L8_ERR_LIMIT (over `maxLimit`), L8_ERR_INVALID_ARGUMENT
 */
export function pagedQuery(params: QueryParams, typeName: string, maxLimit: number): PagedQuery {
  const parsed = parse(params.q, typeName);
  const limit = whole(params.limit, 'limit', 1) ?? parsed.limit ?? maxLimit;
  const page = whole(params.page, 'page', 0) ?? parsed.page ?? 0;
  if (limit > maxLimit) {
    const err = l8error('L8_ERR_LIMIT', `limit ${limit} is over this service's maximum of ${maxLimit}`, {
      data: { maxLimit },
    });
    throw new HttpError(400, err);
  }
  const { page: _page, limit: _limit, ...clauses } = parsed;
  const query: Query = page === 0 ? { ...clauses, limit } : { ...clauses, limit, page };
  return { q: printQuery(query), limit, page };
}

function parse(q: unknown, typeName: string): Query {
  if (q !== undefined && typeof q !== 'string') throw badRequest('give one q');
  const text = q === undefined || q.trim() === '' ? `select * from ${typeName}` : q;
  if (text.length > MAX_QUERY_CHARS) throw badRequest(`q is over ${MAX_QUERY_CHARS} characters`);
  try {
    return parseQuery(text);
  } catch (err) {
    throw new HttpError(400, toL8Error(err, 'L8_ERR_QUERY'));
  }
}

/** A whole number ≥ `min` from the query string, undefined when absent. */
function whole(v: unknown, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^[0-9]{1,9}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min)) throw badRequest(`${name} must be a whole number ≥ ${min}`);
  return n;
}
