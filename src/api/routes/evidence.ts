import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ApprovalService } from '../../approvals/approval-service.js';
import type { ApprovalOutcome } from '../../contract/approvals.js';
import type { EvidenceLockList, EvidenceLockView } from '../../contract/evidence.js';
import { VigilError } from '../../errors/catalogue.js';
import type { EvidenceService } from '../../evidence/evidence-service.js';
import { parseTimeParam } from '../../time/parse.js';
import { callerOf, principalOf } from '../auth-hooks.js';
import { errors, json, type Tag } from '../openapi.js';
import { approvalOutcome, evidenceLockList, evidenceLockView } from '../response-schemas.js';
import { cameraIdParams, type CameraIdParams } from '../schemas.js';

const tags: Tag[] = ['evidence'];

const idParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The lock id.' }),
});
type IdParams = Static<typeof idParams>;

const reason = Type.String({ minLength: 1, maxLength: 500, description: 'Why: required, audited.' });
const epochMs = (description: string) =>
  Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description });

const lockBody = Type.Object(
  {
    eventId: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'Lock this event and its clip.',
      }),
    ),
    cameraId: Type.Optional(cameraIdParams.properties.id),
    startTimeMs: Type.Optional(epochMs('Start of the range to lock (with cameraId), UTC ms.')),
    endTimeMs: Type.Optional(epochMs('End of the range to lock (with cameraId), UTC ms.')),
    reason,
    expiresAtMs: Type.Optional(
      // Null first: Ajv's type coercion would otherwise read null as 0 for the integer.
      Type.Union([Type.Null(), epochMs('The lock lapses then; null or absent: until unlocked.')]),
    ),
  },
  { additionalProperties: false },
);
type LockBody = Static<typeof lockBody>;

const listQuery = Type.Object({
  camera: Type.Optional(cameraIdParams.properties.id),
  from: Type.Optional(
    Type.String({ maxLength: 40, description: 'Locks overlapping [from, to); ISO-8601 or epoch ms.' }),
  ),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO-8601 or epoch ms.' })),
  event: Type.Optional(
    Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Locks of this event.' }),
  ),
});
type ListQuery = Static<typeof listQuery>;

const unlockBody = Type.Object({ reason }, { additionalProperties: false });
type UnlockBody = Static<typeof unlockBody>;

/** 200 with the result when done, 202 with the pending request when a second user must approve. */
export function sendOutcome(reply: FastifyReply, outcome: ApprovalOutcome): FastifyReply {
  return reply.code(outcome.status === 'done' ? 200 : 202).send(outcome);
}

const recordingsQuery = Type.Object({
  from: Type.String({
    minLength: 1,
    maxLength: 40,
    description: 'Start of the range; ISO-8601 or epoch ms.',
  }),
  to: Type.String({ minLength: 1, maxLength: 40, description: 'End of the range; ISO-8601 or epoch ms.' }),
  reason: Type.Optional(
    Type.String({ maxLength: 500, description: 'Why; required when deleting recordings needs approval.' }),
  ),
});
type RecordingsQuery = Static<typeof recordingsQuery>;

/** What the evidence routes use. */
export interface EvidenceRouteDeps {
  evidence: EvidenceService;
  approvals: Pick<ApprovalService, 'perform'>;
}

