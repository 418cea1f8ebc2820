import { readFile } from 'node:fs/promises';
import { l8error } from '@layer8/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Asset } from './docs-page.ts';
import { HttpError } from './http-errors.ts';

/** Where the dashboard page is served; its files are under `/dashboard/<file>`. */
export const DASHBOARD_PATH = '/dashboard';

/**
 * Keeps the dashboard within the gateway: its own scripts, styles and connections (`/ws` included: 'self'
 * covers the same origin's `ws:`), no inline script or style, never framed.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const JS = 'text/javascript; charset=utf-8';

/** The files of the page (nothing else is served), with their media types. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'app.js': JS,
  'auth.js': JS,
  'charts.js': JS,
  'dom.js': JS,
  'entities.js': JS,
  'panels.js': JS,
  'topology.js': JS,
};

/**
 * The folder of the page's files: `dashboard/` of the package, next to `src/` (run from source) or two
 * levels above `dist/src/` (run from the build). Plain ES modules: no build step, no framework, no CDN.
 */
const DIR = new URL(import.meta.url.endsWith('.ts') ? '../dashboard/' : '../../dashboard/', import.meta.url);

/**
 * The live dashboard (docs/gateway.md, "Dashboard"): a static page whose scripts log in through `/auth`
 * (cookie mode) and watch the `system` topic of `/ws`. Files are read on first use and kept by this instance.
 */
export class DashboardPage {
  readonly #cache = new Map<string, Promise<Asset>>();

  /** Adds `GET /dashboard` and `GET /dashboard/<file>` to `app`. */
  register(app: FastifyInstance): void {
    app.get(DASHBOARD_PATH, async (_req, reply) => this.#answer(reply, 'index.html'));
    app.get(`${DASHBOARD_PATH}/:file`, async (req, reply) => {
      const name = (req.params as { file: string }).file;
      if (!Object.hasOwn(FILES, name)) throw new HttpError(404, l8error('L8_ERR_NOT_FOUND', 'no such file'));
      return this.#answer(reply, name);
    });
  }

  /** A file of the page by name, or undefined for a name that is not one of its files. */
  asset(name: string): Promise<Asset> | undefined {
    const type = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    if (type === undefined) return undefined;
    let cached = this.#cache.get(name);
    if (cached === undefined) {
      cached = readFile(new URL(name, DIR)).then((body) => ({ type, body }));
      void cached.catch(() => this.#cache.delete(name));
      this.#cache.set(name, cached);
    }
    return cached;
  }

  /** Answers a file with the page's headers (revalidated on every load: the files are small). */
  async #answer(reply: FastifyReply, name: string): Promise<FastifyReply> {
    const asset = await (this.asset(name) as Promise<Asset>);
    return reply
      .type(asset.type)
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .send(asset.body);
  }
}
