import { Type, type Static } from '@sinclair/typebox';

/** Request shapes shared by the routes; Fastify validates them with Ajv before a handler runs. */
export const cameraIdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }) });
export type CameraIdParams = Static<typeof cameraIdParams>;

export const streamName = Type.Union([Type.Literal('main'), Type.Literal('sub')], { default: 'main' });

/** Times are ISO-8601 or epoch ms; parsed by time/parse.ts so errors name the parameter. */
export const rangeQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  stream: Type.Optional(streamName),
});
export type RangeQuery = Static<typeof rangeQuery>;

export const streamQuery = Type.Object({ stream: Type.Optional(streamName) });
export type StreamQuery = Static<typeof streamQuery>;

export const segmentParams = Type.Object({
  id: cameraIdParams.properties.id,
  segmentId: Type.Integer({ minimum: 1 }),
});
export type SegmentParams = Static<typeof segmentParams>;

export const partParams = Type.Object({
  id: cameraIdParams.properties.id,
  segmentId: Type.Integer({ minimum: 1 }),
  range: Type.String({ pattern: '^\\d+-\\d+\\.m4s$' }),
});
export type PartParams = Static<typeof partParams>;

/** A stream to test: the camera form's fields; `camera`/`stream` name the camera being edited. */
export const probeBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    user: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
    camera: Type.Optional(cameraIdParams.properties.id),
    stream: Type.Optional(streamName),
  },
  { additionalProperties: false },
);
export type ProbeBody = Static<typeof probeBody>;
