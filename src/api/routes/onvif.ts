import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { DiscoverResponse, OnvifProbeResponse, PtzPresetList } from '../../contract/onvif.js';
import type { OnvifService } from '../../onvif/onvif-service.js';
import { requesterOf } from '../auth-hooks.js';
import { errors, json, noBody, type Tag } from '../openapi.js';
import { discoverResponse, onvifProbeResponse, ptzPresetList, ptzPresetView } from '../response-schemas.js';
import { cameraIdParams, type CameraIdParams } from '../schemas.js';

const tags: Tag[] = ['onvif'];

const discoverBody = Type.Object(
  {
    durationMs: Type.Optional(
      Type.Integer({
        minimum: 500,
        maximum: 10_000,
        description: 'How long to wait for answers; default 3000.',
      }),
    ),
    interfaceAddress: Type.Optional(
      Type.String({
        pattern: '^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$',
        description: "IPv4 address of the interface on the cameras' network; default the system's choice.",
      }),
    ),
  },
  { additionalProperties: false },
);
type DiscoverBody = Static<typeof discoverBody>;

const onvifProbeBody = Type.Object(
  {
    address: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'A discovered device service URL, or a host[:port] (then /onvif/device_service).',
    }),
    user: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
type OnvifProbeBody = Static<typeof onvifProbeBody>;

const speed = (what: string) => Type.Number({ minimum: -1, maximum: 1, default: 0, description: what });
const moveBody = Type.Object(
  {
    pan: Type.Optional(speed('Pan speed, -1 (left) to 1 (right).')),
    tilt: Type.Optional(speed('Tilt speed, -1 (down) to 1 (up).')),
    zoom: Type.Optional(speed('Zoom speed, -1 (out) to 1 (in).')),
  },
  { additionalProperties: false },
);
type MoveBody = Static<typeof moveBody>;

const presetToken = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.:-]+$',
  description: "The preset's token, as the camera lists it.",
});
const presetParams = Type.Object({ id: cameraIdParams.properties.id, preset: presetToken });
type PresetParams = Static<typeof presetParams>;
const presetBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, description: 'Name shown in the preset list.' }),
    token: Type.Optional(presetToken),
  },
  { additionalProperties: false },
);
type PresetBody = Static<typeof presetBody>;

const ONVIF_ERRORS = ['ONVIF_UNREACHABLE', 'ONVIF_AUTH_FAILED', 'ONVIF_FAULT'] as const;
const PTZ_ERRORS = ['CAMERA_NOT_FOUND', 'ONVIF_NOT_CONFIGURED', ...ONVIF_ERRORS] as const;

