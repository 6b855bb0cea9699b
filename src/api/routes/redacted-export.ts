import { principalOf } from '../auth-hooks.js';
import type { MaskService } from '../../privacy/mask-service.js';
import { maskMp4 } from '../../privacy/masked-video/index.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { CameraManager } from '../../camera/camera-manager.js';
import { VigilError } from '../../errors/catalogue.js';
import type { EventStore } from '../../events/store.js';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import {
  describeRedaction,
  redactMp4InWorker,
  validateRedactionOptions,
  type FollowedTrack,
  type RedactionOptions,
} from '../../privacy/redaction/index.js';
import type { RedactedExportRequest } from '../../contract/recordings.js';
import type { PlaybackService } from '../../recording/playback.js';
import type { Clock } from '../../time/clock.js';
import { parseRangeParams } from '../../time/parse.js';
import { auditMedia, type MediaAudit } from '../audit-media.js';
import { errors, media, type Tag } from '../openapi.js';
import { cameraIdParams, streamName, type CameraIdParams } from '../schemas.js';

/** Redaction decodes and re-encodes every frame at a few frames a second: ranges stay short. */
const MAX_REDACTED_SPAN_MS = 10 * 60_000;

const normalisedBox = Type.Object(
  {
    x: Type.Number({ minimum: 0, maximum: 1 }),
    y: Type.Number({ minimum: 0, maximum: 1 }),
    width: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    height: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
  },
  { additionalProperties: false, description: 'Normalised to the frame: 0..1 of its width and height.' },
);

