import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sessionIdFromCookies } from '../auth/cookies.js';
import { securityHeaders } from '../auth/headers.js';
import { authorize, type Principal, type RouteAccess } from '../auth/permissions.js';
import type { AuthServices } from '../auth/service.js';
import { bearerToken, CSRF_HEADER, csrfTokenValid, isStateChanging, originAllowed } from '../auth/tokens.js';
import { VigilError } from '../errors/catalogue.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: every /api route declares it (test/integration/route-access.test.ts). */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** The login session's id when the request came with its cookie. */
    sessionId: string | null;
  }
}

export interface AuthHookOptions {
  auth: AuthServices;
  /** Served over TLS: cookies are Secure and __Host- prefixed. */
  tls: boolean;
  selfSigned: boolean;
}

const NO_ADMIN_YET =
  'no administrator exists yet: open the web UI on this machine to create one, or run ' +
  '`vigil user add NAME --role admin --password-stdin`';

/** The identity a request proves: an API token in Authorization, else a login session cookie. */
async function identify(request: FastifyRequest, options: AuthHookOptions): Promise<void> {
  const token = bearerToken(request.headers.authorization);
  if (token !== null) {
    const resolved = await options.auth.store.resolveToken(token);
    if (!resolved) {
      throw new VigilError('AUTH_FAILED', 'the API token is unknown, revoked or expired; create a new one');
    }
    request.principal = resolved.principal;
    return;
  }
  const sessionId = sessionIdFromCookies(request.headers.cookie, options.tls);
  if (sessionId === null) return;
  const session = await options.auth.store.resolveSession(sessionId);
  if (!session) return;
  request.principal = session.principal;
  request.sessionId = sessionId;
}

/**
 * A browser's own requests ride on the session cookie, so they must prove they come from Vigil's
 * pages: the CSRF token on every state change, and the Origin on state changes and WebSocket
 * upgrades (a page elsewhere can open a WebSocket with our cookie, and WebSockets skip CORS).
 */
function checkBrowserOrigin(request: FastifyRequest): void {
  if (request.principal?.via !== 'session' || request.sessionId === null) return;
  const upgrade = request.headers.upgrade?.toLowerCase() === 'websocket';
  if (!isStateChanging(request.method) && !upgrade) return;
  if (!originAllowed(request.headers.origin, request.headers.host)) {
    throw new VigilError('CSRF_INVALID', `requests from ${String(request.headers.origin)} are not accepted`);
  }
  if (!upgrade) {
    const presented = request.headers[CSRF_HEADER];
    if (!csrfTokenValid(request.sessionId, typeof presented === 'string' ? presented : undefined)) {
      throw new VigilError(
        'CSRF_INVALID',
        'the request lacks the CSRF token of your session; reload the page',
      );
    }
  }
}

/**
 * Authentication and authorisation for every route: identify the caller, then, before the
 * handler, check the route's declared access (fail closed: an /api route without a declaration
 * answers 500 and a test lists it). The UI's static files are public.
 */
export function installAuth(app: FastifyInstance, options: AuthHookOptions): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('sessionId', null);
  let adminExists = false;
  // Everything happens before the body is read or validated: a caller without the permission
  // learns nothing about a route, not even what its body should look like.
  app.addHook('onRequest', async (request) => {
    await identify(request, options);
    if (!request.url.startsWith('/api/')) return;
    const route = request.routeOptions.url;
    // No route: the not-found handler answers. The UI's catch-all file route is a 404 for /api paths.
    if (route === undefined) return;
    if (route === '/*') {
      throw new VigilError(
        'NOT_FOUND',
        `no route ${request.method} ${request.url.split('?')[0]}; see docs/ref/api.md`,
      );
    }
    const access = request.routeOptions.config.access;
    if (!access) throw new VigilError('INTERNAL', `route ${route} declares no access rule`);
    checkBrowserOrigin(request);
    if (request.principal === null && !('public' in access)) {
      adminExists ||= (await options.auth.store.countUsers()) > 0;
      if (!adminExists) throw new VigilError('AUTH_REQUIRED', NO_ADMIN_YET);
    }
    authorize(request.principal, access, { params: request.params, query: request.query });
  });
  const headers = securityHeaders({ tls: options.tls, selfSigned: options.selfSigned });
  app.addHook('onSend', async (_request, reply) => {
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  });
}

/** The principal of a request whose route requires one (the hook has checked it). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new VigilError('AUTH_REQUIRED', 'sign in first');
  return request.principal;
}

/** The client's address as the audit log records it. */
export function clientIp(request: FastifyRequest): string {
  return request.ip;
}
