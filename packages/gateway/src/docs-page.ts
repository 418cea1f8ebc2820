import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where the page and its assets are served. */
export const DOCS_PATH = '/docs';
/** Where the document the page shows is served. */
export const OPENAPI_PATH = '/openapi.json';

/** The files of `swagger-ui-dist` the page uses, with their media types (nothing else is served). */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/**
 * Keeps the page within the gateway: scripts, styles and calls to its own origin only (Swagger UI's
 * online validator is switched off as well).
 */
export const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

/** The page's own start script: Swagger UI on the gateway's document, without the online validator. */
const INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
};
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Layer8 gateway: API</title>
    <link rel="stylesheet" type="text/css" href="${DOCS_PATH}/assets/swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="${DOCS_PATH}/assets/index.css" />
    <link rel="icon" type="image/png" href="${DOCS_PATH}/assets/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="${DOCS_PATH}/assets/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}/assets/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="${DOCS_PATH}/assets/init.js" charset="UTF-8"></script>
  </body>
</html>
`;

/** A file to answer with. */
export interface Asset {
  readonly type: string;
  readonly body: string | Buffer;
}

/**
 * The interactive page of the OpenAPI document (Swagger UI from `swagger-ui-dist`, served by the
 * gateway: no CDN). Assets are read on first use and kept by this instance.
 */
export class DocsPage {
  readonly #cache = new Map<string, Promise<Asset>>();
  readonly #dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

  /** The HTML page. */
  page(): Asset {
    return { type: 'text/html; charset=utf-8', body: PAGE };
  }

  /** An asset by file name, or undefined for a name that is not one of the page's. */
  asset(name: string): Promise<Asset> | undefined {
    if (name === 'init.js') return Promise.resolve({ type: ASSETS['swagger-ui-bundle.js'] as string, body: INIT });
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (type === undefined) return undefined;
    let cached = this.#cache.get(name);
    if (cached === undefined) {
      cached = readFile(join(this.#dir, name)).then((body) => ({ type, body }));
      void cached.catch(() => this.#cache.delete(name));
      this.#cache.set(name, cached);
    }
    return cached;
  }
}
