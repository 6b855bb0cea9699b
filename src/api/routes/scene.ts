import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { csvCell } from '../../audit/csv.js';
import type { CameraManager } from '../../camera/camera-manager.js';
import { sceneConfigFor } from '../../config/index.js';
import type { CountBucketSize, SceneCounts } from '../../contract/scene.js';
import type { SceneCountStore } from '../../storage/scene-counts.js';
import type { Clock } from '../../time/clock.js';
import { parseRangeParams } from '../../time/parse.js';
import { formatLocalMinute } from '../../time/zone-buckets.js';
import { errors, json, media, type Tag } from '../openapi.js';
import { sceneCountsResponse } from '../response-schemas.js';
import { cameraIdParams, rangeQuery, type CameraIdParams } from '../schemas.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The longest range per bucket size: a few thousand buckets at most per series. */
const MAX_SPAN_MS: Record<CountBucketSize, number> = {
  minute: 2 * DAY_MS,
  hour: 93 * DAY_MS,
  day: 731 * DAY_MS,
};
const DEFAULT_SPAN_MS: Record<CountBucketSize, number> = { minute: HOUR_MS, hour: DAY_MS, day: 31 * DAY_MS };

const countsQuery = Type.Object({
  from: rangeQuery.properties.from,
  to: rangeQuery.properties.to,
  bucket: Type.Optional(
    Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], {
      default: 'hour',
      description:
        "Bucket size; hours and days begin in the site's time zone (`site.timeZone`). At most 2 days of " +
        'minutes, 93 days of hours or 731 days of days per request.',
    }),
  ),
});
type CountsQuery = Static<typeof countsQuery>;

const tags: Tag[] = ['analytics'];

export interface SceneRouteDeps {
  cameras: Pick<CameraManager, 'get'>;
  counts: Pick<SceneCountStore, 'counts'>;
  clock: Clock;
  /** site.timeZone */
  timeZone: string;
}

const CSV_COLUMNS = [
  'kind',
  'id',
  'name',
  'label',
  'direction',
  'start_local',
  'start_time_ms',
  'count',
  'max_occupancy',
] as const;

/** Counts of tripwire crossings and zone entries (GET /api/cameras/:id/counts and counts.csv). */
export function sceneRoutes(ctx: SceneRouteDeps): FastifyPluginAsync {
  async function counts(cameraId: string, query: CountsQuery): Promise<SceneCounts> {
    const camera = ctx.cameras.get(cameraId);
    const bucket = query.bucket ?? 'hour';
    const { fromMs, toMs } = parseRangeParams(query, ctx.clock.nowMs(), {
      defaultSpanMs: DEFAULT_SPAN_MS[bucket],
      maxSpanMs: MAX_SPAN_MS[bucket],
    });
    return ctx.counts.counts(camera.config.id, fromMs, toMs, bucket, ctx.timeZone);
  }

  return async (app) => {
    app.get<{ Params: CameraIdParams; Querystring: CountsQuery }>(
      '/api/cameras/:id/counts',
      {
        schema: {
          operationId: 'getSceneCounts',
          summary: 'Tripwire and zone counts',
          description:
            'Crossings per tripwire, direction and label, and entries and peak occupancy per zone and label, ' +
            "per minute, hour or day (hours and days in the site's time zone). Defaults: hours of the last 24 h. " +
            'Buckets without anything are left out; the first bucket may start before `from`.',
          tags,
          params: cameraIdParams,
          querystring: countsQuery,
          response: {
            200: json(sceneCountsResponse),
            ...errors('TIME_INVALID', 'RANGE_INVALID', 'CAMERA_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'events.view', camera: { param: 'id' } } },
      },
      async (request): Promise<SceneCounts> => counts(request.params.id, request.query),
    );

    app.get<{ Params: CameraIdParams; Querystring: CountsQuery }>(
      '/api/cameras/:id/counts.csv',
      {
        schema: {
          operationId: 'exportSceneCounts',
          summary: 'Tripwire and zone counts as CSV',
          description:
            'The counts of GET /api/cameras/:id/counts, one line per series and bucket. `count` is crossings ' +
            "for a line and entries for a zone; `start_local` is the bucket's start in the site's time zone.",
          tags,
          params: cameraIdParams,
          querystring: countsQuery,
          response: {
            200: media('text/csv', 'The counts, a header line first.', {
              binary: false,
              headers: { 'content-disposition': 'attachment; filename="vigil-counts-<camera>.csv"' },
            }),
            ...errors('TIME_INVALID', 'RANGE_INVALID', 'CAMERA_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'events.view', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const result = await counts(request.params.id, request.query);
        const scene = sceneConfigFor(ctx.cameras.get(result.cameraId).config);
        const nameOf = (list: ReadonlyArray<{ id: string; name: string }>, id: string) =>
          list.find((item) => item.id === id)?.name ?? '';
        const rows: Array<Array<string | number>> = [];
        for (const line of result.lines)
          for (const b of line.buckets)
            rows.push([
              'line',
              line.lineId,
              nameOf(scene.lines, line.lineId),
              line.label,
              line.direction,
              formatLocalMinute(b.startTimeMs, ctx.timeZone),
              b.startTimeMs,
              b.count,
              '',
            ]);
        for (const zone of result.zones)
          for (const b of zone.buckets)
            rows.push([
              'zone',
              zone.zoneId,
              nameOf(scene.zones, zone.zoneId),
              zone.label,
              '',
              formatLocalMinute(b.startTimeMs, ctx.timeZone),
              b.startTimeMs,
              b.entries,
              b.maxOccupancy,
            ]);
        const text = [
          CSV_COLUMNS.join(','),
          ...rows.map((row) => row.map((cell) => csvCell(cell)).join(',')),
        ].join('\r\n');
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="vigil-counts-${result.cameraId}.csv"`)
          .send(`${text}\r\n`);
      },
    );
  };
}
