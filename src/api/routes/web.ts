import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { UI_FILES_ACCESS } from '../auth-hooks.js';

/** The web UI as `npm run build` leaves it: dist/web, the same place from src/ (tests) and dist/. */
export const WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Vigil</title>
<p>The web UI is not built. Run <code>npm run build</code> (or <code>npm start</code>, which builds it) and reload.
The API answers under <a href="/api/health">/api/health</a>.</p>`;

/**
 * Serves the single-page app: hashed assets cached for good, index.html revalidated every time.
 * One route of ours (not the plugin's wildcard) so that it declares its access like every other
 * route; the auth hook answers 404 when an /api path falls through to it.
 */
export function webRoutes(root = WEB_ROOT): FastifyPluginAsync {
  return async (app) => {
    const config = { access: UI_FILES_ACCESS };
    // The UI's files are not part of the API: the OpenAPI description leaves them out.
    const schema = { hide: true };
    if (!existsSync(`${root}/index.html`)) {
      app.get('/', { schema, config }, async (_request, reply) =>
        reply.type('text/html').send(NOT_BUILT_PAGE),
      );
      return;
    }
    await app.register(fastifyStatic, {
      root,
      serve: false,
      setHeaders: (res, path) => {
        res.setHeader(
          'cache-control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    app.get<{ Params: { '*': string } }>('/*', { schema, config }, (request, reply) =>
      // The path is canonical (no escapes, no dot segments) by the time the handler runs.
      reply.sendFile(request.params['*'] === '' ? 'index.html' : request.params['*']),
    );
  };
}
