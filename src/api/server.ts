import websocket from '@fastify/websocket';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { VigilError } from '../errors/catalogue.js';
import type { ApiServices } from './context.js';
import { installErrorHandling } from './errors.js';
import type { RouteAccess } from '../auth/permissions.js';
import { installAuth } from './auth-hooks.js';
import { OpenResponses } from './connections.js';
import {
  apiDescriptionRoutes,
  declareDocsAccess,
  registerApiDescription,
  serializeWithoutSchemas,
} from './openapi.js';
import { analyticsRoutes } from './routes/analytics.js';
import { sceneRoutes } from './routes/scene.js';
import { auditRoutes } from './routes/audit.js';
import { cameraRoutes } from './routes/cameras.js';
import { privacyRoutes } from './routes/privacy.js';
import { onvifRoutes } from './routes/onvif.js';
import { eventRoutes } from './routes/events.js';
import { approvalRoutes } from './routes/approvals.js';
import { evidenceRoutes } from './routes/evidence.js';
import { ruleRoutes } from './routes/rules.js';
import { exportRoutes } from './routes/exports.js';
import { healthRoutes } from './routes/health.js';
import { liveRoutes } from './routes/live.js';
import { mediaRoutes } from './routes/media.js';
import { redactedExportRoutes } from './routes/redacted-export.js';
import { metricsRoutes } from './routes/metrics.js';
import { notifyRoutes } from './routes/notify.js';
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

/**
 * A path the router cannot even decode (`%c0%af`, an overlong parameter) gets no route and no
 * hooks: it is answered here, in the catalogue's words. The WebSocket plugin closes an upgrade
 * request's socket only after the hooks ran, so such a socket is closed here, or it would stay
 * open for as long as the client likes (and hold up shutdown).
 */
function answerUnroutable(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (request.headers.upgrade !== undefined) {
    reply.raw.once('finish', () => request.raw.socket.destroy());
  }
  const answer =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new VigilError('REQUEST_INVALID', 'a path segment is longer than any id; see docs/ref/api.md')
      : new VigilError('PATH_NOT_CANONICAL', 'the path cannot be decoded; see docs/ref/api.md');
  void reply.code(answer.httpStatus).send(answer.toJSON());
}

