import type { FastifyPluginAsync } from 'fastify';
import type { CameraRuntime } from '../../app/camera-manager.js';
import { validateCamera, type CameraConfig } from '../../config/index.js';
import { VigilError } from '../../errors/catalogue.js';
import type { ApiContext } from '../context.js';
import { cameraIdParams, type CameraIdParams } from '../schemas.js';

function cameraView(ctx: ApiContext, camera: CameraRuntime) {
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

function assertApiManaged(camera: CameraRuntime): void {
  if (camera.source === 'config') {
    throw new VigilError(
      'CAMERA_FROM_CONFIG',
      `camera '${camera.config.id}' is defined in the configuration file; change it there and restart`,
    );
  }
}

export function cameraRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/cameras', async () => ({ cameras: ctx.cameras.list().map((c) => cameraView(ctx, c)) }));

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      { schema: { params: cameraIdParams } },
      async (request) => cameraView(ctx, ctx.cameras.get(request.params.id)),
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id/status',
      { schema: { params: cameraIdParams } },
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

    app.post('/api/cameras', async (request, reply) => {
      const camera = parseCameraBody(request.body);
      if (ctx.cameras.has(camera.id)) {
        throw new VigilError(
          'CAMERA_EXISTS',
          `a camera '${camera.id}' exists already; use PUT /api/cameras/${camera.id}`,
        );
      }
      await ctx.cameraStore.put(camera, ctx.clock.nowMs());
      const runtime = await ctx.cameras.add(camera, 'api');
      return reply.code(201).send(cameraView(ctx, runtime));
    });

    app.put<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      { schema: { params: cameraIdParams } },
      async (request) => {
        assertApiManaged(ctx.cameras.get(request.params.id));
        const camera = parseCameraBody(request.body, request.params.id);
        await ctx.cameraStore.put(camera, ctx.clock.nowMs());
        return cameraView(ctx, await ctx.cameras.replace(camera, 'api'));
      },
    );

    app.delete<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      { schema: { params: cameraIdParams } },
      async (request, reply) => {
        assertApiManaged(ctx.cameras.get(request.params.id));
        await ctx.cameras.remove(request.params.id);
        await ctx.cameraStore.delete(request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
