import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { l8error } from '@layer8/protocol';
import type { VNic } from '@layer8/vnic';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AuthApi, type AuthOptions, SESSION_PATH } from './auth/auth-api.ts';
import { withAuthPaths } from './auth/auth-openapi.ts';
import { DashboardPage } from './dashboard-page.ts';
import { Directory, type GatewayLogger } from './directory.ts';
import { DOCS_CSP, DOCS_PATH, DocsPage, OPENAPI_PATH } from './docs-page.ts';
import { GatewayMetrics, type GatewayMetricsOptions } from './gateway-metrics.ts';
import { answerClientError, errorAnswer, HttpError } from './http-errors.ts';
import { type HttpTimeouts, serverTimeouts } from './http-timeouts.ts';
import { type OpenApiDocument, openApiOf } from './openapi.ts';
import type { QueryParams } from './query.ts';
import { CORRELATION_HEADER, gatewaySpan, RandomIds, TRACEPARENT_HEADER, traceOf } from './request-context.ts';
import { RestApi } from './rest.ts';
import { type WsOptions, WsPush } from './ws-push.ts';

/** Options of a {@link Gateway}. */
export interface GatewayOptions {
  /** The gateway's node in the overlay, connected (the gateway does not close it). */
  readonly vnic: VNic;
  /** HTTP listen address. Default `127.0.0.1`. */
  readonly host?: string;
  /** HTTP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Deadline of a request without `x-l8-timeout-ms`, ms. Default 10000. */
  readonly defaultTimeoutMs?: number;
  /** Largest deadline a request may ask for, ms (larger ones are cut to it). Default 60000. */
  readonly maxTimeoutMs?: number;
  /** Largest request body, bytes (413 `L8_ERR_LIMIT` beyond). Default 1 MiB. */
  readonly bodyLimit?: number;
  /**
   * Where the gateway logs (routes learnt and lost, conflicts, failed fetches, 5xx answers). A pino
   * logger also gets Fastify's request log. Default: nowhere.
   */
  readonly logger?: GatewayLogger;
  /** Title of the OpenAPI document. Default `Layer8 gateway`. */
  readonly title?: string;
  /** Deadline of one descriptor fetch from a node, ms. Default 5000. */
  readonly fetchTimeoutMs?: number;
  /** The AAA endpoints under `/auth` (login, refresh, logout, TOTP; docs/gateway.md "AAA"). Default: none. */
  readonly auth?: AuthOptions;
  /** The WebSocket push endpoint `/ws`: origins, access cookie and limits (docs/gateway.md). */
  readonly ws?: WsOptions;
  /** How long a client may take to send a request, and idle limits (docs/gateway.md, "Timeouts"). */
  readonly timeouts?: Partial<HttpTimeouts>;
  /**
   * The proxies in front of the gateway whose `X-Forwarded-*` headers are believed (Fastify's
   * `trustProxy`: addresses or CIDR ranges; `true` trusts any). The client address of login limits and
   * logs is then the one the proxy saw. Default none: the socket's address.
   */
  readonly trustProxy?: boolean | string | readonly string[];
  /** Prometheus metrics of the gateway's HTTP and WebSocket traffic (docs/operations.md, Metrics). Default none. */
  readonly metrics?: GatewayMetricsOptions;
}

/** Where a started gateway listens. */
export interface GatewayAddress {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
}

/** Counters of a gateway (they only grow). */
export interface GatewayCounters {
  requests: number;
  /** Answers by status. */
  readonly byStatus: Record<number, number>;
}

type Params = { area: string; service: string; key?: string };
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * The gateway (docs/gateway.md): an HTTP server on Fastify that publishes the web-exposed services of
 * the overlay as REST at `/l8/<area>/<service>`, their OpenAPI 3.1 document at `/openapi.json` and an
 * interactive page at `/docs`. Every gateway is an instance; several may run in one process.
 *
 * Invariant: `#started` is set by the first {@link start}, `#closed` by the first {@link close}; after
 * `close` the directory follows health no more and the server does not listen.
 */
