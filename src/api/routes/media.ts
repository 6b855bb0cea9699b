import type { FastifyPluginAsync } from 'fastify';
import { VigilError } from '../../errors/catalogue.js';
import { gapsBetween, recordingSpans } from '../../storage/spans.js';
import { parseRangeParams } from '../../time/parse.js';
import { auditMedia, playbackView } from '../audit-media.js';
import type { CameraManager } from '../../camera/camera-manager.js';
import type { PlaybackService } from '../../recording/playback.js';
import type { Clock } from '../../time/clock.js';
import type { MediaAudit } from '../audit-media.js';
import { principalOf } from '../auth-hooks.js';
import { maskStill } from '../../privacy/mask-overlay.js';
import type { MaskService } from '../../privacy/mask-service.js';
import { errors, json, media, mp4Download, type Tag } from '../openapi.js';
import { recordingsResponse } from '../response-schemas.js';
import { sendMaskedMp4, sendMp4 } from '../send-mp4.js';
import type { MaskedVideo } from '../../privacy/masked-video/index.js';
import {
  cameraIdParams,
  partParams,
  rangeQuery,
  segmentParams,
  streamQuery,
  type CameraIdParams,
  type PartParams,
  type RangeQuery,
  type SegmentParams,
  type StreamQuery,
} from '../schemas.js';

const HOUR_MS = 3_600_000;

const tags: Tag[] = ['recordings'];
const HLS = 'application/vnd.apple.mpegurl';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Stored parts never change, so browsers may keep them; a masked one is not kept, since a lifted
 * mask (or a new one) must show at the next request.
 */
function cacheControl(masks: readonly unknown[]): string {
  return masks.length > 0 ? 'private, no-store' : 'private, max-age=86400';
}

/** What the recording and snapshot routes use. */
export interface MediaRouteDeps {
  cameras: Pick<CameraManager, 'get' | 'stream'>;
  playback: PlaybackService;
  clock: Clock;
  /** The ffmpeg that encodes snapshots. */
  ffmpegPath: string;
  audit: MediaAudit;
  /** The privacy masks each caller gets blacked out. */
  masks: Pick<MaskService, 'masksFor'>;
  /** Callers who must not see under a privacy mask get parts and exports re-encoded with it. */
  maskedVideo: Pick<MaskedVideo, 'masksFor' | 'exportMasksFor' | 'playback'>;
}