/** ONVIF: discovery and device probing for the camera form; PTZ of configured cameras. */
export function onvifRoutes(onvif: OnvifService): FastifyPluginAsync {
  const manage = { permission: 'cameras.manage' } as const;
  const ptz = { permission: 'ptz.control', camera: { param: 'id' } } as const;
  return async (app) => {
    app.post<{ Body: DiscoverBody }>(
      '/api/onvif/discover',
      {
        schema: {
          operationId: 'discoverOnvif',
          summary: 'Find ONVIF cameras on the network',
          description:
            'Sends a WS-Discovery probe (UDP multicast 239.255.255.250:3702) for video transmitters and ' +
            'collects the answers for `durationMs`. Finds cameras on the same network segment only.',
          tags,
          body: discoverBody,
          response: { 200: json(discoverResponse) },
        },
        config: { access: manage },
      },
      async (request): Promise<DiscoverResponse> =>
        onvif.discover({
          ...(request.body.durationMs !== undefined ? { durationMs: request.body.durationMs } : {}),
          ...(request.body.interfaceAddress !== undefined
            ? { interfaceAddress: request.body.interfaceAddress }
            : {}),
        }),
    );

    app.post<{ Body: OnvifProbeBody }>(
      '/api/onvif/probe',
      {
        schema: {
          operationId: 'probeOnvif',
          summary: 'Read an ONVIF device and propose a camera',
          description:
            'Device information, media profiles (encoder, resolution, frame rate, RTSP address) and the ' +
            'proposed streams: main = the highest resolution, sub = the lowest. Save them with ' +
            'POST /api/cameras. The address must lie in `security.cameraNetworks` when that is set.',
          tags,
          body: onvifProbeBody,
          response: { 200: json(onvifProbeResponse), ...errors('CAMERA_NETWORK_REFUSED', ...ONVIF_ERRORS) },
        },
        config: { access: manage },
      },
      async (request): Promise<OnvifProbeResponse> => onvif.probe(request.body),
    );

    app.post<{ Params: CameraIdParams; Body: MoveBody }>(
      '/api/cameras/:id/ptz/move',
      {
        schema: {
          operationId: 'ptzMove',
          summary: 'Start moving (pan, tilt, zoom)',
          description:
            'ONVIF ContinuousMove: the camera moves until `/ptz/stop`. Audited as `ptz.move` (one entry per ' +
            'user and camera in a few minutes).',
          tags,
          params: cameraIdParams,
          body: moveBody,
          response: { 204: noBody('Moving.'), ...errors(...PTZ_ERRORS) },
        },
        config: { access: ptz },
      },
      async (request, reply) => {
        const { pan = 0, tilt = 0, zoom = 0 } = request.body;
        await onvif.move(request.params.id, { pan, tilt, zoom }, requesterOf(request));
        return reply.code(204).send();
      },
    );

    app.post<{ Params: CameraIdParams }>(
      '/api/cameras/:id/ptz/stop',
      {
        schema: {
          operationId: 'ptzStop',
          summary: 'Stop moving',
          tags,
          params: cameraIdParams,
          response: { 204: noBody('Stopped.'), ...errors(...PTZ_ERRORS) },
        },
        config: { access: ptz },
      },
      async (request, reply) => {
        await onvif.stopMove(request.params.id);
        return reply.code(204).send();
      },
    );

    app.post<{ Params: CameraIdParams }>(
      '/api/cameras/:id/ptz/home',
      {
        schema: {
          operationId: 'ptzHome',
          summary: 'Go to the home position',
          description: 'Audited as `ptz.home`.',
          tags,
          params: cameraIdParams,
          response: { 204: noBody('Going home.'), ...errors(...PTZ_ERRORS) },
        },
        config: { access: ptz },
      },
      async (request, reply) => {
        await onvif.home(request.params.id, requesterOf(request));
        return reply.code(204).send();
      },
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id/ptz/presets',
      {
        schema: {
          operationId: 'listPtzPresets',
          summary: "The camera's presets",
          tags,
          params: cameraIdParams,
          response: { 200: json(ptzPresetList), ...errors(...PTZ_ERRORS) },
        },
        config: { access: ptz },
      },
      async (request): Promise<PtzPresetList> => ({ presets: await onvif.presets(request.params.id) }),
    );

    app.post<{ Params: CameraIdParams; Body: PresetBody }>(
      '/api/cameras/:id/ptz/presets',
      {
        schema: {
          operationId: 'setPtzPreset',
          summary: 'Save the current position as a preset',
          description: 'A new preset, or over the one with `token`. Audited as `ptz.preset.set`.',
          tags,
          params: cameraIdParams,
          body: presetBody,
          response: { 201: json(ptzPresetView, 'The preset.'), ...errors(...PTZ_ERRORS) },
        },
        config: { access: ptz },
      },
      async (request, reply) => {
        const preset = await onvif.setPreset(
          request.params.id,
          request.body.name,
          request.body.token,
          requesterOf(request),
        );
        return reply.code(201).send(preset);
      },
    );

    app.post<{ Params: PresetParams }>(
      '/api/cameras/:id/ptz/presets/:preset/goto',
      {
        schema: {
          operationId: 'gotoPtzPreset',
          summary: 'Go to a preset',
          description: 'Audited as `ptz.preset.goto`.',
          tags,
          params: presetParams,
          response: { 204: noBody('Going there.'), ...errors(...PTZ_ERRORS) },
        },
        config: { access: ptz },
      },
      async (request, reply) => {
        await onvif.gotoPreset(request.params.id, request.params.preset, requesterOf(request));
        return reply.code(204).send();
      },
    );

    app.delete<{ Params: PresetParams }>(
      '/api/cameras/:id/ptz/presets/:preset',
      {
        schema: {
          operationId: 'removePtzPreset',
          summary: 'Remove a preset',
          description: 'Audited as `ptz.preset.remove`.',
          tags,
          params: presetParams,
          response: { 204: noBody('Removed.'), ...errors(...PTZ_ERRORS) },
        },
        config: { access: ptz },
      },
      async (request, reply) => {
        await onvif.removePreset(request.params.id, request.params.preset, requesterOf(request));
        return reply.code(204).send();
      },
    );
  };
}
