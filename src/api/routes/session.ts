import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { clearedSessionCookie, sessionCookie } from '../../auth/cookies.js';
import { hostProblem, type HostPolicy } from '../../auth/host-check.js';
import type { SignInService, StartedSession } from '../../auth/sign-in.js';
import { VigilError } from '../../errors/catalogue.js';
import { clientIp, principalOf, requesterOf } from '../auth-hooks.js';
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

/** What sign-in, first-run setup and the session routes use. */
export interface SessionRouteDeps {
  signIn: SignInService;
  /** How long a sign-in session lasts at most (the cookie's Max-Age). */
  sessionLifetimeMs: number;
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
  const { signIn } = ctx;
  const secure = ctx.tls;

  function client(request: FastifyRequest) {
    return { ip: clientIp(request), userAgent: request.headers['user-agent'] ?? null };
  }

  function withCookie(reply: FastifyReply, started: StartedSession): SessionResponse {
    void reply.header(
      'set-cookie',
      sessionCookie(started.sessionId, { secure, maxAgeMs: ctx.sessionLifetimeMs }),
    );
    return started.response;
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
      async (request): Promise<SessionResponse> => signIn.current(request.principal, request.sessionId),
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
        const started = await signIn.setupFirstAdmin(
          request.body.name,
          request.body.password,
          client(request),
        );
        const session = withCookie(reply, started);
        await ctx.onFirstAdmin();
        return reply.code(201).send(session);
      },
    );

    app.post<{ Body: Credentials }>(
      '/api/session',
      { onRequest: ownHostOnly, schema: { body: credentials }, config: { access: { public: 'signing in' } } },
      async (request, reply) =>
        reply.send(withCookie(reply, await signIn.signIn(request.body, client(request)))),
    );

    app.delete(
      '/api/session',
      { config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        await signIn.signOut(principalOf(request), request.sessionId, clientIp(request));
        return reply.header('set-cookie', clearedSessionCookie(secure)).code(204).send();
      },
    );

    app.post(
      '/api/session/logout-everywhere',
      { config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        await signIn.signOutEverywhere(principalOf(request), clientIp(request));
        return reply.header('set-cookie', clearedSessionCookie(secure)).code(204).send();
      },
    );

    app.post<{ Body: PasswordChange }>(
      '/api/session/password',
      { schema: { body: passwordChange }, config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        await signIn.changePassword(
          principalOf(request),
          request.body,
          request.sessionId,
          requesterOf(request),
        );
        return reply.code(204).send();
      },
    );
  };
}
