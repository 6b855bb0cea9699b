import type { ApprovalService } from '../../approvals/approval-service.js';
import type { LiftRequest } from '../../privacy/mask-service.js';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { LiftListResponse, LiftView } from '../../contract/privacy.js';
import { MAX_LIFT_MS, MIN_LIFT_MS } from '../../contract/privacy.js';
import type { CameraManager } from '../../camera/camera-manager.js';
import type { MaskService } from '../../privacy/mask-service.js';
import { callerOf, principalOf } from '../auth-hooks.js';
import { errors, json, noBody, type Tag } from '../openapi.js';
import { approvalOutcome, liftList, liftView } from '../response-schemas.js';
import { cameraIdParams, type CameraIdParams } from '../schemas.js';

const tags: Tag[] = ['privacy'];

const liftBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Why you need to see what the masks hide; kept in the audit log.',
    }),
    durationMs: Type.Integer({
      minimum: MIN_LIFT_MS,
      maximum: MAX_LIFT_MS,
      description: 'How long the lift lasts: 1 s to 1 h. It ends by itself then.',
    }),
  },
  { additionalProperties: false },
);
type LiftBody = Static<typeof liftBody>;

const liftParams = Type.Object({
  id: cameraIdParams.properties.id,
  liftId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The lift id.' }),
});
type LiftParams = Static<typeof liftParams>;

export interface PrivacyRouteDeps {
  masks: Pick<MaskService, 'lift' | 'endLift' | 'lifts'>;
  /** A lift may need a second user's approval ('mask.lift' in approvals.require). */
  approvals: Pick<ApprovalService, 'perform'>;
  cameras: Pick<CameraManager, 'get'>;
}

/** Lifts of a camera's liftable privacy masks: list, start, end early (MaskService does the work). */
export function privacyRoutes(ctx: PrivacyRouteDeps): FastifyPluginAsync {
  const access = { permission: 'unmask', camera: { param: 'id' } } as const;
  return async (app) => {
    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id/privacy/lifts',
      {
        schema: {
          operationId: 'listPrivacyLifts',
          summary: "The lifts of a camera's privacy masks in force now",
          tags,
          params: cameraIdParams,
          response: { 200: json(liftList), ...errors('CAMERA_NOT_FOUND') },
        },
        config: { access },
      },
      async (request): Promise<LiftListResponse> => {
        const camera = ctx.cameras.get(request.params.id);
        return { lifts: ctx.masks.lifts(principalOf(request), camera.config.id) };
      },
    );

    app.post<{ Params: CameraIdParams; Body: LiftBody }>(
      '/api/cameras/:id/privacy/lifts',
      {
        schema: {
          operationId: 'startPrivacyLift',
          summary: "See through a camera's liftable privacy masks for a while",
          description:
            'For the caller only, until `durationMs` has passed or the lift is ended. Permanent masks stay. ' +
            'Audited with the reason (`privacy.lift.start`, `privacy.lift.end`, `privacy.lift.expire`). Where ' +
            '`approvals.require` lists `mask.lift`, the answer is 202 with a pending request instead: the lift ' +
            'starts when a second user with `unmask` approves it.',
          tags,
          params: cameraIdParams,
          body: liftBody,
          response: {
            201: json(liftView, 'The lift.'),
            202: json(approvalOutcome, 'A pending request: a second user must approve the lift.'),
            ...errors('CAMERA_NOT_FOUND', 'NO_LIFTABLE_MASKS', 'LIFT_ACTIVE'),
          },
        },
        config: { access },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { reason, durationMs } = request.body;
        const params: LiftRequest = { cameraId: request.params.id, reason, durationMs };
        const outcome = await ctx.approvals.perform(caller, 'mask.lift', params, reason);
        if (outcome.status === 'pending') return reply.code(202).send(outcome);
        return reply.code(201).send(outcome.result as LiftView);
      },
    );

    app.delete<{ Params: LiftParams }>(
      '/api/cameras/:id/privacy/lifts/:liftId',
      {
        schema: {
          operationId: 'endPrivacyLift',
          summary: 'End a lift early',
          description: 'Its owner may end it, and so may a user who manages users.',
          tags,
          params: liftParams,
          response: { 204: noBody('Ended: the masks hide again.'), ...errors('LIFT_NOT_FOUND') },
        },
        config: { access },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        await ctx.masks.endLift(caller, request.params.id, request.params.liftId);
        return reply.code(204).send();
      },
    );
  };
}
