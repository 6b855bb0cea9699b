import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { clearedSessionCookie, sessionCookie } from '../../auth/cookies.js';
import { hostProblem, type HostPolicy } from '../../auth/host-check.js';
import type { SignInService, StartedSession } from '../../auth/sign-in.js';
import { VigilError } from '../../errors/catalogue.js';
import { clientIp, principalOf, requesterOf } from '../auth-hooks.js';
import type { SessionResponse } from '../../contract/auth.js';
import { errors, json, noBody, type Tag } from '../openapi.js';
import { sessionResponse } from '../response-schemas.js';

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

const tags: Tag[] = ['session'];
const SET_COOKIE = { 'set-cookie': 'The session cookie (HttpOnly, SameSite=Strict).' };
const signedOut = noBody('Signed out; Set-Cookie clears the session cookie.');

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
        schema: {
          operationId: 'getSession',
          summary: 'Who is signed in',
          description: 'Also whether first-run setup is needed. `user` is null when nobody is signed in.',
          tags,
          response: { 200: json(sessionResponse) },
        },
        config: { access: { public: 'the UI asks who is signed in, and whether first-run setup is needed' } },
      },
      async (request): Promise<SessionResponse> => signIn.current(request.principal, request.sessionId),
    );

    /** First run: the first administrator, from this machine only, then signed in. */
    app.post<{ Body: Credentials }>(
      '/api/setup',
      {
        onRequest: ownHostOnly,
        schema: {
          operationId: 'setUp',
          summary: 'Create the first administrator',
          description:
            'First run: creates the first administrator and signs them in. Only from the machine ' +
            'Vigil runs on, and only while no user exists.',
          tags,
          body: credentials,
          response: {
            201: json(sessionResponse, 'The administrator, signed in.', SET_COOKIE),
            ...errors('PASSWORD_WEAK', 'FORBIDDEN', 'HOST_NOT_ALLOWED', 'SETUP_COMPLETE', 'AUTH_BUSY'),
          },
        },
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
      {
        onRequest: ownHostOnly,
        schema: {
          operationId: 'signIn',
          summary: 'Sign in',
          description:
            'With a name and password, and the 6-digit code when two-step sign-in is on. Failures are ' +
            'throttled per account and per client address.',
          tags,
          body: credentials,
          response: {
            200: json(sessionResponse, 'Signed in.', SET_COOKIE),
            ...errors('AUTH_FAILED', 'TOTP_REQUIRED', 'HOST_NOT_ALLOWED', 'LOGIN_THROTTLED', 'AUTH_BUSY'),
          },
        },
        config: { access: { public: 'signing in' } },
      },
      async (request, reply) =>
        reply.send(withCookie(reply, await signIn.signIn(request.body, client(request)))),
    );

    app.delete(
      '/api/session',
      {
        schema: {
          operationId: 'signOut',
          summary: 'Sign out this browser',
          tags,
          response: { 204: signedOut },
        },
        config: { access: { signedIn: true, sessionOnly: true } },
      },
      async (request, reply) => {
        await signIn.signOut(principalOf(request), request.sessionId, clientIp(request));
        return reply.header('set-cookie', clearedSessionCookie(secure)).code(204).send();
      },
    );

    app.post(
      '/api/session/logout-everywhere',
      {
        schema: {
          operationId: 'signOutEverywhere',
          summary: 'Sign out everywhere',
          description:
            "Ends every session of the caller, this one included, and revokes all the caller's API tokens.",
          tags,
          response: { 204: signedOut },
        },
        config: { access: { signedIn: true, sessionOnly: true } },
      },
      async (request, reply) => {
        await signIn.signOutEverywhere(principalOf(request), clientIp(request));
        return reply.header('set-cookie', clearedSessionCookie(secure)).code(204).send();
      },
    );

    app.post<{ Body: PasswordChange }>(
      '/api/session/password',
      {
        schema: {
          operationId: 'changePassword',
          summary: 'Change your password',
          description: "The caller's other sessions end.",
          tags,
          body: passwordChange,
          response: {
            204: noBody('Changed.'),
            ...errors('AUTH_FAILED', 'PASSWORD_WEAK', 'AUTH_BUSY'),
          },
        },
        config: { access: { signedIn: true, sessionOnly: true } },
      },
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
