import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { assertCan, cameraFilter, type Permission } from '../../auth/permissions.js';
import { auditMedia } from '../audit-media.js';
import { callerOf, principalOf } from '../auth-hooks.js';
import { VigilError } from '../../errors/catalogue.js';
import { eventView } from '../../events/store.js';
import type { EventView, EventsPage } from '../../contract/events.js';
import { parseTimeParam } from '../../time/parse.js';
import type { AuthServices } from '../../auth/service.js';
import type { EventServices } from '../../events/index.js';
import type { PlaybackService } from '../../recording/playback.js';
import type { MediaAudit } from '../audit-media.js';
import { errors, json, media, mp4Download, noBody, type Tag } from '../openapi.js';
import { approvalOutcome, eventView as eventViewSchema, eventsPage } from '../response-schemas.js';
import type { ApprovalService } from '../../approvals/approval-service.js';
import { sendMaskedMp4, sendMp4 } from '../send-mp4.js';
import { maskStill } from '../../privacy/mask-overlay.js';
import type { MaskService } from '../../privacy/mask-service.js';
import { masksFingerprint, polygonsInRegion } from '../../privacy/mask-region.js';
import type { MaskedVideo } from '../../privacy/masked-video/index.js';
import { cameraIdParams } from '../schemas.js';

/** An event's clip is cut to this, like an export (a car parked for a day is not a clip). */
const MAX_CLIP_MS = 24 * 3_600_000;

const tags: Tag[] = ['events'];

const eventsQuery = Type.Object({
  camera: Type.Optional(cameraIdParams.properties.id),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'e.g. `person`, `car`.' })),
  kind: Type.Optional(
    Type.Union([Type.Literal('alert'), Type.Literal('detection')], {
      description: '`alert`: events a rule fired on; `detection`: all the others.',
    }),
  ),
  rule: Type.Optional(
    Type.String({ minLength: 1, maxLength: 63, description: 'Only events this rule (id) fired on.' }),
  ),
  zone: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Only events that touched the zone of this name.',
    }),
  ),
  from: Type.Optional(
    Type.String({ maxLength: 40, description: 'Events overlapping [from, to); ISO-8601 or epoch ms.' }),
  ),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO-8601 or epoch ms.' })),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 500, description: 'Events per page (default 50).' }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'The `nextCursor` of the previous page.' }),
  ),
});
type EventsQuery = Static<typeof eventsQuery>;

const eventParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The event id.' }),
});
type EventParams = Static<typeof eventParams>;

// `?crop=1` (or true): query strings carry text, and Ajv only coerces 'true'/'false' to booleans.
const snapshotQuery = Type.Object({
  crop: Type.Optional(
    Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')], {
      description: '`1`: the region around the box instead of the whole frame.',
    }),
  ),
});
type SnapshotQuery = Static<typeof snapshotQuery>;

const deleteQuery = Type.Object({
  reason: Type.Optional(
    Type.String({ maxLength: 500, description: 'Why; required when deleting events needs approval.' }),
  ),
});
type DeleteQuery = Static<typeof deleteQuery>;

function timeRange(query: EventsQuery): { fromMs?: number; toMs?: number } {
  const fromMs = query.from === undefined ? undefined : parseTimeParam('from', query.from);
  const toMs = query.to === undefined ? undefined : parseTimeParam('to', query.to);
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new VigilError('RANGE_INVALID', `'to' (${toMs}) must be after 'from' (${fromMs})`);
  }
  return { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) };
}

/** Events: list and search, one event, its snapshots and clip, delete. */
/** What the event routes use. */
export interface EventRouteDeps {
  events: Pick<EventServices, 'store'>;
  playback: Pick<PlaybackService, 'exportMp4'>;
  audit: MediaAudit & Pick<AuthServices, 'record'>;
  /** The privacy masks each caller gets blacked out. */
  masks: Pick<MaskService, 'masksFor'>;
  /** Callers who must not see under a privacy mask get the clip re-encoded with it. */
  maskedVideo: Pick<MaskedVideo, 'masksFor' | 'exportMasksFor' | 'playback'>;
  /** Deleting goes through approvals ('events.delete', registered by the evidence module). */
  approvals: Pick<ApprovalService, 'perform'>;
}