export class Gateway {
  readonly directory: Directory;
  readonly counters: GatewayCounters = { requests: 0, byStatus: {} };
  readonly #o: GatewayOptions;
  readonly #app: FastifyInstance;
  readonly #rest: RestApi;
  readonly #docs = new DocsPage();
  readonly #dashboard = new DashboardPage();
  readonly #auth: AuthApi | undefined;
  /** The WebSocket push endpoint `/ws`. */
  readonly push: WsPush;
  /** The gateway's span of each request, made when its id is. */
  readonly #spans = new WeakMap<IncomingMessage, string>();
  /** Trace and span ids of the requests. */
  readonly #ids = new RandomIds();
  #openApi: { revision: number; doc: OpenApiDocument } | undefined;
  #started: Promise<GatewayAddress> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    this.#o = options;
    const logger = options.logger;
    this.directory = new Directory({
      vnic: options.vnic,
      ...(logger === undefined ? {} : { logger }),
      ...(options.fetchTimeoutMs === undefined ? {} : { fetchTimeoutMs: options.fetchTimeoutMs }),
    });
    const maxMs = options.maxTimeoutMs ?? 60_000;
    this.#rest = new RestApi(this.directory, options.vnic, { defaultMs: options.defaultTimeoutMs ?? 10_000, maxMs });
    this.#auth = options.auth === undefined ? undefined : new AuthApi(options.auth);
    this.#app = this.#fastify();
    if (options.metrics !== undefined) new GatewayMetrics(options.metrics, this).register(this.#app);
    this.#routes();
    const authority = options.auth?.authority;
    const auth = this.#auth;
    const authenticate = auth && ((token: string) => auth.authenticate(token));
    const ctx = { directory: this.directory, vnic: options.vnic, logger, authority, authenticate, http: this.counters };
    this.push = new WsPush(ctx, options.ws);
  }