/** Builds the HTTP API; tests call app.inject() on it without a socket. */
export async function buildServer(
  services: ApiServices,
  options: { https?: { key: Buffer; cert: Buffer } } = {},
): Promise<FastifyInstance> {
  // With `https` Fastify's instance is typed for an https.Server; routes and hooks are the same,
  // so the rest of Vigil keeps the http-typed instance.
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    // Requests are logged at info level by Fastify: too chatty for a video server's log, so the
    // HTTP logger starts at warn. The cast only narrows pino's richer generic type.
    loggerInstance: services.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Ajv coerces query strings to the declared types; unknown query parameters are ignored.
    ajv: { customOptions: { coerceTypes: true, allErrors: true, removeAdditional: false } },
    frameworkErrors: answerUnroutable,
  });
  installErrorHandling(app);
  serializeWithoutSchemas(app);
  // Every route as registered, with its access rule: the route-access test walks this table.
  const routes: RegisteredRoute[] = [];
  app.decorate('vigilRoutes', routes);
  app.addHook('onRoute', (route) => {
    declareDocsAccess(route);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      routes.push({ method: String(method), url: route.url, access: route.config?.access ?? null });
    }
  });
  // Open WebSockets and downloads end when the access that started them does (connections.ts):
  // its hooks go around the auth hook, which sets request.principal.
  const openResponses = new OpenResponses({
    store: services.auth.store,
    log: services.log.child({ component: 'http' }),
  });
  openResponses.installBeforeAuth(app);
  installAuth(app, { auth: services.auth, tls: services.http.tls, selfSigned: services.http.tlsSelfSigned });
  openResponses.installAfterAuth(app);
  // Live frames are small; a big message from a browser is a mistake or an attack.
  await app.register(websocket, { options: { maxPayload: BODY_LIMIT_BYTES } });
  openResponses.watchWebSockets(app.websocketServer);
  // A WebSocket upgrade refused by a hook (401, 403, 404) owns a socket that nothing else ends:
  // @fastify/websocket's clean-up hook comes after the auth hook and does not run when that
  // refused. Left open, each refused retry of a signed-out browser would keep a socket (and
  // keep server.close() waiting). Upgraded sockets are hijacked and never get here.
  // Timed by the route's pattern, never the URL (see HttpRequestSample): no route, no pattern.
  app.addHook('onResponse', async (request, reply) => {
    services.metrics.observeHttpRequest({
      method: request.method,
      route: request.is404 ? null : (request.routeOptions.url ?? null),
      statusCode: reply.statusCode,
      durationMs: reply.elapsedTime,
    });
  });
  app.addHook('onResponse', async (request) => {
    if (request.headers.upgrade?.toLowerCase() !== 'websocket') return;
    // app.inject()'s stand-in socket has no destroy().
    const socket = request.raw.socket as { destroy?: () => void } | undefined;
    socket?.destroy?.();
  });
  // Before the routes: it describes every route registered after it.
  await registerApiDescription(app, { version: services.version, tls: services.http.tls });
  // Each route plugin gets only the services it uses.
  const { auth, clock, cameras, playback } = services;
  const audit = { record: auth.record, recordMerged: auth.recordMerged };
  await app.register(
    sessionRoutes({ ...services.http, signIn: auth.signIn, sessionLifetimeMs: auth.store.sessionLifetimeMs }),
  );
  await app.register(userRoutes(auth.accounts));
  await app.register(auditRoutes(auth));
  await app.register(healthRoutes(services.system));
  await app.register(systemRoutes(services.system));
  await app.register(cameraRoutes(services.cameraAdmin));
  await app.register(onvifRoutes(services.onvif));
  const { maskedVideo } = services;
  await app.register(
    mediaRoutes({
      cameras,
      playback,
      clock,
      ffmpegPath: services.ffmpegPath,
      audit,
      masks: services.masks,
      maskedVideo,
    }),
  );
  await app.register(
    liveRoutes({
      cameras,
      playback,
      clock,
      audit,
      maskedVideo,
      webrtcStunServer: services.webrtcStunServer,
      ffmpegPath: services.ffmpegPath,
    }),
  );
  await app.register(
    redactedExportRoutes({
      cameras,
      playback,
      events: services.events.store,
      clock,
      ffmpeg: services.ffmpeg,
      audit,
      masks: services.masks,
    }),
  );
  await app.register(
    analyticsRoutes({
      cameras,
      motion: services.motion,
      cameraEvents: services.cameraEvents,
      analytics: services.analytics,
      events: services.events.store,
      clock,
    }),
  );
  await app.register(
    sceneRoutes({ cameras, counts: services.sceneCounts, clock, timeZone: services.timeZone }),
  );
  await app.register(
    eventRoutes({
      events: services.events,
      playback,
      audit,
      masks: services.masks,
      maskedVideo,
      approvals: services.approvals,
    }),
  );
  await app.register(privacyRoutes({ masks: services.masks, cameras, approvals: services.approvals }));
  await app.register(
    exportRoutes({
      exports: services.exports,
      cameras,
      clock,
      masks: services.masks,
      ffmpeg: services.ffmpeg,
      approvals: services.approvals,
    }),
  );
  await app.register(evidenceRoutes({ evidence: services.evidence, approvals: services.approvals }));
  await app.register(approvalRoutes({ approvals: services.approvals }));
  await app.register(ruleRoutes({ rules: services.rules, masks: services.masks, clock }));
  await app.register(notifyRoutes({ notify: services.notify, clock }));
  await app.register(
    wsRoutes({
      bus: services.events.bus,
      approvals: services.approvals,
      version: services.version,
      log: services.log,
    }),
  );
  await app.register(apiDescriptionRoutes());
  await app.register(metricsRoutes({ metrics: services.metrics, allowFrom: services.metricsAllowFrom }));
  await app.register(webRoutes());
  return app;
}