/** Evidence locks: list, get, lock an event or a range, ask to unlock. */
export function evidenceRoutes(ctx: EvidenceRouteDeps): FastifyPluginAsync {
  const { evidence } = ctx;
  return async (app) => {
    app.get<{ Querystring: ListQuery }>(
      '/api/evidence',
      {
        schema: {
          operationId: 'listEvidenceLocks',
          summary: 'List evidence locks',
          description:
            'Locks (active, expired and unlocked) overlapping [from, to), of one camera or of every camera the ' +
            'caller may play back; at most 1000, oldest first.',
          tags,
          querystring: listQuery,
          response: { 200: json(evidenceLockList), ...errors('TIME_INVALID', 'RANGE_INVALID') },
        },
        config: { access: { permission: 'playback.view', camera: { query: 'camera' } } },
      },
      async (request): Promise<EvidenceLockList> => {
        const { camera, from, to, event } = request.query;
        const fromMs = from === undefined ? undefined : parseTimeParam('from', from);
        const toMs = to === undefined ? undefined : parseTimeParam('to', to);
        if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
          throw new VigilError('RANGE_INVALID', `'to' (${toMs}) must be after 'from' (${fromMs})`);
        }
        const locks = await evidence.list(principalOf(request), {
          ...(camera !== undefined ? { cameraId: camera } : {}),
          ...(fromMs !== undefined ? { fromMs } : {}),
          ...(toMs !== undefined ? { toMs } : {}),
          ...(event !== undefined ? { eventId: event } : {}),
        });
        return { locks };
      },
    );

    app.get<{ Params: IdParams }>(
      '/api/evidence/:id',
      {
        schema: {
          operationId: 'getEvidenceLock',
          summary: 'One evidence lock',
          tags,
          params: idParams,
          response: { 200: json(evidenceLockView), ...errors('EVIDENCE_LOCK_NOT_FOUND') },
        },
        config: { access: { permission: 'playback.view', camera: 'in-handler' } },
      },
      async (request): Promise<EvidenceLockView> => evidence.get(principalOf(request), request.params.id),
    );

    app.post<{ Body: LockBody }>(
      '/api/evidence',
      {
        schema: {
          operationId: 'lockEvidence',
          summary: 'Lock evidence',
          description:
            'Locks an event (`eventId`: its clip, and the event itself against retention and deletion) or a ' +
            "camera's time range (`cameraId`, `startTimeMs`, `endTimeMs`), with a reason and an optional expiry. " +
            'Locked recordings are never deleted by age or quota; a camera whose recordings are all locked stops ' +
            'recording when storage is full (EVIDENCE_ONLY_LEFT).',
          tags,
          body: lockBody,
          response: {
            201: json(evidenceLockView, 'Locked.'),
            ...errors('REQUEST_INVALID', 'RANGE_INVALID', 'EVENT_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'evidence.lock', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const body = request.body;
        const expiresAtMs = body.expiresAtMs ?? null;
        const caller = callerOf(request);
        let lock: EvidenceLockView;
        if (body.eventId !== undefined) {
          if (body.cameraId !== undefined || body.startTimeMs !== undefined || body.endTimeMs !== undefined) {
            throw new VigilError(
              'REQUEST_INVALID',
              'lock either an event (eventId) or a range (cameraId, startTimeMs, endTimeMs), not both',
            );
          }
          lock = await evidence.lockEvent(caller, {
            eventId: body.eventId,
            reason: body.reason,
            expiresAtMs,
          });
        } else if (
          body.cameraId !== undefined &&
          body.startTimeMs !== undefined &&
          body.endTimeMs !== undefined
        ) {
          lock = await evidence.lockRange(caller, {
            cameraId: body.cameraId,
            startTimeMs: body.startTimeMs,
            endTimeMs: body.endTimeMs,
            reason: body.reason,
            expiresAtMs,
          });
        } else {
          throw new VigilError('REQUEST_INVALID', 'send eventId, or cameraId with startTimeMs and endTimeMs');
        }
        return reply.code(201).send(lock);
      },
    );

    app.post<{ Params: IdParams; Body: UnlockBody }>(
      '/api/evidence/:id/unlock',
      {
        schema: {
          operationId: 'unlockEvidence',
          summary: 'Unlock evidence (four-eyes)',
          description:
            'Asks to lift the lock. When `approvals.require` lists `evidence.unlock` (the default) the answer is 202 ' +
            'with a pending request that another user holding `evidence.lock` on the camera must approve; ' +
            'otherwise 200 and the lock is lifted now.',
          tags,
          params: idParams,
          body: unlockBody,
          response: {
            200: json(approvalOutcome, 'Unlocked now.'),
            202: json(approvalOutcome, 'Waiting for a second user.'),
            ...errors('EVIDENCE_LOCK_NOT_FOUND', 'REQUEST_INVALID'),
          },
        },
        config: { access: { permission: 'evidence.lock', camera: 'in-handler' } },
      },
      async (request, reply) =>
        sendOutcome(
          reply,
          await evidence.requestUnlock(callerOf(request), request.params.id, request.body.reason),
        ),
    );

    app.delete<{ Params: CameraIdParams; Querystring: RecordingsQuery }>(
      '/api/cameras/:id/recordings',
      {
        schema: {
          operationId: 'deleteRecordings',
          summary: "Delete a camera's recordings in a range",
          description:
            'Deletes the closed segments of every stream overlapping [from, to) (whole segments), never one an ' +
            'evidence lock keeps. When `approvals.require` lists `recordings.delete`, the answer is 202 with a ' +
            'request another user holding `recordings.delete` must approve.',
          tags: ['recordings' satisfies Tag],
          params: cameraIdParams,
          querystring: recordingsQuery,
          response: {
            200: json(approvalOutcome, 'Deleted: `result` has segmentCount, byteLength and keptLockedCount.'),
            202: json(approvalOutcome, 'Waiting for a second user.'),
            ...errors('TIME_INVALID', 'RANGE_INVALID', 'REQUEST_INVALID'),
          },
        },
        config: { access: { permission: 'recordings.delete', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const fromMs = parseTimeParam('from', request.query.from);
        const toMs = parseTimeParam('to', request.query.to);
        const outcome = await ctx.approvals.perform(
          callerOf(request),
          'recordings.delete',
          { cameraId: request.params.id, fromMs, toMs },
          request.query.reason ?? '',
        );
        return sendOutcome(reply, outcome);
      },
    );
  };
}
