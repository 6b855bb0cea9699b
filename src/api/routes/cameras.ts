import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { can, cameraFilter } from '../../auth/permissions.js';
import type { CameraDetails, CameraService } from '../../camera-admin/camera-service.js';
import { principalOf, requesterOf } from '../auth-hooks.js';
import {
  cameraBody,
  cameraBodyValidator,
  cameraIdParams,
  probeBody,
  type CameraBody,
  type CameraIdParams,
  type ProbeBody,
} from '../schemas.js';
import type { CameraView, ProbeResponse } from '../../contract/cameras.js';
import type { CameraPrivacyView } from '../../contract/privacy.js';
import { privacyConfigFor, sceneConfigFor, type CameraConfig } from '../../config/index.js';
import type { CameraSceneView } from '../../contract/scene.js';
import { redactUrl } from '../../config/url.js';
import { errors, json, noBody, type Tag } from '../openapi.js';
import {
  cameraList,
  cameraStatus,
  cameraView as cameraViewSchema,
  probeResponse,
} from '../response-schemas.js';

const tags: Tag[] = ['cameras'];
const CAMERA_BODY =
  'A camera as in the configuration file (docs/ref/config.md), as JSON. Passwords are never returned, ' +
  'so a stream sent without a `password` key keeps the stored one; `"password": ""` removes it.';

/**
 * The camera as the caller may see it. The camera's user name is half of its login (often the
 * camera's own admin account): only callers who manage cameras (the edit form) see it.
 */
function cameraView(camera: CameraDetails, request: FastifyRequest): CameraView {
  const showUser = can(principalOf(request), 'cameras.manage');
  return {
    id: camera.config.id,
    name: camera.config.name,
    enabled: camera.config.enabled,
    source: camera.source,
    retention: camera.config.retention ?? null,
    streams: Object.fromEntries(camera.streams.map((s) => [s.name, showUser ? s : { ...s, user: null }])),
    privacy: privacyView(camera.config),
    scene: sceneView(camera.config),
    onvif: camera.config.onvif
      ? {
          url: redactUrl(camera.config.onvif.url),
          user: showUser ? (camera.config.onvif.user ?? null) : null,
          events: camera.config.onvif.events,
        }
      : null,
  };
}

function sceneView(camera: CameraConfig): CameraSceneView {
  const scene = sceneConfigFor(camera);
  const point = ([x, y]: readonly [number, number]): [number, number] => [x, y];
  return {
    zones: scene.zones.map((z) => ({ ...z, points: z.points.map(point), labels: [...z.labels] })),
    lines: scene.lines.map((l) => ({ ...l, a: point(l.a), b: point(l.b), labels: [...l.labels] })),
    referencePoint: scene.referencePoint,
    objectMasks: scene.objectMasks.map((polygon) => polygon.map(point)),
  };
}

function privacyView(camera: CameraConfig): CameraPrivacyView {
  const privacy = privacyConfigFor(camera);
  return {
    masks: privacy.masks.map((m) => ({
      id: m.id,
      ...(m.name !== undefined ? { name: m.name } : {}),
      kind: m.kind,
      polygon: m.polygon.map(([x, y]) => [x, y]),
    })),
    maskAtRecording: privacy.maskAtRecording,
  };
}

