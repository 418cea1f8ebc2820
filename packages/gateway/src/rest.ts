import type { IncomingHttpHeaders } from 'node:http';
import type { Message } from '@bufbuild/protobuf';
import { decodeEnvelope, type Envelope } from '@layer8/model';
import { Action, ContentType, l8error, toL8Error } from '@layer8/protocol';
import type { ActionName } from '@layer8/services';
import type { Incoming, Payload, RequestOptions, VNic } from '@layer8/vnic';
import type { Directory } from './directory.ts';
import { HttpError } from './http-errors.ts';
import { messageFromJson, messageToJson } from './model-json.ts';
import { collectionPath } from './openapi.ts';
import { type PagedQuery, pagedQuery, type QueryParams } from './query.ts';
import { badRequest, type DeadlineLimits, deadlineOf, identityOf } from './request-context.ts';
import type { Route } from './route.ts';

/** One REST request, as the HTTP layer hands it over. */
export interface RestRequest {
  readonly method: string;
  readonly area: string;
  readonly service: string;
  /** The `:key` of `/l8/:area/:service/:key`; undefined on the collection. */
  readonly key?: string | undefined;
  readonly query: QueryParams;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  /** The gateway's span: the traceparent the overlay request carries. */
  readonly traceparent: string;
  /** Aborts the overlay request (the HTTP client went away). */
  readonly signal: AbortSignal;
  /** The identity to carry, already checked (gateway auth); default: the `Authorization: Bearer` token. */
  readonly identity?: string;
}

/** What to answer: status, extra headers and the JSON body (none for 204). */
export interface RestAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

const ACTION: Readonly<Record<ActionName, Action>> = {
  post: Action.POST,
  put: Action.PUT,
  patch: Action.PATCH,
  delete: Action.DELETE,
  get: Action.GET,
};
const ON_COLLECTION: Readonly<Record<string, ActionName>> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'post',
  PUT: 'put',
  PATCH: 'patch',
};
const ON_ITEM: Readonly<Record<string, ActionName>> = { GET: 'get', HEAD: 'get', DELETE: 'delete' };

/**
 * Serves `/l8/:area/:service[/:key]`: finds the route, checks the action is exposed, turns the JSON
 * into the service's payload, sends the request through the VNic to one node that offers the route,
 * and turns the answer back into JSON (docs/gateway.md has the shapes).
 */
export class RestApi {
  readonly #directory: Directory;
  readonly #vnic: VNic;
  readonly #limits: DeadlineLimits;

  constructor(directory: Directory, vnic: VNic, limits: DeadlineLimits) {
    this.#directory = directory;
    this.#vnic = vnic;
    this.#limits = limits;
  }

  /** Serves one request. @throws HttpError or the service's L8Error (see errorAnswer) */
  async serve(req: RestRequest): Promise<RestAnswer> {
    const route = this.#route(req);
    const action = actionOf(req, route);
    const paged = action === 'get' && req.key === undefined ? this.#paged(req, route) : undefined;
    const { payload, codec } = payloadOf(route, action, req);
    const options: RequestOptions = {
      action: ACTION[action],
      timeoutMs: deadlineOf(req.headers, this.#limits),
      identity: req.identity ?? identityOf(req.headers),
      traceparent: req.traceparent,
      signal: req.signal,
      ...(codec === undefined ? {} : { codec }),
    };
    const node = this.#directory.pick(route);
    if (node === undefined)
      throw l8error('L8_ERR_NO_SERVICE', `no node serves ${route.name} in area ${route.area} now`);
    const sent = paged === undefined ? payload : { q: paged.q };
    const m = await this.#vnic.request({ service: route.name, area: route.area, node }, sent, options);
    return answerOf(route, action, m, paged);
  }

  #route(req: RestRequest): Route {
    const area = /^[0-9]{1,5}$/.test(req.area) ? Number(req.area) : Number.NaN;
    if (!(area <= 0xffff)) throw badRequest(`area ${JSON.stringify(req.area)} is not a number from 0 to 65535`);
    const route = this.#directory.route(area, req.service);
    if (route !== undefined) return route;
    const err = l8error('L8_ERR_NO_SERVICE', `no service ${JSON.stringify(req.service)} is published in area ${area}`);
    throw new HttpError(404, err);
  }

