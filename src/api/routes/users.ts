import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { PERMISSIONS, ROLES, type Permission } from '../../auth/permissions.js';
import type { AccountService } from '../../auth/accounts.js';
import { principalOf, requesterOf } from '../auth-hooks.js';
import { errors, json, noBody, type Tag } from '../openapi.js';
import { createdToken, tokenList, userList, userView } from '../response-schemas.js';
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

const users: Tag[] = ['users'];
const tokens: Tag[] = ['tokens'];

/** Accounts (administrators) and API tokens (everyone their own; administrators all). */
export function userRoutes(accounts: AccountService): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/users',
      {
        schema: {
          operationId: 'listUsers',
          summary: 'List users',
          tags: users,
          response: { 200: json(userList) },
        },
        config: { access: { permission: 'users.manage' } },
      },
      async () => ({ users: await accounts.listUsers() }),
    );

    app.post<{ Body: Static<typeof newUser> }>(
      '/api/users',
      {
        schema: {
          operationId: 'createUser',
          summary: 'Create a user',
          description: 'Names ignore case. `cameras`: the ids granted, or null or absent for all.',
          tags: users,
          body: newUser,
          response: {
            201: json(userView, 'The new user.'),
            ...errors('PASSWORD_WEAK', 'USER_EXISTS', 'AUTH_BUSY'),
          },
        },
        config: { access: { permission: 'users.manage', sessionOnly: true } },
      },
      async (request, reply) =>
        reply.code(201).send(await accounts.createUser(request.body, requesterOf(request))),
    );

    app.put<{ Params: Static<typeof idParams>; Body: Static<typeof userChanges> }>(
      '/api/users/:id',
      {
        schema: {
          operationId: 'updateUser',
          summary: 'Change a user',
          description: "Disabling ends the user's sessions; their tokens stop working while disabled.",
          tags: users,
          params: idParams,
          body: userChanges,
          response: { 200: json(userView, 'The user.'), ...errors('USER_NOT_FOUND', 'LAST_ADMIN') },
        },
        config: { access: { permission: 'users.manage', sessionOnly: true } },
      },
      async (request) => accounts.updateUser(request.params.id, request.body, requesterOf(request)),
    );

    app.delete<{ Params: Static<typeof idParams> }>(
      '/api/users/:id',
      {
        schema: {
          operationId: 'deleteUser',
          summary: 'Delete a user',
          description: 'Their sessions and tokens go too.',
          tags: users,
          params: idParams,
          response: { 204: noBody('Deleted.'), ...errors('USER_NOT_FOUND', 'LAST_ADMIN') },
        },
        config: { access: { permission: 'users.manage', sessionOnly: true } },
      },
      async (request, reply) => {
        await accounts.deleteUser(request.params.id, requesterOf(request));
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/tokens',
      {
        schema: {
          operationId: 'listTokens',
          summary: 'List API tokens',
          tags: tokens,
          response: { 200: json(tokenList) },
        },
        config: { access: { signedIn: true } },
      },
      async (request) => ({ tokens: await accounts.listTokens(principalOf(request)) }),
    );

    /** A token is shown once, in this response; only its hash is kept. */
    app.post<{ Body: Static<typeof newToken> }>(
      '/api/tokens',
      {
        schema: {
          operationId: 'createToken',
          summary: 'Create an API token',
          description:
            "The token is shown only in this answer (Vigil keeps its hash). `scopes` defaults to the user's " +
            'whole role; a scope beyond the role is refused.',
          tags: tokens,
          body: newToken,
          response: { 201: json(createdToken) },
        },
        config: { access: { signedIn: true, sessionOnly: true } },
      },
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
      {
        schema: {
          operationId: 'revokeToken',
          summary: 'Revoke an API token',
          description: "Your own; an administrator may revoke anyone's.",
          tags: tokens,
          params: idParams,
          response: { 204: noBody('Revoked.'), ...errors('TOKEN_NOT_FOUND') },
        },
        config: { access: { signedIn: true } },
      },
      async (request, reply) => {
        await accounts.revokeToken(principalOf(request), request.params.id, requesterOf(request));
        return reply.code(204).send();
      },
    );
  };
}
