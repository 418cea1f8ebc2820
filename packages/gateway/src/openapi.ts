import { ERROR_CODES } from '@layer8/protocol';
import type { ActionName } from '@layer8/services';
import { type JsonSchema, SchemaBuilder } from './json-schema.ts';
import { CORRELATION_HEADER, TIMEOUT_HEADER, TRACEPARENT_HEADER } from './request-context.ts';
import type { Route } from './route.ts';

/** An OpenAPI 3.1 document as plain data. */
export type OpenApiDocument = { readonly openapi: string; readonly [k: string]: unknown };

/** What the document says about the gateway itself. */
export interface OpenApiInfo {
  readonly title?: string;
  /** The document's version; the gateway gives its directory's revision. */
  readonly version: string;
}

const SCHEMAS = '#/components/schemas/';
const ERROR_RESPONSE = { $ref: '#/components/responses/Error' };
const ERRORS = {
  '400': { ...ERROR_RESPONSE, description: 'The request does not fit the model, the query or a limit' },
  '404': { ...ERROR_RESPONSE, description: 'No such service (L8_ERR_NO_SERVICE) or entity (L8_ERR_NOT_FOUND)' },
  '503': { ...ERROR_RESPONSE, description: 'No instance can serve now; retry after `Retry-After` seconds' },
  '504': { ...ERROR_RESPONSE, description: 'The deadline passed (L8_ERR_TIMEOUT)' },
  default: ERROR_RESPONSE,
};

/**
 * The OpenAPI 3.1 document of the routes: per (area, service) the paths of its exposed actions, the
 * JSON Schema of its model (canonical protobuf JSON), the answer shapes, the error schema and the
 * headers the gateway reads and writes (docs/gateway.md).
 */
export function openApiOf(routes: readonly Route[], info: OpenApiInfo): OpenApiDocument {
  const schemas = new SchemaBuilder(SCHEMAS);
  const paths: Record<string, unknown> = {};
  for (const r of routes) Object.assign(paths, pathsOf(r, schemas));
  return {
    openapi: '3.1.0',
    info: {
      title: info.title ?? 'Layer8 gateway',
      version: info.version,
      description: 'The web-exposed services of a Layer8 overlay: REST with protobuf canonical JSON bodies.',
    },
    servers: [{ url: '/' }],
    security: [{}, { bearer: [] }],
    tags: routes.map((r) => ({ name: tagOf(r), description: `${r.descriptor.type} in area ${r.area}` })),
    paths,
    components: components(schemas.schemas),
  };
}

/** The path of a route's collection: `/l8/<area>/<service>` (the name URL-encoded). */
export function collectionPath(r: Pick<Route, 'area' | 'name'>): string {
  return `/l8/${r.area}/${encodeURIComponent(r.name)}`;
}

function pathsOf(r: Route, schemas: SchemaBuilder): Record<string, unknown> {
  const has = (a: ActionName) => r.descriptor.actions.includes(a);
  const model = schemas.ref(r.model.desc);
  const collection: Record<string, unknown> = {};
  const item: Record<string, unknown> = {};
  if (has('get')) collection.get = operation(r, 'query', queryAnswer(r, model), ['q', 'limit', 'page']);
  for (const a of ['post', 'put', 'patch'] as const) if (has(a)) collection[a] = write(r, a, model);
  if (has('get')) item.get = operation(r, 'get', written(r, model), []);
  if (has('delete')) item.delete = { ...operation(r, 'delete', undefined, []), responses: deleted() };
  const out: Record<string, unknown> = {};
  const common = { parameters: ['timeout', 'traceparent', 'correlation'].map(parameter) };
  if (Object.keys(collection).length > 0) out[collectionPath(r)] = { ...common, ...collection };
  if (Object.keys(item).length > 0) {
    out[`${collectionPath(r)}/{key}`] = { ...common, parameters: [...common.parameters, parameter('key')], ...item };
  }
  return out;
}

function operation(r: Route, verb: string, answer: JsonSchema | undefined, params: string[]) {
  const ok = { description: 'Done', headers: traceHeaders(), content: { 'application/json': { schema: answer } } };
  return {
    operationId: `${verb}_${r.area}_${r.name.replace(/[^A-Za-z0-9_]/g, '_')}`,
    tags: [tagOf(r)],
    summary: `${verb} ${r.name}`,
    parameters: params.map(parameter),
    responses: { '200': ok, ...ERRORS },
  };
}

