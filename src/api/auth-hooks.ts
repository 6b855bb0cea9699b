import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../approvals/approval-service.js';
import { actorOf, type AuditRequester } from '../audit/entry.js';
import { sessionIdFromCookies } from '../auth/cookies.js';
import { securityHeaders } from '../auth/headers.js';
import { authorize, type Principal, type RouteAccess } from '../auth/permissions.js';
import type { AuthServices } from '../auth/service.js';
import { bearerToken, CSRF_HEADER, csrfTokenValid, isStateChanging, originAllowed } from '../auth/tokens.js';
import { VigilError } from '../errors/catalogue.js';
import { noRoute } from './errors.js';
import { pathOf, requestTargetProblem } from './request-target.js';

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

/** What the UI's file route declares: the hook answers 404 for API paths that fall through to it. */
export const UI_FILES_ACCESS: RouteAccess = { public: "the web UI's own files" };

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/**
 * Authentication and authorisation for every request, decided on the route the router matched,
 * never on the raw URL: a path not spelled canonically is refused first (so the router and this
 * check cannot read two different paths), then the caller is identified, then the matched
 * route's declared access is enforced. Fail closed: a route without a declaration answers 500
 * and a test lists it. Nothing here reads the body, and no handler runs unless this passed.
 */
export function installAuth(app: FastifyInstance, options: AuthHookOptions): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('sessionId', null);
  let adminExists = false;
  // Everything happens before the body is read or validated: a caller without the permission
  // learns nothing about a route, not even what its body should look like.
  app.addHook('onRequest', async (request) => {
    const problem = requestTargetProblem(request.raw.url);
    if (problem !== null) throw new VigilError('PATH_NOT_CANONICAL', `${problem}; see docs/ref/api.md`);
    await identify(request, options);
    // No route matched: the not-found handler answers 404 and no handler runs.
    if (request.is404 || request.routeOptions.url === undefined) return;
    const access = request.routeOptions.config.access;
    if (!access) {
      throw new VigilError('INTERNAL', `route ${request.routeOptions.url} declares no access rule`);
    }
    const path = pathOf(request.raw.url ?? '/');
    if (access === UI_FILES_ACCESS && isApiPath(path)) {
      throw noRoute(request.method, path);
    }
    checkBrowserOrigin(request);
    if (request.principal === null && !('public' in access)) {
      adminExists ||= (await options.auth.store.countUsers()) > 0;
      if (!adminExists) throw new VigilError('AUTH_REQUIRED', NO_ADMIN_YET);
    }
    authorize(request.principal, access, { params: request.params, query: request.query, ip: request.ip });
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

/** Who made the request, for the audit entry of the change it asks for. */
export function requesterOf(request: FastifyRequest): AuditRequester {
  return { actor: actorOf(principalOf(request)), ip: clientIp(request) };
}

/** The client's address as the audit log records it. */
/** Who is asking, as the services that audit and approve take it. */
export function callerOf(request: FastifyRequest): Caller {
  return { principal: principalOf(request), ip: clientIp(request) };
}

export function clientIp(request: FastifyRequest): string {
  return request.ip;
}
