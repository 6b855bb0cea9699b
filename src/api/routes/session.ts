import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { clearedSessionCookie, sessionCookie } from '../../auth/cookies.js';
import { permissionsOf, type Principal } from '../../auth/permissions.js';
import { hostProblem } from '../../auth/host-check.js';
import { throttledError } from '../../auth/rate-limit.js';
import { principalFor, type UserRecord } from '../../auth/store.js';
import { csrfTokenFor } from '../../auth/tokens.js';
import { ANONYMOUS_ACTOR, actorOf, auditTarget } from '../../audit/entry.js';
import { VigilError } from '../../errors/catalogue.js';
import { clientIp, principalOf } from '../auth-hooks.js';
import type { HostPolicy } from '../../auth/host-check.js';
import type { AuthServices } from '../../auth/service.js';
import type { Clock } from '../../time/clock.js';
import type { SessionResponse } from '../../contract/auth.js';

const credentials = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    totp: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
  },
  { additionalProperties: false },
);
type Credentials = Static<typeof credentials>;

const passwordChange = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
type PasswordChange = Static<typeof passwordChange>;

function userView(user: UserRecord, principal: Principal) {
  return {
    name: user.name,
    role: user.role,
    cameras: user.cameras,
    totpEnabled: user.totpEnabled,
    permissions: [...permissionsOf(principal)],
  };
}

/** What sign-in, first-run setup and the session routes use. */
export interface SessionRouteDeps {
  auth: Pick<AuthServices, 'store' | 'throttle' | 'record'>;
  clock: Clock;
  /** Served over TLS (cookies are Secure). */
  tls: boolean;
  /** Where Vigil listens and server.allowedHosts: setup and sign-in answer only to these names (DNS rebinding). */
  hosts: HostPolicy;
  /** Whether a socket address is this machine (first-run setup is only allowed from it). */
  isLoopback(address: string | undefined): boolean;
  /** Called once the first administrator exists: Vigil starts listening where configured. */
  onFirstAdmin(): Promise<void>;
}

