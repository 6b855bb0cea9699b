import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ApprovalService } from '../../approvals/approval-service.js';
import type { ApprovalList, ApprovalState, ApprovalView } from '../../contract/approvals.js';
import { callerOf, principalOf } from '../auth-hooks.js';
import { errors, json, type Tag } from '../openapi.js';
import { approvalList, approvalView } from '../response-schemas.js';

const tags: Tag[] = ['approvals'];

const idParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The request id.' }),
});
type IdParams = Static<typeof idParams>;

const listQuery = Type.Object({
  state: Type.Optional(
    Type.Unsafe<ApprovalState>(
      Type.String({
        enum: ['pending', 'approved', 'refused', 'cancelled', 'expired', 'failed'],
        description: 'Only requests in this state.',
      }),
    ),
  ),
});
type ListQuery = Static<typeof listQuery>;

const refuseBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Why: required, audited, shown to the requester.',
    }),
  },
  { additionalProperties: false },
);
type RefuseBody = Static<typeof refuseBody>;

const decided = errors('APPROVAL_NOT_FOUND', 'APPROVAL_NOT_PENDING', 'APPROVAL_SELF', 'FORBIDDEN');

/** What the approval routes use. */
export interface ApprovalRouteDeps {
  approvals: ApprovalService;
}

/**
 * Four-eyes approval. Any signed-in user reaches these routes; what they see and may decide
 * depends on the permission of each request's action (checked in the service, per request and
 * at the moment of deciding). Deciding needs a signed-in person: API tokens cannot approve.
 */
export function approvalRoutes(ctx: ApprovalRouteDeps): FastifyPluginAsync {
  const { approvals } = ctx;
  return async (app) => {
    app.get<{ Querystring: ListQuery }>(
      '/api/approvals',
      {
        schema: {
          operationId: 'listApprovals',
          summary: 'List approval requests',
          description:
            "Requests the caller made, and those they may decide (they hold the action's permission on its camera); newest first, at most 500.",
          tags,
          querystring: listQuery,
          response: { 200: json(approvalList) },
        },
        config: { access: { signedIn: true } },
      },
      async (request): Promise<ApprovalList> => ({
        requests: await approvals.list(
          principalOf(request),
          request.query.state !== undefined ? { state: request.query.state } : {},
        ),
      }),
    );

    app.get<{ Params: IdParams }>(
      '/api/approvals/:id',
      {
        schema: {
          operationId: 'getApproval',
          summary: 'One approval request',
          tags,
          params: idParams,
          response: { 200: json(approvalView), ...errors('APPROVAL_NOT_FOUND') },
        },
        config: { access: { signedIn: true } },
      },
      async (request): Promise<ApprovalView> => approvals.get(principalOf(request), request.params.id),
    );

    app.post<{ Params: IdParams }>(
      '/api/approvals/:id/approve',
      {
        schema: {
          operationId: 'approveRequest',
          summary: 'Approve a request',
          description:
            "A user other than the requester, holding the action's permission on its camera now, approves: the " +
            'action runs at once as the requester. The answer is the request, `approved` (with the result) or ' +
            '`failed`.',
          tags,
          params: idParams,
          response: { 200: json(approvalView), ...decided },
        },
        config: { access: { signedIn: true, sessionOnly: true } },
      },
      async (request): Promise<ApprovalView> => approvals.approve(callerOf(request), request.params.id),
    );

    app.post<{ Params: IdParams; Body: RefuseBody }>(
      '/api/approvals/:id/refuse',
      {
        schema: {
          operationId: 'refuseRequest',
          summary: 'Refuse a request',
          tags,
          params: idParams,
          body: refuseBody,
          response: { 200: json(approvalView), ...decided },
        },
        config: { access: { signedIn: true, sessionOnly: true } },
      },
      async (request): Promise<ApprovalView> =>
        approvals.refuse(callerOf(request), request.params.id, request.body.reason),
    );

    app.post<{ Params: IdParams }>(
      '/api/approvals/:id/cancel',
      {
        schema: {
          operationId: 'cancelRequest',
          summary: 'Cancel your request',
          description: 'The requester (or an administrator) withdraws a pending request.',
          tags,
          params: idParams,
          response: {
            200: json(approvalView),
            ...errors('APPROVAL_NOT_FOUND', 'APPROVAL_NOT_PENDING', 'FORBIDDEN'),
          },
        },
        config: { access: { signedIn: true } },
      },
      async (request): Promise<ApprovalView> => approvals.cancel(callerOf(request), request.params.id),
    );
  };
}
