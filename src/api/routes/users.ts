import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { PERMISSIONS, ROLES, type Permission } from '../../auth/permissions.js';
import type { AccountService } from '../../auth/accounts.js';
import { principalOf, requesterOf } from '../auth-hooks.js';
import { cameraIdParams } from '../schemas.js';

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

/** Accounts (administrators) and API tokens (everyone their own; administrators all). */
export function userRoutes(accounts: AccountService): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/users', { config: { access: { permission: 'users.manage' } } }, async () => ({
      users: await accounts.listUsers(),
    }));

    app.post<{ Body: Static<typeof newUser> }>(
      '/api/users',
      { schema: { body: newUser }, config: { access: { permission: 'users.manage', sessionOnly: true } } },
      async (request, reply) =>
        reply.code(201).send(await accounts.createUser(request.body, requesterOf(request))),
    );

    app.put<{ Params: Static<typeof idParams>; Body: Static<typeof userChanges> }>(
      '/api/users/:id',
      {
        schema: { params: idParams, body: userChanges },
        config: { access: { permission: 'users.manage', sessionOnly: true } },
      },
      async (request) => accounts.updateUser(request.params.id, request.body, requesterOf(request)),
    );

    app.delete<{ Params: Static<typeof idParams> }>(
      '/api/users/:id',
      { schema: { params: idParams }, config: { access: { permission: 'users.manage', sessionOnly: true } } },
      async (request, reply) => {
        await accounts.deleteUser(request.params.id, requesterOf(request));
        return reply.code(204).send();
      },
    );

    app.get('/api/tokens', { config: { access: { signedIn: true } } }, async (request) => ({
      tokens: await accounts.listTokens(principalOf(request)),
    }));

    /** A token is shown once, in this response; only its hash is kept. */
    app.post<{ Body: Static<typeof newToken> }>(
      '/api/tokens',
      { schema: { body: newToken }, config: { access: { signedIn: true, sessionOnly: true } } },
      async (request, reply) => {
        const { label, scopes, expiresAtMs } = request.body;
        const created = await accounts.createToken(
          principalOf(request),
          {
            label,
            ...(scopes ? { scopes: scopes as Permission[] } : {}),
            ...(expiresAtMs !== undefined ? { expiresAtMs } : {}),
          },
          requesterOf(request),
        );
        return reply.code(201).send(created);
      },
    );

    app.delete<{ Params: Static<typeof idParams> }>(
      '/api/tokens/:id',
      { schema: { params: idParams }, config: { access: { signedIn: true } } },
      async (request, reply) => {
        await accounts.revokeToken(principalOf(request), request.params.id, requesterOf(request));
        return reply.code(204).send();
      },
    );
  };
}