export const redactedExportBody = Type.Object(
  {
    from: Type.String({ maxLength: 40, description: 'Start, ISO-8601 or epoch ms.' }),
    to: Type.String({
      maxLength: 40,
      description: 'End (excluded), ISO-8601 or epoch ms; at most 10 min after `from`.',
    }),
    stream: Type.Optional(streamName),
    redaction: Type.Object(
      {
        mode: Type.Union([Type.Literal('faces'), Type.Literal('all-except-track'), Type.Literal('manual')], {
          description:
            '`faces`: every face found is pixelated. `all-except-track`: every person and face except the ' +
            "person of `keepEventId`'s track (a data-subject access export). `manual`: only `manualBoxes`.",
        }),
        keepEventId: Type.Optional(
          Type.Integer({
            minimum: 1,
            description: 'all-except-track: the event (of this camera) whose person stays visible.',
          }),
        ),
        manualBoxes: Type.Optional(
          Type.Array(
            Type.Object(
              {
                keys: Type.Array(
                  Type.Object(
                    {
                      atMs: Type.Number({ minimum: 0, description: 'Milliseconds from the first frame.' }),
                      box: normalisedBox,
                    },
                    { additionalProperties: false },
                  ),
                  { minItems: 1, maxItems: 500 },
                ),
                followEventId: Type.Optional(
                  Type.Integer({ minimum: 1, description: "The box also moves with this event's track." }),
                ),
              },
              { additionalProperties: false },
            ),
            {
              maxItems: 50,
              description: 'Hand-drawn boxes, moving linearly between their keys; blurred in every mode.',
            },
          ),
        ),
        holdFrames: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 250,
            description: 'Frames a face box is kept before and after it was detected (default 12).',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type RedactedExportBody = Static<typeof redactedExportBody>;

export interface RedactedExportDeps {
  cameras: Pick<CameraManager, 'get'>;
  playback: PlaybackService;
  events: Pick<EventStore, 'get'>;
  clock: Clock;
  ffmpeg: FfmpegBinary;
  audit: MediaAudit;
  /** The privacy masks hidden from the caller are blacked out after the redaction. */
  masks: Pick<MaskService, 'masksFor' | 'exportMasksFor'>;
}

/** POST /api/cameras/:id/redacted-export: an MP4 of a range with faces or people pixelated. */
export function redactedExportRoutes(ctx: RedactedExportDeps): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Params: CameraIdParams; Body: RedactedExportBody }>(
      '/api/cameras/:id/redacted-export',
      {
        schema: {
          operationId: 'redactedExport',
          summary: 'Export a time range with faces or people pixelated',
          description:
            'Decodes the recording of [from, to) (from the keyframe at or before `from`), pixelates every ' +
            'face found (BlazeFace face *detection*; nobody is identified), or every person but one ' +
            "event's, or hand-drawn boxes, and re-encodes it with H.264 without audio. Answers when " +
            'the file is ready: about as long as the range at 10 fps on one core. One redaction runs at a time; ' +
            'others wait. `Vigil-Redaction` says what was hidden.',
          tags: ['recordings'] satisfies Tag[],
          params: cameraIdParams,
          body: redactedExportBody,
          response: {
            200: media('video/mp4', 'The redacted recording.', {
              headers: {
                'content-disposition': 'attachment; filename="…"',
                'vigil-redaction': 'What was hidden, in words (as the audit log has it).',
              },
            }),
            ...errors(
              'TIME_INVALID',
              'RANGE_INVALID',
              'CAMERA_NOT_FOUND',
              'NO_RECORDINGS',
              'EVENT_NOT_FOUND',
              'REDACTION_INVALID',
              'REDACTION_FAILED',
            ),
          },
        },
        config: { access: { permission: 'export.create', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const camera = ctx.cameras.get(request.params.id);
        const cameraId = camera.config.id;
        // The wire type the UI compiles against: the schema must accept what it sends.
        const body: RedactedExportRequest = request.body;
        const { fromMs, toMs } = parseRangeParams(body, ctx.clock.nowMs(), {
          defaultSpanMs: MAX_REDACTED_SPAN_MS,
          maxSpanMs: MAX_REDACTED_SPAN_MS,
        });
        const stream = body.stream ?? 'main';
        const followed = (eventId: number) => followedTrack(ctx.events, cameraId, eventId);
        const options: RedactionOptions = {
          mode: body.redaction.mode,
          clipStartTimeMs: fromMs,
          ...(body.redaction.holdFrames !== undefined ? { holdFrames: body.redaction.holdFrames } : {}),
          ...(body.redaction.keepEventId !== undefined
            ? { keep: await followed(body.redaction.keepEventId) }
            : {}),
          ...(body.redaction.manualBoxes
            ? {
                manualBoxes: await Promise.all(
                  body.redaction.manualBoxes.map(async (m) => ({
                    keys: m.keys,
                    ...(m.followEventId !== undefined ? { follow: await followed(m.followEventId) } : {}),
                  })),
                ),
              }
            : {}),
        };
        validateRedactionOptions(options);
        const mp4 = await ctx.playback.exportMp4(cameraId, stream, fromMs, toMs);
        // The export starts at the keyframe at or before `from`: tracks are placed from there.
        options.clipStartTimeMs = mp4.startTimeMs;
        const description = describeRedaction(options);
        const dir = await mkdtemp(join(tmpdir(), 'vigil-redaction-'));
        const cleanUp = () => void rm(dir, { recursive: true, force: true });
        try {
          const input = join(dir, 'input.mp4');
          const output = join(dir, 'redacted.mp4');
          await pipeline(mp4.createReadStream(0, mp4.byteLength - 1), createWriteStream(input));
          const redacted = join(dir, 'redacted-unmasked.mp4');
          const report = await redactMp4InWorker(input, redacted, options, { ffmpeg: ctx.ffmpeg });
          const polygons = ctx.masks.exportMasksFor(principalOf(request), cameraId);
          if (polygons.length > 0)
            await maskMp4(redacted, output, polygons, ctx.ffmpeg.path, ctx.ffmpeg.major);
          else await rename(redacted, output);
          auditMedia(ctx.audit, request, {
            action: 'export.create',
            cameraId,
            details: {
              fromMs,
              toMs,
              stream,
              // Event ids, not the tracks' paths: the entry names events, it does not copy them.
              redaction: body.redaction,
              description,
              frames: report.frameCount,
              framesWithBlur: report.framesWithBlur,
            },
          });
          const size = (await stat(output)).size;
          const file = createReadStream(output);
          file.once('close', cleanUp);
          const filename = `${cameraId}-${new Date(fromMs).toISOString().replace(/[:.]/g, '-')}-redacted.mp4`;
          return reply
            .type('video/mp4')
            .header('content-length', size)
            .header('content-disposition', `attachment; filename="${filename}"`)
            .header('cache-control', 'no-store')
            .header('vigil-redaction', encodeURIComponent(description))
            .send(file);
        } catch (error) {
          cleanUp();
          throw error;
        }
      },
    );
  };
}

/** An event's stored track, if it is this camera's: another camera's event is not found here. */
async function followedTrack(
  events: Pick<EventStore, 'get'>,
  cameraId: string,
  eventId: number,
): Promise<FollowedTrack> {
  const event = await events.get(eventId);
  if (!event || event.cameraId !== cameraId)
    throw new VigilError('EVENT_NOT_FOUND', `camera '${cameraId}' has no event ${eventId}`);
  return { eventId, path: event.path };
}
