import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { CameraRuntime } from '../../app/camera-manager.js';
import { redactCamera, validateCamera, type CameraConfig } from '../../config/index.js';
import { VigilError } from '../../errors/catalogue.js';
import type { ApiContext } from '../context.js';
import { cameraFilter } from '../../auth/permissions.js';
import { actorOf, auditTarget, type AuditAction } from '../../audit/entry.js';
import { probeStream } from '../../ingest/probe.js';
import { clientIp, principalOf } from '../auth-hooks.js';
import { cameraIdParams, probeBody, type CameraIdParams, type ProbeBody } from '../schemas.js';
import type { CameraView, ProbeResponse } from '../types.js';

/** Long enough for a camera on a slow link to answer and send a keyframe; short enough to wait for. */
const PROBE_TIMEOUT_MS = 15_000;

function cameraView(ctx: ApiContext, camera: CameraRuntime): CameraView {
  return {
    id: camera.config.id,
    name: camera.config.name,
    enabled: camera.config.enabled,
    source: camera.source,
    retention: camera.config.retention ?? null,
    streams: Object.fromEntries(ctx.cameras.viewStreams(camera).map((s) => [s.name, s])),
  };
}

function parseCameraBody(body: unknown, idFromPath?: string): CameraConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new VigilError('REQUEST_INVALID', 'the body must be a JSON object describing the camera');
  }
  const candidate = idFromPath === undefined ? body : { id: idFromPath, ...body };
  if (idFromPath !== undefined && 'id' in body && (body as { id: unknown }).id !== idFromPath) {
    throw new VigilError(
      'REQUEST_INVALID',
      `body.id '${String((body as { id: unknown }).id)}' differs from the id in the path '${idFromPath}'`,
    );
  }
  const result = validateCamera(candidate, 'body');
  if (!result.ok) {
    throw new VigilError(
      'REQUEST_INVALID',
      result.problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      {
        problems: result.problems,
      },
    );
  }
  return result.camera;
}

/**
 * A form that edits a camera never sees its passwords (no response carries them), so a stream
 * sent without a `password` key keeps the one stored; `"password": ""` removes it.
 */
function keepPasswords(camera: CameraConfig, current: CameraConfig, body: unknown): CameraConfig {
  const sentStreams = (body as { streams?: Record<string, object | undefined> }).streams ?? {};
  const streams = { ...camera.streams };
  for (const name of ['main', 'sub'] as const) {
    const stream = streams[name];
    const sent = sentStreams[name];
    if (!stream || !sent || 'password' in sent || stream.password !== undefined) continue;
    const stored = current.streams[name]?.password;
    if (stored !== undefined) streams[name] = { ...stream, password: stored };
  }
  return { ...camera, streams: streams as CameraConfig['streams'] };
}

function assertApiManaged(camera: CameraRuntime): void {
  if (camera.source === 'config') {
    throw new VigilError(
      'CAMERA_FROM_CONFIG',
      `camera '${camera.config.id}' is defined in the configuration file; change it there and restart`,
    );
  }
}

/** Camera changes are configuration changes: audited with the camera as sent, minus passwords. */
function auditCamera(
  ctx: ApiContext,
  request: FastifyRequest,
  action: AuditAction,
  camera: CameraConfig | string,
): void {
  const id = typeof camera === 'string' ? camera : camera.id;
  ctx.auth.record({
    actor: actorOf(principalOf(request)),
    action,
    target: auditTarget.camera(id),
    ...(typeof camera === 'string' ? {} : { details: { camera: redactCamera(camera) } }),
    ip: clientIp(request),
  });
}

