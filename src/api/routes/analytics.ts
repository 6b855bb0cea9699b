import type { FastifyPluginAsync } from 'fastify';
import { parseRangeParams } from '../../time/parse.js';
import type { AnalyticsService } from '../../analytics/pipeline/analytics-service.js';
import type { CameraManager } from '../../camera/camera-manager.js';
import type { MotionIndex } from '../../storage/motion-index.js';
import type { Clock } from '../../time/clock.js';
import { cameraIdParams, rangeQuery, type CameraIdParams, type RangeQuery } from '../schemas.js';
import type {
  AnalyticsStatusResponse,
  CameraEventsResponse,
  MotionPeriodsResponse,
} from '../../contract/recordings.js';
import type { CameraEventIndex } from '../../storage/camera-event-index.js';
import { errors, json, type Tag } from '../openapi.js';
import {
  analyticsStatusResponse,
  cameraEventsResponse,
  heatMap,
  motionPeriodsResponse,
} from '../response-schemas.js';
import { heatMapOf } from '../../events/heatmap.js';
import type { EventStore } from '../../events/store.js';
import type { HeatMap } from '../../contract/scene.js';
import { Type, type Static } from '@sinclair/typebox';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const tags: Tag[] = ['analytics'];

/** What the analytics routes use. */
export interface AnalyticsRouteDeps {
  cameras: Pick<CameraManager, 'get'>;
  motion: Pick<MotionIndex, 'inRange'>;
  /** The cameras' own events (ONVIF), for the timeline's marks. */
  cameraEvents: Pick<CameraEventIndex, 'inRange'>;
  analytics: Pick<AnalyticsService, 'status'>;
  /** Event paths, for the heat map. */
  events: Pick<EventStore, 'query'>;
  clock: Clock;
}

const heatMapQuery = Type.Object({
  from: rangeQuery.properties.from,
  to: rangeQuery.properties.to,
  label: Type.Optional(
    Type.String({ minLength: 1, maxLength: 40, description: 'Only events of this label, e.g. `person`.' }),
  ),
});
type HeatMapQuery = Static<typeof heatMapQuery>;

export function analyticsRoutes(ctx: AnalyticsRouteDeps): FastifyPluginAsync {
  return async (app) => {
    /** When something moved on the camera: the timeline shades these. */
    app.get<{ Params: CameraIdParams; Querystring: RangeQuery }>(
      '/api/cameras/:id/motion',
      {
        schema: {
          operationId: 'listMotion',
          summary: 'Motion periods',
          description:
            'When something moved on the camera (what the timeline shades), oldest first. Defaults: the last ' +
            '24 h; at most 31 days. A period ends 5 s after the last frame with motion.',
          tags,
          params: cameraIdParams,
          querystring: rangeQuery,
          response: {
            200: json(motionPeriodsResponse),
            ...errors('TIME_INVALID', 'RANGE_INVALID', 'CAMERA_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'events.view', camera: { param: 'id' } } },
      },
      async (request): Promise<MotionPeriodsResponse> => {
        const camera = ctx.cameras.get(request.params.id);
        const { fromMs, toMs } = parseRangeParams(request.query, ctx.clock.nowMs(), {
          defaultSpanMs: 24 * HOUR_MS,
          maxSpanMs: 31 * 24 * HOUR_MS,
        });
        return {
          cameraId: camera.config.id,
          fromMs,
          toMs,
          periods: await ctx.motion.inRange(camera.config.id, fromMs, toMs),
        };
      },
    );

    /** What the camera itself reported (tamper, line crossing, inputs): the timeline marks these. */
    app.get<{ Params: CameraIdParams; Querystring: RangeQuery }>(
      '/api/cameras/:id/camera-events',
      {
        schema: {
          operationId: 'listCameraEvents',
          summary: "The camera's own events",
          description:
            'What the camera reported through ONVIF events other than motion (which is in `/motion`): tamper, ' +
            'line crossing, digital inputs, oldest first. Defaults: the last 24 h; at most 31 days.',
          tags,
          params: cameraIdParams,
          querystring: rangeQuery,
          response: {
            200: json(cameraEventsResponse),
            ...errors('TIME_INVALID', 'RANGE_INVALID', 'CAMERA_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'events.view', camera: { param: 'id' } } },
      },
      async (request): Promise<CameraEventsResponse> => {
        const camera = ctx.cameras.get(request.params.id);
        const { fromMs, toMs } = parseRangeParams(request.query, ctx.clock.nowMs(), {
          defaultSpanMs: 24 * HOUR_MS,
          maxSpanMs: 31 * DAY_MS,
        });
        return {
          cameraId: camera.config.id,
          fromMs,
          toMs,
          events: await ctx.cameraEvents.inRange(camera.config.id, fromMs, toMs),
        };
      },
    );

    /** Where tracked objects went: the paths of the camera's events, counted on a grid. */
    app.get<{ Params: CameraIdParams; Querystring: HeatMapQuery }>(
      '/api/cameras/:id/heatmap',
      {
        schema: {
          operationId: 'getHeatMap',
          summary: 'Heat map of event paths',
          description:
            'A grid over the picture (48 × 36 cells) counting the events whose path passed each cell, for ' +
            'events overlapping [from, to). Defaults: the last 7 days; at most 92 days. Read as events are ' +
            '(the same permission and camera grants).',
          tags,
          params: cameraIdParams,
          querystring: heatMapQuery,
          response: { 200: json(heatMap), ...errors('TIME_INVALID', 'RANGE_INVALID', 'CAMERA_NOT_FOUND') },
        },
        config: { access: { permission: 'events.view', camera: { param: 'id' } } },
      },
      async (request): Promise<HeatMap> => {
        const camera = ctx.cameras.get(request.params.id);
        const range = parseRangeParams(request.query, ctx.clock.nowMs(), {
          defaultSpanMs: 7 * DAY_MS,
          maxSpanMs: 92 * DAY_MS,
        });
        return heatMapOf(ctx.events, camera.config.id, range, request.query.label ?? null);
      },
    );

    /** Whether analytics runs on the camera, and how it keeps up. */
    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id/analytics',
      {
        schema: {
          operationId: 'getAnalyticsStatus',
          summary: 'Analytics status',
          description:
            '`status` is null when detection is off for the camera; `error` says why object detection is ' +
            'unavailable (the camera keeps recording).',
          tags,
          params: cameraIdParams,
          response: { 200: json(analyticsStatusResponse), ...errors('CAMERA_NOT_FOUND') },
        },
        config: { access: { permission: 'cameras.view', camera: { param: 'id' } } },
      },
      async (request): Promise<AnalyticsStatusResponse> => {
        const camera = ctx.cameras.get(request.params.id);
        const status = ctx.analytics.status(camera.config.id);
        return { cameraId: camera.config.id, enabled: status !== null && status.error === null, status };
      },
    );
  };
}