function write(r: Route, a: 'post' | 'put' | 'patch', model: JsonSchema) {
  const answer = r.descriptor.stateful ? written(r, model) : {};
  const op = operation(r, a, answer, []);
  const body = { required: true, content: { 'application/json': { schema: model } } };
  const what = { post: 'creates', put: 'replaces (or creates)', patch: 'merges the fields given into' }[a];
  const description = `${what} a ${r.descriptor.type} (primary key: ${r.descriptor.primaryKey.join(', ') || 'none'})`;
  const responses: Record<string, unknown> = { ...op.responses };
  if (a === 'post') {
    responses['201'] = { ...(responses['200'] as object), description: 'Created' };
    delete responses['200'];
    responses['409'] = { ...ERROR_RESPONSE, description: 'The key or a unique key exists (L8_ERR_CONFLICT)' };
  }
  return { ...op, description, requestBody: body, responses };
}

function written(r: Route, model: JsonSchema): JsonSchema {
  if (!r.descriptor.stateful) return {};
  const version = { type: 'integer', minimum: 0 };
  return { type: 'object', required: ['item', 'version'], properties: { item: model, version } };
}

function queryAnswer(r: Route, model: JsonSchema): JsonSchema {
  if (!r.descriptor.stateful) return {};
  const count = { type: 'integer', minimum: 0 };
  const properties = {
    items: { type: 'array', items: model },
    versions: { type: 'array', items: count },
    total: { ...count, description: 'Matches before paging' },
    limit: count,
    page: count,
  };
  return { type: 'object', required: ['items', 'versions', 'total', 'limit', 'page'], properties };
}

function deleted() {
  return { '204': { description: 'Deleted', headers: traceHeaders() }, ...ERRORS };
}

function tagOf(r: Route): string {
  return r.area === 0 ? r.name : `${r.name} (area ${r.area})`;
}

function parameter(name: string) {
  return { $ref: `#/components/parameters/${name}` };
}

function traceHeaders() {
  return {
    [CORRELATION_HEADER]: { $ref: '#/components/headers/correlation' },
    [TRACEPARENT_HEADER]: { $ref: '#/components/headers/traceparent' },
  };
}

function components(schemas: Record<string, JsonSchema>) {
  const error = {
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { type: 'string', enum: Object.keys(ERROR_CODES) }, message: { type: 'string' } },
  };
  const errorContent = { 'application/json': { schema: { $ref: `${SCHEMAS}L8Error` } } };
  return {
    schemas: { ...schemas, L8Error: error },
    responses: { Error: { description: 'An error: its stable code and a message', content: errorContent } },
    parameters: PARAMETERS,
    headers: {
      correlation: { description: 'The trace id of the request', schema: { type: 'string' } },
      traceparent: { description: "The gateway's span (W3C Trace Context)", schema: { type: 'string' } },
    },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A user token, passed on as identity' } },
  };
}

const PARAMETERS = {
  timeout: {
    name: TIMEOUT_HEADER,
    in: 'header',
    description: "Deadline of the request, ms (capped at the gateway's maximum)",
    schema: { type: 'integer', minimum: 1 },
  },
  traceparent: { name: TRACEPARENT_HEADER, in: 'header', description: 'W3C Trace Context', schema: { type: 'string' } },
  correlation: {
    name: CORRELATION_HEADER,
    in: 'header',
    description: 'A trace id (32 hex digits) to use when no traceparent is given',
    schema: { type: 'string' },
  },
  q: { name: 'q', in: 'query', description: 'L8QL query (default: every item)', schema: { type: 'string' } },
  limit: {
    name: 'limit',
    in: 'query',
    description: 'Items per page (default and maximum: the service’s maxLimit)',
    schema: { type: 'integer', minimum: 1 },
  },
  page: { name: 'page', in: 'query', description: '0-based page', schema: { type: 'integer', minimum: 0 } },
  key: {
    name: 'key',
    in: 'path',
    required: true,
    description: 'Primary key text (composite: values joined by commas)',
    schema: { type: 'string' },
  },
};
