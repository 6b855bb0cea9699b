import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { CameraSchema, validateCamera, type CameraConfig } from '../config/index.js';
import { VigilError } from '../errors/catalogue.js';

/**
 * Request shapes shared by the routes; Fastify validates them with Ajv before a handler runs. Their
 * descriptions are for the OpenAPI description (openapi.ts) and change no validation.
 */
export const cameraIdParams = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'The camera id.' }),
});
export type CameraIdParams = Static<typeof cameraIdParams>;

export const streamName = Type.Union([Type.Literal('main'), Type.Literal('sub')], {
  default: 'main',
  description: 'The stream: `main` (default) or `sub`.',
});

/** Times are ISO-8601 or epoch ms; parsed by time/parse.ts so errors name the parameter. */
export const rangeQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 40, description: 'Start, ISO-8601 or epoch ms.' })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'End (excluded), ISO-8601 or epoch ms.' })),
  stream: Type.Optional(streamName),
});
export type RangeQuery = Static<typeof rangeQuery>;

export const streamQuery = Type.Object({ stream: Type.Optional(streamName) });
export type StreamQuery = Static<typeof streamQuery>;

export const liveQuery = Type.Object({
  stream: Type.Optional(streamName),
  via: Type.Optional(
    Type.Union([Type.Literal('mse'), Type.Literal('webrtc')], {
      description:
        '`mse` (default): fragmented MP4 over the socket. `webrtc`: the socket carries signalling only ' +
        '(an offer from the server, the answer and ICE candidates) and the video goes over WebRTC.',
    }),
  ),
});
export type LiveQuery = Static<typeof liveQuery>;

export const segmentParams = Type.Object({
  id: cameraIdParams.properties.id,
  segmentId: Type.Integer({ minimum: 1, description: 'A segment id, from the playlist.' }),
});
export type SegmentParams = Static<typeof segmentParams>;

export const partParams = Type.Object({
  id: cameraIdParams.properties.id,
  segmentId: segmentParams.properties.segmentId,
  range: Type.String({
    pattern: '^\\d+-\\d+\\.m4s$',
    description: '`START-END.m4s`: bytes [START, END) of the segment file, whole fragments.',
  }),
});
export type PartParams = Static<typeof partParams>;

/** A stream to test: the camera form's fields; `camera`/`stream` name the camera being edited. */
export const probeBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    user: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
    kind: Type.Optional(
      Type.Union([
        Type.Literal('auto'),
        Type.Literal('mjpeg'),
        Type.Literal('snapshot'),
        Type.Literal('hls'),
      ]),
    ),
    snapshotIntervalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
    camera: Type.Optional(cameraIdParams.properties.id),
    stream: Type.Optional(streamName),
  },
  { additionalProperties: false },
);
export type ProbeBody = Static<typeof probeBody>;

/**
 * What POST and PUT /api/cameras bodies validate to: the camera as the config file would define
 * it (defaults applied, credentials out of the URL), and the streams sent without a `password`
 * key (a form never sees passwords: those keep the stored one).
 */
export interface CameraBody {
  camera: CameraConfig;
  keepStoredPassword: Array<'main' | 'sub'>;
}

/** The camera schema of the config file, which POST and PUT /api/cameras declare as their body. */
export const cameraBody = CameraSchema;

function validateCameraBody(body: unknown): { value: CameraBody } | { error: VigilError } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      error: new VigilError('REQUEST_INVALID', 'the body must be a JSON object describing the camera'),
    };
  }
  // The config's own rules: the schema, then what JSON Schema cannot say (URL schemes, labels,
  // user names in URLs), with the messages and key paths the config file gets.
  const result = validateCamera(body, 'body', { origin: 'api' });
  if (!result.ok) {
    const message = result.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    return { error: new VigilError('REQUEST_INVALID', message, { problems: result.problems }) };
  }
  const sent = (body as { streams?: Record<string, unknown> }).streams ?? {};
  const keepStoredPassword = (['main', 'sub'] as const).filter((name) => {
    const stream = sent[name];
    return typeof stream === 'object' && stream !== null && !('password' in stream);
  });
  return { value: { camera: result.camera, keepStoredPassword } };
}

/**
 * The validator compiler of the routes that take a camera body: the body by the config's rules
 * (above), other parts by their TypeBox schema, with errors worded like the other routes'.
 */
export const cameraBodyValidator: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return validateCameraBody;
  // Fastify types each part's schema as the route's whole FastifySchema; here it is one part's TypeBox schema.
  const checker = TypeCompiler.Compile(schema as TSchema);
  return (data: unknown) => {
    if (checker.Check(data)) return { value: data };
    const problems = [...checker.Errors(data)].map(
      (e) => `${httpPart ?? 'request'}${e.path.replaceAll('/', '.')} ${e.message}`,
    );
    return { error: new VigilError('REQUEST_INVALID', problems.join('; ')) };
  };
};