  #paged(req: RestRequest, route: Route): PagedQuery {
    return pagedQuery(req.query, route.model.desc.typeName, route.descriptor.maxLimit);
  }
}

/** The action of a method on the collection or an item. @throws HttpError 405 L8_ERR_UNSUPPORTED */
function actionOf(req: RestRequest, route: Route): ActionName {
  const table = req.key === undefined ? ON_COLLECTION : ON_ITEM;
  const action = table[req.method];
  if (action !== undefined && route.descriptor.actions.includes(action)) return action;
  const allow = Object.entries(table)
    .filter(([, a]) => route.descriptor.actions.includes(a))
    .map(([m]) => m);
  const where = req.key === undefined ? collectionPath(route) : `${collectionPath(route)}/{key}`;
  const err = l8error('L8_ERR_UNSUPPORTED', `${route.name} does not expose ${req.method} on ${where}`);
  throw new HttpError(405, err, { allow: allow.join(', ') });
}

/** What the overlay request carries: the model (protobuf) for writes, `{ key }` for DELETE and GET of one. */
function payloadOf(
  route: Route,
  action: ActionName,
  req: RestRequest,
): { payload: Payload; codec?: RequestOptions['codec'] } {
  if (action === 'post' || action === 'put' || action === 'patch') {
    return { payload: messageFromJson(route.model, req.body), codec: route.model.codec };
  }
  return { payload: req.key === undefined ? undefined : { key: req.key } };
}

/** The JSON answer of a service's reply. @throws HttpError 502 L8_ERR_DECODE when the reply does not decode */
function answerOf(route: Route, action: ActionName, m: Incoming, paged: PagedQuery | undefined): RestAnswer {
  try {
    return route.descriptor.stateful ? fromEnvelope(route, action, envelopeOf(route, m), paged) : passThrough(route, m);
  } catch (err) {
    throw new HttpError(502, toL8Error(err, 'L8_ERR_DECODE'));
  }
}

function envelopeOf(route: Route, m: Incoming): Envelope {
  if (m.contentType !== ContentType.PROTOBUF) {
    throw l8error('L8_ERR_DECODE', `${route.name} answered with content type ${m.contentType}, not an envelope`);
  }
  return decodeEnvelope(route.model.registry, m.payload);
}

function fromEnvelope(route: Route, action: ActionName, env: Envelope, paged: PagedQuery | undefined): RestAnswer {
  const json = (i: { value?: unknown }) => messageToJson(route.model, i.value as Message);
  if (paged !== undefined) {
    const { limit, page } = paged;
    const versions = env.items.map((i) => i.version ?? 0);
    return { status: 200, body: { items: env.items.map(json), versions, total: env.metadata.total, limit, page } };
  }
  if (action === 'delete') return { status: 204 };
  const item = env.items[0];
  if (item?.value === undefined) throw l8error('L8_ERR_DECODE', `${route.name} answered without the item`);
  const body = { item: json(item), version: item.version ?? 0 };
  if (action !== 'post') return { status: 200, body };
  return { status: 201, headers: { location: `${collectionPath(route)}/${encodeURIComponent(item.key)}` }, body };
}

/** A stateless service's reply: a model as its canonical JSON, JSON as it is, nothing as 204. */
function passThrough(route: Route, m: Incoming): RestAnswer {
  if (m.contentType === ContentType.NONE) return { status: 204 };
  if (m.contentType === ContentType.PROTOBUF)
    return { status: 200, body: messageToJson(route.model, m.decode(route.model.codec)) };
  if (m.contentType === ContentType.JSON) return { status: 200, body: m.json() ?? null };
  throw l8error('L8_ERR_DECODE', `${route.name} answered with content type ${m.contentType}, not JSON or its model`);
}