export function sessionRoutes(ctx: SessionRouteDeps): FastifyPluginAsync {
  const { auth } = ctx;
  const secure = ctx.tls;

  async function startSession(
    request: FastifyRequest,
    reply: FastifyReply,
    user: UserRecord,
  ): Promise<SessionResponse> {
    const created = await auth.store.createSession(user.id, {
      ip: clientIp(request),
      userAgent: request.headers['user-agent'] ?? null,
    });
    void reply.header(
      'set-cookie',
      sessionCookie(created.sessionId, { secure, maxAgeMs: auth.store.sessionLifetimeMs }),
    );
    return { setupRequired: false, user: userView(user, principalFor(user)), csrfToken: created.csrfToken };
  }

  /**
   * Setup and sign-in answer only to this Vigil's own names (DNS rebinding). Checked on request,
   * before the body is read or anything is counted.
   */
  async function ownHostOnly(request: FastifyRequest): Promise<void> {
    const problem = hostProblem(
      {
        host: request.headers.host,
        target: request.raw.url,
        localAddress: request.socket.localAddress,
        localPort: request.socket.localPort,
        tls: secure,
      },
      ctx.hosts,
    );
    if (problem) throw new VigilError('HOST_NOT_ALLOWED', problem, { host: request.headers.host ?? null });
  }

  return async (app) => {
    app.get(
      '/api/session',
      {
        config: { access: { public: 'the UI asks who is signed in, and whether first-run setup is needed' } },
      },
      async (request): Promise<SessionResponse> => {
        const setupRequired = (await auth.store.countUsers()) === 0;
        const principal = request.principal;
        if (!principal) return { setupRequired, user: null, csrfToken: null };
        const user = await auth.store.getUser(principal.userId);
        if (!user) return { setupRequired, user: null, csrfToken: null };
        return {
          setupRequired,
          user: userView(user, principal),
          csrfToken: request.sessionId ? csrfTokenFor(request.sessionId) : null,
        };
      },
    );

    /** First run: the first administrator, from this machine only, then signed in. */
    app.post<{ Body: Credentials }>(
      '/api/setup',
      {
        onRequest: ownHostOnly,
        schema: { body: credentials },
        config: { access: { public: 'first-run setup, before any account exists; from localhost only' } },
      },
      async (request, reply) => {
        if (!ctx.isLoopback(request.socket.remoteAddress)) {
          throw new VigilError(
            'FORBIDDEN',
            'the first administrator can only be created from the machine Vigil runs on',
          );
        }
        const user = await auth.store.createFirstAdmin(request.body.name, request.body.password);
        auth.record({
          actor: { kind: 'user', name: user.name },
          action: 'setup.first-admin',
          target: auditTarget.user(user.name),
          ip: clientIp(request),
        });
        const session = await startSession(request, reply, user);
        await ctx.onFirstAdmin();
        return reply.code(201).send(session);
      },
    );

    app.post<{ Body: Credentials }>(
      '/api/session',
      { onRequest: ownHostOnly, schema: { body: credentials }, config: { access: { public: 'signing in' } } },
      async (request, reply) => {
        const ip = clientIp(request);
        const attempt = { account: request.body.name, ip };
        // The attempt counts against both limits from here, before the slow hash: parallel
        // guesses cannot all pass the check before the first of them has failed.
        const started = auth.throttle.begin(attempt, ctx.clock.nowMs());
        if (!started.allowed) throw throttledError(started.retryAfterMs);
        const { reservation } = started;
        const fail = (reason: string, actorName: string | null) => {
          // The wait counts from the answer, not from the start of the (queued) hash.
          const outcome = reservation.failure(ctx.clock.nowMs());
          const actor = actorName ? { kind: 'user' as const, name: actorName } : ANONYMOUS_ACTOR;
          auth.record({ actor, action: 'login.failure', details: { reason }, ip });
          if (outcome.lockoutStarted.account || outcome.lockoutStarted.address) {
            auth.record({ actor, action: 'login.lockout', details: { ...outcome.lockoutStarted }, ip });
          }
          return new VigilError('AUTH_FAILED', 'wrong user name or password');
        };
        try {
          // AUTH_BUSY (hash queue full) passes through: nothing was checked, nothing is counted.
          const checked = await auth.store.checkPassword(request.body.name, request.body.password);
          if (!checked.ok) throw fail(checked.reason, checked.user?.name ?? null);
          if (checked.totpRequired) {
            if (!request.body.totp) {
              throw new VigilError('TOTP_REQUIRED', 'enter the 6-digit code from your authenticator app');
            }
            const totp = await auth.store.checkTotp(checked.user.id, request.body.totp);
            if (!totp.ok) throw fail(`totp-${totp.reason}`, checked.user.name);
          }
          reservation.success();
          auth.record({ actor: { kind: 'user', name: checked.user.name }, action: 'login.success', ip });
          return reply.send(await startSession(request, reply, checked.user));
        } finally {
          // Answers that settled nothing (busy, second factor still to come, an error) free the place.
          reservation.release();
        }
      },
    );

    app.delete(
      '/api/session',
      { config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        if (request.sessionId) await auth.store.endSession(request.sessionId);
        auth.record({ actor: actorOf(principalOf(request)), action: 'logout', ip: clientIp(request) });
        return reply.header('set-cookie', clearedSessionCookie(secure)).code(204).send();
      },
    );

    app.post(
      '/api/session/logout-everywhere',
      { config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        const principal = principalOf(request);
        const ended = await auth.store.logoutEverywhere(principal.userId);
        await auth.store.revokeAllTokens(principal.userId);
        auth.record({
          actor: actorOf(principal),
          action: 'logout.everywhere',
          details: { sessions: ended },
          ip: clientIp(request),
        });
        return reply.header('set-cookie', clearedSessionCookie(secure)).code(204).send();
      },
    );

    app.post<{ Body: PasswordChange }>(
      '/api/session/password',
      { schema: { body: passwordChange }, config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        const principal = principalOf(request);
        const checked = await auth.store.checkPassword(principal.name, request.body.currentPassword);
        if (!checked.ok) throw new VigilError('AUTH_FAILED', 'the current password is wrong');
        await auth.store.setPassword(principal.userId, request.body.newPassword, {
          ...(request.sessionId ? { keepSessionId: request.sessionId } : {}),
        });
        auth.record({
          actor: actorOf(principal),
          action: 'user.password',
          target: auditTarget.user(principal.name),
          ip: clientIp(request),
        });
        return reply.code(204).send();
      },
    );
  };
}
