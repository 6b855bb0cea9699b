import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { PERMISSIONS, ROLES, type Permission } from '../../auth/permissions.js';
import type { ApiTokenRecord, UserRecord } from '../../auth/store.js';
import { actorOf, auditTarget } from '../../audit/entry.js';
import { VigilError } from '../../errors/catalogue.js';
import { clientIp, principalOf } from '../auth-hooks.js';
import type { AuthServices } from '../../auth/service.js';
import { cameraIdParams } from '../schemas.js';
import type { TokenView, UserView } from '../../contract/auth.js';

const role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const cameras = Type.Union([Type.Null(), Type.Array(cameraIdParams.properties.id, { maxItems: 1000 })]);
const newUser = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    role,
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    cameras: Type.Optional(cameras),
  },
  { additionalProperties: false },
);
const userChanges = Type.Object(
  { role: Type.Optional(role), disabled: Type.Optional(Type.Boolean()), cameras: Type.Optional(cameras) },
  { additionalProperties: false },
);
const idParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const newToken = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Optional(Type.Array(Type.Union(PERMISSIONS.map((p) => Type.Literal(p))), { maxItems: 20 })),
    expiresAtMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

function userView(user: UserRecord): UserView {
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    cameras: user.cameras,
    disabled: user.disabled,
    totpEnabled: user.totpEnabled,
    createdAtMs: user.createdAtMs,
    updatedAtMs: user.updatedAtMs,
  };
}

function tokenView(token: ApiTokenRecord, userName: string): TokenView {
  return {
    id: token.id,
    userName,
    label: token.label,
    scopes: token.scopes,
    createdAtMs: token.createdAtMs,
    lastUsedAtMs: token.lastUsedAtMs,
    expiresAtMs: token.expiresAtMs,
    revokedAtMs: token.revokedAtMs,
  };
}

/** Accounts (administrators) and API tokens (everyone their own; administrators all). */
export function userRoutes(auth: Pick<AuthServices, 'store' | 'record'>): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/users', { config: { access: { permission: 'users.manage' } } }, async () => ({
      users: (await auth.store.listUsers()).map(userView),
    }));

    app.post<{ Body: Static<typeof newUser> }>(
      '/api/users',
      { schema: { body: newUser }, config: { access: { permission: 'users.manage', sessionOnly: true } } },
      async (request, reply) => {
        const user = await auth.store.createUser(request.body);
        auth.record({
          actor: actorOf(principalOf(request)),
          action: 'user.create',
          target: auditTarget.user(user.name),
          details: { role: user.role, cameras: user.cameras },
          ip: clientIp(request),
        });
        return reply.code(201).send(userView(user));
      },
    );

    app.put<{ Params: Static<typeof idParams>; Body: Static<typeof userChanges> }>(
      '/api/users/:id',
      {
        schema: { params: idParams, body: userChanges },
        config: { access: { permission: 'users.manage', sessionOnly: true } },
      },
      async (request) => {
        const before = await auth.store.getUser(request.params.id);
        if (!before) throw new VigilError('USER_NOT_FOUND', `no user ${request.params.id}`);
        const after = await auth.store.updateUser(request.params.id, request.body);
        auth.record({
          actor: actorOf(principalOf(request)),
          action: 'user.update',
          target: auditTarget.user(after.name),
          details: {
            before: { role: before.role, disabled: before.disabled, cameras: before.cameras },
            after: { role: after.role, disabled: after.disabled, cameras: after.cameras },
          },
          ip: clientIp(request),
        });
        return userView(after);
      },
    );

    app.delete<{ Params: Static<typeof idParams> }>(
      '/api/users/:id',
      { schema: { params: idParams }, config: { access: { permission: 'users.manage', sessionOnly: true } } },
      async (request, reply) => {
        const user = await auth.store.getUser(request.params.id);
        if (!user) throw new VigilError('USER_NOT_FOUND', `no user ${request.params.id}`);
        await auth.store.deleteUser(user.id);
        auth.record({
          actor: actorOf(principalOf(request)),
          action: 'user.delete',
          target: auditTarget.user(user.name),
          ip: clientIp(request),
        });
        return reply.code(204).send();
      },
    );

    app.get('/api/tokens', { config: { access: { signedIn: true } } }, async (request) => {
      const principal = principalOf(request);
      const all = principal.role === 'admin';
      const users = new Map((await auth.store.listUsers()).map((u) => [u.id, u.name]));
      const tokens = await auth.store.listTokens(all ? undefined : principal.userId);
      return { tokens: tokens.map((t) => tokenView(t, users.get(t.userId) ?? '?')) };
    });

    /** A token is shown once, in this response; only its hash is kept. */
    app.post<{ Body: Static<typeof newToken> }>(
      '/api/tokens',
      { schema: { body: newToken }, config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        const principal = principalOf(request);
        const created = await auth.store.createToken(principal.userId, {
          label: request.body.label,
          ...(request.body.scopes ? { scopes: request.body.scopes as Permission[] } : {}),
          ...(request.body.expiresAtMs !== undefined ? { expiresAtMs: request.body.expiresAtMs } : {}),
        });
        auth.record({
          actor: actorOf(principal),
          action: 'token.create',
          target: auditTarget.token(created.record.id),
          details: { label: created.record.label, scopes: created.record.scopes },
          ip: clientIp(request),
        });
        return reply.code(201).send({ token: created.token, ...tokenView(created.record, principal.name) });
      },
    );

    app.delete<{ Params: Static<typeof idParams> }>(
      '/api/tokens/:id',
      { schema: { params: idParams }, config: { access: { signedIn: true } } },
      async (request, reply) => {
        const principal = principalOf(request);
        const revoked = await auth.store.revokeToken(
          request.params.id,
          principal.role === 'admin' ? undefined : principal.userId,
        );
        auth.record({
          actor: actorOf(principal),
          action: 'token.revoke',
          target: auditTarget.token(revoked.id),
          ip: clientIp(request),
        });
        return reply.code(204).send();
      },
    );
  };
}