export function cameraRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/cameras',
      { config: { access: { permission: 'cameras.view', camera: 'filtered' } } },
      async (request) => {
        const granted = cameraFilter(principalOf(request), 'cameras.view');
        const cameras = ctx.cameras.list().filter((c) => granted === null || granted.has(c.config.id));
        return { cameras: cameras.map((c) => cameraView(ctx, c)) };
      },
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      {
        schema: { params: cameraIdParams },
        config: { access: { permission: 'cameras.view', camera: { param: 'id' } } },
      },
      async (request) => cameraView(ctx, ctx.cameras.get(request.params.id)),
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id/status',
      {
        schema: { params: cameraIdParams },
        config: { access: { permission: 'cameras.view', camera: { param: 'id' } } },
      },
      async (request) => {
        const camera = ctx.cameras.get(request.params.id);
        const oldestMs = await ctx.index.oldestStartTimeMs(camera.config.id);
        return {
          id: camera.config.id,
          streams: Object.fromEntries(
            ctx.cameras.viewStreams(camera).map((s) => [s.name, { ...s.status, recording: s.recording }]),
          ),
          oldestRecordingMs: oldestMs,
        };
      },
    );

    /**
     * "Test connection" for the camera form: pulls the stream once, as recording would, and says
     * what it found or exactly what is wrong. `camera` + `stream` name a camera being edited, so
     * its stored password is used when the form sends none.
     */
    app.post<{ Body: ProbeBody }>(
      '/api/cameras/probe',
      { schema: { body: probeBody }, config: { access: { permission: 'cameras.manage' } } },
      async (request): Promise<ProbeResponse> => {
        const { camera: cameraId, stream: streamName, ...streamBody } = request.body;
        const stored =
          cameraId !== undefined && ctx.cameras.has(cameraId)
            ? ctx.cameras.get(cameraId).config.streams[streamName ?? 'main']
            : undefined;
        const sent = 'password' in streamBody || stored?.password === undefined;
        const result = validateCamera(
          {
            id: 'probe',
            streams: { main: sent ? streamBody : { ...streamBody, password: stored?.password } },
          },
          'body',
        );
        if (!result.ok) {
          throw new VigilError(
            'REQUEST_INVALID',
            result.problems
              .map((p) => `${p.path.replace('body.streams.main', 'body')}: ${p.message}`)
              .join('; '),
          );
        }
        return probeStream(result.camera.streams.main, {
          ffmpeg: ctx.ffmpeg,
          clock: ctx.clock,
          log: ctx.log.child({ component: 'probe' }),
          timeoutMs: PROBE_TIMEOUT_MS,
        });
      },
    );

    app.post(
      '/api/cameras',
      { config: { access: { permission: 'cameras.manage' } } },
      async (request, reply) => {
        const camera = parseCameraBody(request.body);
        if (ctx.cameras.has(camera.id)) {
          throw new VigilError(
            'CAMERA_EXISTS',
            `a camera '${camera.id}' exists already; use PUT /api/cameras/${camera.id}`,
          );
        }
        await ctx.cameraStore.put(camera, ctx.clock.nowMs());
        const runtime = await ctx.cameras.add(camera, 'api');
        auditCamera(ctx, request, 'camera.create', camera);
        return reply.code(201).send(cameraView(ctx, runtime));
      },
    );

    app.put<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      { schema: { params: cameraIdParams }, config: { access: { permission: 'cameras.manage' } } },
      async (request) => {
        const current = ctx.cameras.get(request.params.id);
        assertApiManaged(current);
        const camera = keepPasswords(
          parseCameraBody(request.body, request.params.id),
          current.config,
          request.body,
        );
        await ctx.cameraStore.put(camera, ctx.clock.nowMs());
        auditCamera(ctx, request, 'camera.update', camera);
        return cameraView(ctx, await ctx.cameras.replace(camera, 'api'));
      },
    );

    app.delete<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      { schema: { params: cameraIdParams }, config: { access: { permission: 'cameras.manage' } } },
      async (request, reply) => {
        assertApiManaged(ctx.cameras.get(request.params.id));
        await ctx.cameras.remove(request.params.id);
        await ctx.cameraStore.delete(request.params.id);
        auditCamera(ctx, request, 'camera.delete', request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
