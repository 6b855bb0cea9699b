import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { installErrorHandling } from './errors.js';
import type { RouteAccess } from '../auth/permissions.js';
import { installAuth } from './auth-hooks.js';
import { analyticsRoutes } from './routes/analytics.js';
import { auditRoutes } from './routes/audit.js';
import { cameraRoutes } from './routes/cameras.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { liveRoutes } from './routes/live.js';
import { mediaRoutes } from './routes/media.js';
import { sessionRoutes } from './routes/session.js';
import { systemRoutes } from './routes/system.js';
import { userRoutes } from './routes/users.js';
import { webRoutes } from './routes/web.js';
import { wsRoutes } from './routes/ws.js';

/** Request bodies are camera definitions and small commands; anything bigger is a mistake or an attack. */
const BODY_LIMIT_BYTES = 64 * 1024;

export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    vigilRoutes: RegisteredRoute[];
  }
}

/** Builds the HTTP API; tests call app.inject() on it without a socket. */
export async function buildServer(
  ctx: ApiContext,
  options: { https?: { key: Buffer; cert: Buffer } } = {},
): Promise<FastifyInstance> {
  // With `https` Fastify's instance is typed for an https.Server; routes and hooks are the same,
  // so the rest of Vigil keeps the http-typed instance.
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    // Requests are logged at info level by Fastify: too chatty for a video server's log, so the
    // HTTP logger starts at warn. The cast only narrows pino's richer generic type.
    loggerInstance: ctx.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Ajv coerces query strings to the declared types; unknown query parameters are ignored.
    ajv: { customOptions: { coerceTypes: true, allErrors: true, removeAdditional: false } },
  });
  installErrorHandling(app);
  // Every route as registered, with its access rule: the route-access test walks this table.
  const routes: RegisteredRoute[] = [];
  app.decorate('vigilRoutes', routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      routes.push({ method: String(method), url: route.url, access: route.config?.access ?? null });
    }
  });
  installAuth(app, { auth: ctx.auth, tls: ctx.tls, selfSigned: ctx.tlsSelfSigned });
  // Live frames are small; a big message from a browser is a mistake or an attack.
  await app.register(websocket, { options: { maxPayload: BODY_LIMIT_BYTES } });
  await app.register(sessionRoutes(ctx));
  await app.register(userRoutes(ctx));
  await app.register(auditRoutes(ctx));
  await app.register(healthRoutes(ctx));
  await app.register(systemRoutes(ctx));
  await app.register(cameraRoutes(ctx));
  await app.register(mediaRoutes(ctx));
  await app.register(liveRoutes(ctx));
  await app.register(analyticsRoutes(ctx));
  await app.register(eventRoutes(ctx));
  await app.register(wsRoutes(ctx));
  await app.register(webRoutes());
  return app;
}