export function eventRoutes(ctx: EventRouteDeps): FastifyPluginAsync {
  const { store } = ctx.events;

  /** The event, when the caller may see (or delete) events of its camera. */
  async function visibleEvent(request: FastifyRequest<{ Params: EventParams }>, permission: Permission) {
    const event = await store.require(request.params.id);
    assertCan(principalOf(request), permission, event.cameraId);
    return event;
  }

  return async (app) => {
    app.get<{ Querystring: EventsQuery }>(
      '/api/events',
      {
        schema: {
          operationId: 'listEvents',
          summary: 'List and search events',
          description:
            'Newest first (by start time, then id). Pages are stable while new events arrive: the cursor ' +
            'marks a place in the order, not an offset.',
          tags,
          querystring: eventsQuery,
          response: { 200: json(eventsPage), ...errors('TIME_INVALID', 'RANGE_INVALID') },
        },
        config: { access: { permission: 'events.view', camera: { query: 'camera' } } },
      },
      async (request): Promise<EventsPage> => {
        const { camera, label, kind, rule, zone, limit, cursor } = request.query;
        const granted = camera === undefined ? cameraFilter(principalOf(request), 'events.view') : null;
        const page = await store.query({
          ...(granted !== null ? { cameraIds: [...granted] } : {}),
          ...timeRange(request.query),
          ...(camera !== undefined ? { cameraId: camera } : {}),
          ...(label !== undefined ? { label } : {}),
          ...(kind !== undefined ? { kind } : {}),
          ...(rule !== undefined ? { ruleId: rule } : {}),
          ...(zone !== undefined ? { zone } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        return { events: page.events.map(eventView), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: EventParams }>(
      '/api/events/:id',
      {
        schema: {
          operationId: 'getEvent',
          summary: 'One event',
          tags,
          params: eventParams,
          response: { 200: json(eventViewSchema), ...errors('EVENT_NOT_FOUND') },
        },
        config: { access: { permission: 'events.view', camera: 'in-handler' } },
      },
      async (request): Promise<EventView> => eventView(await visibleEvent(request, 'events.view')),
    );

    app.get<{ Params: EventParams; Querystring: SnapshotQuery }>(
      '/api/events/:id/snapshot.jpg',
      {
        schema: {
          operationId: 'getEventSnapshot',
          summary: "An event's snapshot",
          description:
            'The frame with the box drawn, or with `crop=1` the region around the box, with the privacy masks ' +
            'the caller must not see through blacked out. Its ETag changes when a better snapshot replaces it ' +
            'and when the masks that apply change.',
          tags,
          params: eventParams,
          querystring: snapshotQuery,
          response: {
            200: media('image/jpeg', 'The snapshot.', { headers: { etag: 'If-None-Match answers 304.' } }),
            304: noBody('Not modified.'),
            ...errors('EVENT_NOT_FOUND', 'SNAPSHOT_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'events.view', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const event = await visibleEvent(request, 'events.view');
        const crop = request.query.crop === '1' || request.query.crop === 'true';
        const path = crop ? event.cropPath : event.snapshotPath;
        const missing = () =>
          new VigilError(
            'SNAPSHOT_NOT_FOUND',
            `event ${event.id} has no snapshot yet; try again in a moment`,
          );
        if (path === null) throw missing();
        let jpeg: Buffer;
        try {
          jpeg = await readFile(store.absolute(path));
        } catch {
          throw missing();
        }
        const frameMasks = ctx.masks.masksFor(principalOf(request), event.cameraId);
        // A crop whose place in the frame is unknown (written before it was stored) cannot be
        // masked in part: with any mask on the camera, it is not shown at all.
        if (crop && frameMasks.length > 0 && !event.cropRegion) throw missing();
        const masks = crop && event.cropRegion ? polygonsInRegion(frameMasks, event.cropRegion) : frameMasks;
        // The snapshot is replaced while the event goes on by a better one, and is masked
        // differently as lifts start and end: revalidate each time.
        const etag = `"${event.id}-${event.snapshotTimeMs ?? 0}-${crop ? 'crop' : 'frame'}-${masksFingerprint(masks)}"`;
        void reply.type('image/jpeg').header('cache-control', 'no-cache').header('etag', etag);
        auditMedia(ctx.audit, request, {
          action: 'snapshot.view',
          cameraId: event.cameraId,
          details: { eventId: event.id, crop },
          merge: `event|${event.id}`,
        });
        if (request.headers['if-none-match'] === etag) return reply.code(304).send();
        return reply.send(await maskStill(jpeg, masks));
      },
    );

    app.get<{ Params: EventParams }>(
      '/api/events/:id/clip.mp4',
      {
        schema: {
          operationId: 'getEventClip',
          summary: "An event's clip as MP4",
          description:
            "The clip range of the camera's `main` recording, like an export: stream copy, Range and " +
            'ETag, at most 24 h. For a caller with privacy masks on the camera: re-encoded with the masks ' +
            'black, sent whole (200).',
          tags,
          params: eventParams,
          response: {
            ...mp4Download('The clip.'),
            ...errors('EVENT_NOT_FOUND', 'NO_RECORDINGS', 'RANGE_NOT_SATISFIABLE', 'MASKED_VIDEO_FAILED'),
          },
        },
        config: { access: { permission: 'events.view', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const event = await visibleEvent(request, 'events.view');
        const toMs = Math.min(event.clipEndMs, event.clipStartMs + MAX_CLIP_MS);
        const mp4 = await ctx.playback.exportMp4(event.cameraId, 'main', event.clipStartMs, toMs);
        auditMedia(ctx.audit, request, {
          action: 'export.create',
          cameraId: event.cameraId,
          details: { fromMs: event.clipStartMs, toMs, eventId: event.id },
          merge: `event|${event.id}`,
        });
        const start = new Date(event.startTimeMs).toISOString().replace(/[:.]/g, '-');
        const filename = `${event.cameraId}-${event.label}-${start}.mp4`;
        const masks = ctx.maskedVideo.exportMasksFor(principalOf(request), event.cameraId);
        if (masks.length === 0) return sendMp4(request, reply, mp4, filename);
        return sendMaskedMp4(reply, await ctx.maskedVideo.playback.exportFile(mp4, masks), filename);
      },
    );

    app.delete<{ Params: EventParams; Querystring: DeleteQuery }>(
      '/api/events/:id',
      {
        schema: {
          operationId: 'deleteEvent',
          summary: 'Delete an event',
          description:
            'Deletes the event, its snapshots and the hold on its clip. An event still going on stops. A ' +
            'locked event is refused (EVIDENCE_LOCKED). When `approvals.require` lists `events.delete`, the ' +
            'answer is 202 with a request another user holding `events.delete` must approve (give `reason`).',
          tags,
          params: eventParams,
          querystring: deleteQuery,
          response: {
            204: noBody('Deleted.'),
            202: json(approvalOutcome, 'Waiting for a second user.'),
            ...errors('EVENT_NOT_FOUND', 'EVIDENCE_LOCKED'),
          },
        },
        config: { access: { permission: 'events.delete', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const event = await visibleEvent(request, 'events.delete');
        const outcome = await ctx.approvals.perform(
          callerOf(request),
          'events.delete',
          { eventId: event.id },
          request.query.reason ?? '',
        );
        if (outcome.status === 'pending') return reply.code(202).send(outcome);
        return reply.code(204).send();
      },
    );
  };
}