  /**
   * Starts following the overlay and listening. A second call returns the first one's promise.
   * @throws L8_ERR_CLOSED after {@link close}; L8_ERR_CONNECT when it cannot listen (the port is taken, …)
   */
  start(): Promise<GatewayAddress> {
    if (this.#closed !== undefined) return Promise.reject(l8error('L8_ERR_CLOSED', 'the gateway is closed'));
    this.#started ??= this.#listen();
    return this.#started;
  }

  /** Stops listening (requests in flight finish) and stops following the overlay. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#started?.catch(() => undefined);
      this.push.close();
      await this.#app.close();
      this.directory.close();
    })();
    return this.#closed;
  }

  /** The OpenAPI document of what is published now (rebuilt after every change of the directory). */
  openApi(): OpenApiDocument {
    const revision = this.directory.revision;
    if (this.#openApi?.revision !== revision) {
      const info = { version: `r${revision}`, ...(this.#o.title === undefined ? {} : { title: this.#o.title }) };
      const doc = openApiOf(this.directory.routes(), info);
      this.#openApi = { revision, doc: this.#auth === undefined ? doc : withAuthPaths(doc) };
    }
    return this.#openApi.doc;
  }

  async #listen(): Promise<GatewayAddress> {
    this.directory.start();
    const host = this.#o.host ?? '127.0.0.1';
    try {
      await this.#app.listen({ host, port: this.#o.port ?? 8080 });
    } catch (err) {
      this.directory.close();
      throw l8error('L8_ERR_CONNECT', `the gateway cannot listen on ${host}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const port = (this.#app.server.address() as AddressInfo).port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.push.attach(this.#app.server, url);
    this.#o.logger?.info({ url }, 'gateway listening');
    return { host, port, url };
  }

  #fastify(): FastifyInstance {
    const l = this.#o.logger as Partial<FastifyBaseLogger> | undefined;
    const pino = typeof l?.child === 'function' && typeof l.level === 'string';
    const app = Fastify({
      ...(pino ? { loggerInstance: l as FastifyBaseLogger } : { logger: false }),
      bodyLimit: this.#o.bodyLimit ?? 1024 * 1024,
      ...(this.#o.trustProxy === undefined ? {} : { trustProxy: this.#o.trustProxy as string[] }),
      ...serverTimeouts(this.#o.timeouts),
      routerOptions: { maxParamLength: 2048 },
      genReqId: (req) => this.#newRequest(req),
      // a URL that does not decode, before any route or hook: answered like every other error
      frameworkErrors: (err, req, reply) => void this.#fail(err, req as FastifyRequest, reply as FastifyReply),
      clientErrorHandler: answerClientError,
    }) as unknown as FastifyInstance;
    // bodies are canonical JSON: anything else is refused (415) before a handler runs
    app.removeContentTypeParser('text/plain');
    app.addHook('onRequest', async (req, reply) => {
      this.counters.requests++;
      this.#traceHeaders(req, reply);
    });
    app.addHook('onResponse', async (_req, reply) => {
      this.counters.byStatus[reply.statusCode] = (this.counters.byStatus[reply.statusCode] ?? 0) + 1;
    });
    app.setErrorHandler((err, req, reply) => this.#fail(err, req, reply));
    app.setNotFoundHandler((req, reply) => {
      const err = l8error('L8_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
      return this.#fail(new HttpError(404, err), req, reply);
    });
    return app;
  }

  #traceHeaders(req: FastifyRequest, reply: FastifyReply): void {
    reply.header(CORRELATION_HEADER, req.id).header(TRACEPARENT_HEADER, this.#spans.get(req.raw) ?? '');
  }

  /** Makes a request's trace: its id (the trace id, also the correlation id) and the gateway's span. */
  #newRequest(req: IncomingMessage): string {
    const trace = traceOf(req.headers, this.#ids.hex);
    this.#spans.set(req, gatewaySpan(trace, this.#ids.hex));
    return trace.traceId;
  }

  #fail(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const a = errorAnswer(err);
    if (!reply.hasHeader(CORRELATION_HEADER)) this.#traceHeaders(req, reply);
    const log = this.#o.logger;
    const fields = { err, reqId: req.id, code: a.body.code };
    if (a.status === 500 || a.status === 502) log?.error(fields, 'gateway: request failed');
    else if (a.status > 500) log?.warn(fields, 'gateway: request failed');
    return reply.code(a.status).headers(a.headers).send(a.body);
  }

  #routes(): void {
    const app = this.#app;
    app.get(OPENAPI_PATH, async () => this.openApi());
    app.get(DOCS_PATH, async (_req, reply) => {
      const page = this.#docs.page();
      return reply.type(page.type).header('content-security-policy', DOCS_CSP).send(page.body);
    });
    app.get(`${DOCS_PATH}/assets/:file`, async (req, reply) => {
      const asset = await this.#docs.asset((req.params as { file: string }).file);
      if (asset === undefined) throw new HttpError(404, l8error('L8_ERR_NOT_FOUND', 'no such asset'));
      return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body);
    });
    app.get('/l8', async () => ({ services: this.directory.routes().map(listing) }));
    this.#dashboard.register(app);
    this.#auth?.register(app);
    app.get(SESSION_PATH, async (req) => (this.#auth === undefined ? { auth: false } : this.#auth.session(req)));
    const handler = (req: FastifyRequest, reply: FastifyReply) => this.#serve(req, reply);
    app.route({ method: METHODS, url: '/l8/:area/:service', handler });
    app.route({ method: METHODS, url: '/l8/:area/:service/:key', handler });
  }

  async #serve(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const gone = new AbortController();
    const onClose = () => reply.raw.writableFinished || gone.abort();
    reply.raw.once('close', onClose);
    const answer = await this.#rest.serve({
      ...(req.params as Params),
      method: req.method,
      query: req.query as QueryParams,
      body: req.body,
      headers: req.headers,
      traceparent: this.#spans.get(req.raw) ?? '',
      signal: gone.signal,
      ...(this.#auth === undefined ? {} : { identity: await this.#auth.identity(req) }),
    });
    reply.code(answer.status).headers(answer.headers ?? {});
    return answer.status === 204 ? reply.send() : reply.send(answer.body);
  }
}

function listing(r: ReturnType<Directory['routes']>[number]) {
  const { name, area, type, actions, maxLimit, stateful, primaryKey } = r.descriptor;
  return { name, area, type, actions, maxLimit, stateful, primaryKey, nodes: r.nodes, conflicting: r.conflicting };
}