/** Cameras: list, look, test a connection, add, change, remove (CameraService does the work). */
export function cameraRoutes(cameras: CameraService): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/cameras',
      {
        schema: {
          operationId: 'listCameras',
          summary: 'List cameras',
          tags,
          response: { 200: json(cameraList) },
        },
        config: { access: { permission: 'cameras.view', camera: 'filtered' } },
      },
      async (request) => {
        const granted = cameraFilter(principalOf(request), 'cameras.view');
        const visible = cameras.list().filter((c) => granted === null || granted.has(c.config.id));
        return { cameras: visible.map((c) => cameraView(c, request)) };
      },
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      {
        schema: {
          operationId: 'getCamera',
          summary: 'One camera',
          tags,
          params: cameraIdParams,
          response: { 200: json(cameraViewSchema), ...errors('CAMERA_NOT_FOUND') },
        },
        config: { access: { permission: 'cameras.view', camera: { param: 'id' } } },
      },
      async (request) => cameraView(cameras.get(request.params.id), request),
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id/status',
      {
        schema: {
          operationId: 'getCameraStatus',
          summary: "A camera's stream status",
          tags,
          params: cameraIdParams,
          response: { 200: json(cameraStatus), ...errors('CAMERA_NOT_FOUND') },
        },
        config: { access: { permission: 'cameras.view', camera: { param: 'id' } } },
      },
      async (request) => cameras.status(request.params.id),
    );

    /** "Test connection" for the camera form. */
    app.post<{ Body: ProbeBody }>(
      '/api/cameras/probe',
      {
        schema: {
          operationId: 'probeStream',
          summary: 'Test a connection',
          description:
            'Pulls a stream once, exactly as recording would, until one second of media or the first ' +
            'failure, at most 15 s. With `camera` and `stream` and no `password`, the stored password is used.',
          tags,
          body: probeBody,
          response: {
            200: json(probeResponse),
            ...errors('CAMERA_NETWORK_REFUSED', 'CAMERA_NOT_FOUND', 'STREAM_NOT_FOUND', 'PROBE_BUSY'),
          },
        },
        config: { access: { permission: 'cameras.manage' } },
      },
      async (request): Promise<ProbeResponse> => cameras.probe(request.body),
    );

    app.post<{ Body: CameraBody }>(
      '/api/cameras',
      {
        schema: {
          operationId: 'createCamera',
          summary: 'Add a camera',
          description: `It starts recording at once. ${CAMERA_BODY}`,
          tags,
          body: cameraBody,
          response: {
            201: json(cameraViewSchema, 'The new camera.'),
            ...errors('CAMERA_EXISTS', 'CAMERA_NETWORK_REFUSED'),
          },
        },
        validatorCompiler: cameraBodyValidator,
        config: { access: { permission: 'cameras.manage' } },
      },
      async (request, reply) => {
        const created = await cameras.create(request.body.camera, requesterOf(request));
        return reply.code(201).send(cameraView(created, request));
      },
    );

    app.put<{ Params: CameraIdParams; Body: CameraBody }>(
      '/api/cameras/:id',
      {
        schema: {
          operationId: 'updateCamera',
          summary: 'Change a camera',
          description:
            'Replaces a camera added through the API (the body may leave out `id`); its streams restart ' +
            `with the new settings. Cameras from the configuration file are read-only. ${CAMERA_BODY}`,
          tags,
          params: cameraIdParams,
          body: cameraBody,
          response: {
            200: json(cameraViewSchema, 'The camera.'),
            ...errors(
              'CAMERA_NOT_FOUND',
              'CAMERA_FROM_CONFIG',
              'CAMERA_PASSWORD_REQUIRED',
              'CAMERA_NETWORK_REFUSED',
            ),
          },
        },
        validatorCompiler: cameraBodyValidator,
        config: { access: { permission: 'cameras.manage' } },
        // The id is in the path; the body may repeat it (CameraService refuses a different one).
        preValidation: async (request: FastifyRequest<{ Params: CameraIdParams }>) => {
          const body: unknown = request.body;
          if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
            request.body = { id: request.params.id, ...body };
          }
        },
      },
      async (request) => {
        const { camera, keepStoredPassword } = request.body;
        const updated = await cameras.update(
          request.params.id,
          camera,
          keepStoredPassword,
          requesterOf(request),
        );
        return cameraView(updated, request);
      },
    );

    app.delete<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      {
        schema: {
          operationId: 'deleteCamera',
          summary: 'Remove a camera',
          description: 'Stops the camera; its recordings stay until retention deletes them.',
          tags,
          params: cameraIdParams,
          response: { 204: noBody('Removed.'), ...errors('CAMERA_NOT_FOUND', 'CAMERA_FROM_CONFIG') },
        },
        config: { access: { permission: 'cameras.manage' } },
      },
      async (request, reply) => {
        await cameras.delete(request.params.id, requesterOf(request));
        return reply.code(204).send();
      },
    );
  };
}