/** Recordings: spans and gaps, HLS playback, segment parts, exports, and the live snapshot. */
export function mediaRoutes(ctx: MediaRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: CameraIdParams; Querystring: RangeQuery }>(
      '/api/cameras/:id/recordings',
      {
        schema: {
          operationId: 'listRecordings',
          summary: 'Recordings and gaps',
          description:
            'Contiguous runs of segments (less than 1 s apart) and the gaps between them in [from, to). ' +
            'Defaults: `to` = now, `from` = `to` − 24 h; at most 31 days. The segment being written is included.',
          tags,
          params: cameraIdParams,
          querystring: rangeQuery,
          response: {
            200: json(recordingsResponse),
            ...errors('TIME_INVALID', 'RANGE_INVALID', 'CAMERA_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'playback.view', camera: { param: 'id' } } },
      },
      async (request) => {
        const camera = ctx.cameras.get(request.params.id);
        const stream = request.query.stream ?? 'main';
        const { fromMs, toMs } = parseRangeParams(request.query, ctx.clock.nowMs(), {
          defaultSpanMs: 24 * HOUR_MS,
          maxSpanMs: 31 * 24 * HOUR_MS,
        });
        const segments = await ctx.playback.segments(camera.config.id, stream, fromMs, toMs);
        const spans = recordingSpans(segments, fromMs, toMs);
        const view = (s: { startTimeMs: number; endTimeMs: number }) => ({
          startTimeMs: s.startTimeMs,
          endTimeMs: s.endTimeMs,
          durationMs: s.endTimeMs - s.startTimeMs,
          startTime: iso(s.startTimeMs),
          endTime: iso(s.endTimeMs),
        });
        return {
          cameraId: camera.config.id,
          stream,
          fromMs,
          toMs,
          recordings: spans.map(view),
          gaps: gapsBetween(spans, fromMs, toMs).map(view),
          segmentCount: segments.length,
        };
      },
    );

    app.get<{ Params: CameraIdParams; Querystring: RangeQuery }>(
      '/api/cameras/:id/vod.m3u8',
      {
        schema: {
          operationId: 'getVodPlaylist',
          summary: 'HLS playlist of a recording',
          description:
            'HLS (version 7, fMP4) from the keyframe at or before `from` to `to` (defaults: the last hour; ' +
            'at most 24 h), one media segment per GOP; a reconnection or a gap is a discontinuity.',
          tags,
          params: cameraIdParams,
          querystring: rangeQuery,
          response: {
            200: media(HLS, 'The playlist; it refers to the segment routes below.', { binary: false }),
            ...errors('TIME_INVALID', 'RANGE_INVALID', 'CAMERA_NOT_FOUND', 'NO_RECORDINGS'),
          },
        },
        config: { access: { permission: 'playback.view', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const camera = ctx.cameras.get(request.params.id);
        const { fromMs, toMs } = parseRangeParams(request.query, ctx.clock.nowMs(), {
          defaultSpanMs: HOUR_MS,
          maxSpanMs: 24 * HOUR_MS,
        });
        const playlist = await ctx.playback.vodPlaylist(
          camera.config.id,
          request.query.stream ?? 'main',
          fromMs,
          toMs,
        );
        const stream = request.query.stream ?? 'main';
        // Merged with the first hour's part requests that follow; details say what was asked.
        auditMedia(ctx.audit, request, {
          ...playbackView(camera.config.id, stream, fromMs, 'playlist'),
          details: { fromMs, toMs, stream, via: 'playlist' },
        });
        return reply.type('application/vnd.apple.mpegurl').header('cache-control', 'no-store').send(playlist);
      },
    );

    app.get<{ Params: SegmentParams }>(
      '/api/cameras/:id/segments/:segmentId/init.mp4',
      {
        schema: {
          operationId: 'getSegmentInit',
          summary: "A segment's init section",
          description: 'Referred to by the playlists; not meant to be built by hand.',
          tags,
          params: segmentParams,
          response: {
            200: media('video/mp4', 'ftyp + moov of the segment.'),
            ...errors('SEGMENT_NOT_FOUND', 'MEDIA_CORRUPT', 'MASKED_VIDEO_FAILED'),
          },
        },
        config: { access: { permission: 'playback.view', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const segment = await ctx.playback.segment(request.params.id, request.params.segmentId);
        const masks = ctx.maskedVideo.masksFor(principalOf(request), segment.cameraId);
        const bytes =
          masks.length > 0
            ? await ctx.maskedVideo.playback.initBytes(segment, masks)
            : await ctx.playback.initBytes(segment);
        auditMedia(
          ctx.audit,
          request,
          playbackView(segment.cameraId, segment.stream, segment.startTimeMs, 'segment'),
        );
        return reply.type('video/mp4').header('cache-control', cacheControl(masks)).send(bytes);
      },
    );

    app.get<{ Params: PartParams }>(
      '/api/cameras/:id/segments/:segmentId/:range',
      {
        schema: {
          operationId: 'getSegmentPart',
          summary: 'Part of a segment',
          description:
            'Bytes [START, END) of the segment file, which must be whole fragments (else 404). Referred to ' +
            'by the playlists; not meant to be built by hand.',
          tags,
          params: partParams,
          response: {
            200: media('video/iso.segment', 'Fragments (moof + mdat).'),
            ...errors('SEGMENT_NOT_FOUND', 'MEDIA_CORRUPT', 'MASKED_VIDEO_FAILED'),
          },
        },
        config: { access: { permission: 'playback.view', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const [start, end] = request.params.range.replace('.m4s', '').split('-').map(Number) as [
          number,
          number,
        ];
        const segment = await ctx.playback.segment(request.params.id, request.params.segmentId);
        const masks = ctx.maskedVideo.masksFor(principalOf(request), segment.cameraId);
        if (masks.length > 0) {
          const masked = await ctx.maskedVideo.playback.partBytes(segment, start, end, masks);
          auditMedia(
            ctx.audit,
            request,
            playbackView(segment.cameraId, segment.stream, segment.startTimeMs, 'segment'),
          );
          return reply.type('video/iso.segment').header('cache-control', cacheControl(masks)).send(masked);
        }
        const stream = await ctx.playback.partStream(segment, start, end);
        auditMedia(
          ctx.audit,
          request,
          playbackView(segment.cameraId, segment.stream, segment.startTimeMs, 'segment'),
        );
        return reply
          .type('video/iso.segment')
          .header('content-length', end - start)
          .header('cache-control', cacheControl(masks))
          .send(stream);
      },
    );

    app.get<{ Params: CameraIdParams; Querystring: RangeQuery }>(
      '/api/cameras/:id/export.mp4',
      {
        schema: {
          operationId: 'exportMp4',
          summary: 'Export a time range as MP4',
          description:
            'One progressive MP4 of [from, to), stream copy, from the keyframe at or before `from`; both ' +
            'are required, at most 24 h. Gaps are closed up. Assembled on the fly: Range requests get 206. ' +
            'For a caller with privacy masks on the camera: re-encoded with the masks black, sent whole (200).',
          tags,
          params: cameraIdParams,
          querystring: rangeQuery,
          response: {
            ...mp4Download('The recording of the range.'),
            ...errors(
              'TIME_INVALID',
              'RANGE_INVALID',
              'CAMERA_NOT_FOUND',
              'NO_RECORDINGS',
              'RANGE_NOT_SATISFIABLE',
              'MASKED_VIDEO_FAILED',
            ),
          },
        },
        config: { access: { permission: 'export.create', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const camera = ctx.cameras.get(request.params.id);
        if (request.query.from === undefined || request.query.to === undefined) {
          throw new VigilError('REQUEST_INVALID', "an export needs both 'from' and 'to'");
        }
        const { fromMs, toMs } = parseRangeParams(request.query, ctx.clock.nowMs(), {
          defaultSpanMs: HOUR_MS,
          maxSpanMs: 24 * HOUR_MS,
        });
        const stream = request.query.stream ?? 'main';
        const mp4 = await ctx.playback.exportMp4(camera.config.id, stream, fromMs, toMs);
        // Every request is audited, whatever its Range: a download resumed with Range requests
        // merges into one entry, and a download made only of Range requests is still recorded.
        auditMedia(ctx.audit, request, {
          action: 'export.create',
          cameraId: camera.config.id,
          details: { fromMs, toMs, stream },
          merge: `${stream}|${fromMs}|${toMs}`,
        });
        const filename = `${camera.config.id}-${iso(fromMs).replace(/[:.]/g, '-')}.mp4`;
        const masks = ctx.maskedVideo.exportMasksFor(principalOf(request), camera.config.id);
        if (masks.length === 0) return sendMp4(request, reply, mp4, filename);
        return sendMaskedMp4(reply, await ctx.maskedVideo.playback.exportFile(mp4, masks), filename);
      },
    );

    app.get<{ Params: CameraIdParams; Querystring: StreamQuery }>(
      '/api/cameras/:id/snapshot.jpg',
      {
        schema: {
          operationId: 'getSnapshot',
          summary: 'The latest frame as JPEG',
          description:
            "Decoded from the stream's last GOP, kept in memory. The camera's privacy masks are blacked out " +
            'for the caller (liftable ones too, unless the caller has an active lift).',
          tags: ['live' satisfies Tag],
          params: cameraIdParams,
          querystring: streamQuery,
          response: {
            200: media('image/jpeg', 'The frame.'),
            ...errors('CAMERA_NOT_FOUND', 'STREAM_NOT_FOUND', 'SNAPSHOT_UNAVAILABLE'),
          },
        },
        config: { access: { permission: 'live.view', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const stream = request.query.stream ?? 'main';
        const runtime = ctx.cameras.stream(request.params.id, stream);
        const jpeg = await maskStill(
          await runtime.gop.snapshot(ctx.ffmpegPath),
          ctx.masks.masksFor(principalOf(request), request.params.id),
        );
        auditMedia(ctx.audit, request, {
          action: 'snapshot.view',
          cameraId: request.params.id,
          details: { stream },
          merge: `live|${stream}`,
        });
        return reply.type('image/jpeg').header('cache-control', 'no-store').send(jpeg);
      },
    );
  };
}
