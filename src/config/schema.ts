import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { SIZE_TEXT_PATTERN } from './size.js';

/**
 * The one schema of Vigil's configuration file. It validates the file, produces
 * docs/ref/config.schema.json and the tables in docs/ref/config.md, so every property carries a
 * description. Checks JSON Schema cannot express (URL schemes, unique camera ids, retry bounds)
 * live in normalise.ts.
 */

// Side tables keyed by schema identity, so nothing non-standard leaks into the JSON Schema that
// editors and Ajv read.
const errorHints = new WeakMap<TSchema, (value: unknown) => string>();
const docDefaults = new WeakMap<TSchema, string>();
const sizeSchemas = new WeakSet<TSchema>();

/** A message for a value that fails this schema, where the generic one would be unhelpful. */
export function errorHintFor(schema: TSchema): ((value: unknown) => string) | undefined {
  return errorHints.get(schema);
}

/** The default to show in the docs for a default computed by the loader, not stated in the schema. */
export function docDefaultFor(schema: TSchema): string | undefined {
  return docDefaults.get(schema);
}

export function isSizeSchema(schema: TSchema): boolean {
  return sizeSchemas.has(schema);
}

/** Type.Optional copies the schema, so the side tables must follow the copy. */
function optional<T extends TSchema>(schema: T) {
  const copy = Type.Optional(schema);
  const hint = errorHints.get(schema);
  const docDefault = docDefaults.get(schema);
  if (hint) errorHints.set(copy, hint);
  if (docDefault !== undefined) docDefaults.set(copy, docDefault);
  if (sizeSchemas.has(schema)) sizeSchemas.add(copy);
  return copy;
}

function hinted<T extends TSchema>(schema: T, hint: (value: unknown) => string): T {
  errorHints.set(schema, hint);
  return schema;
}

function computedDefault<T extends TSchema>(schema: T, text: string): T {
  docDefaults.set(schema, text);
  return schema;
}

/** Quotes a value for a message, shortened so one bad value cannot flood the terminal. */
export function quoteValue(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return `'${text.length > 60 ? `${text.slice(0, 57)}...` : text}'`;
}

function Size(options: { description: string; default?: string }) {
  const schema = Type.Union(
    [Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_TEXT_PATTERN })],
    options,
  );
  sizeSchemas.add(schema);
  return hinted(schema, (value) =>
    typeof value === 'string' || typeof value === 'number'
      ? `${quoteValue(value)} is not a size: use a number of bytes or e.g. 500GB`
      : 'must be a size: a number of bytes or e.g. 500GB',
  );
}

// host:port, with IPv6 hosts in brackets as in URLs.
export const LISTEN_PATTERN = '^(\\[[0-9a-fA-F:.]+\\]|[^\\s:\\[\\]]+):[0-9]{1,5}$';

export const CAMERA_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

export const StreamSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      description:
        'Where the video comes from. `rtsp://` or `rtsps://` (IP cameras), `http://` or `https://` (MJPEG or HLS), ' +
        '`file:` (a local video file played in a loop in real time: `file:///abs/clip.mp4`, or `file:clip.mp4` ' +
        "relative to the config file's folder), `testsrc:` (a synthetic test pattern, e.g. " +
        '`testsrc:?size=1280x720&fps=10`). May hold `${VAR}` references, e.g. for a password.',
    }),
    transport: optional(
      Type.Union([Type.Literal('tcp'), Type.Literal('udp')], {
        default: 'tcp',
        description:
          'RTSP transport for the media, for rtsp:// and rtsps:// URLs (udp elsewhere is an error). TCP survives lossy Wi-Fi and NAT; ' +
          'UDP has less latency on a clean wired network.',
      }),
    ),
    audio: optional(
      Type.Union([Type.Literal('auto'), Type.Literal('copy'), Type.Literal('aac'), Type.Literal('off')], {
        default: 'auto',
        description:
          'Audio handling: `auto` copies audio MP4 can hold and transcodes the rest (G.711) to AAC; ' +
          '`copy` always copies; `aac` always transcodes; `off` records video only.',
      }),
    ),
    user: Type.Optional(
      Type.String({
        description: 'User name for the camera, instead of writing it into the URL. Not both.',
      }),
    ),
    password: Type.Optional(
      Type.String({
        description:
          'Password for the camera, instead of writing it into the URL (then it needs no %-encoding). ' +
          'Use `${VAR}` to keep it out of the file.',
      }),
    ),
  },
  {
    title: 'Stream',
    additionalProperties: false,
    description: 'One video feed of a camera.',
  },
);

export const CameraRetentionSchema = Type.Object(
  {
    continuousDays: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: "Days to keep this camera's continuous recording; overrides `retention.continuousDays`.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Overrides of the global `retention` settings for this camera.',
  },
);

export const CameraSchema = Type.Object(
  {
    id: hinted(
      Type.String({
        pattern: CAMERA_ID_PATTERN,
        description:
          'Stable identifier, used in URLs, file names and the API: 1 to 63 lowercase letters, digits, `-` ' +
          'or `_`, starting with a letter or digit. Unique among all cameras.',
      }),
      (value) =>
        typeof value === 'number'
          ? 'must be text: put it in quotes'
          : typeof value === 'string'
            ? `${quoteValue(value)} is not a valid camera id: use 1 to 63 lowercase letters, digits, '-' or '_', ` +
              'starting with a letter or digit (e.g. front-door)'
            : 'must be a camera id such as front-door',
    ),
    name: optional(
      computedDefault(
        Type.String({ minLength: 1, maxLength: 200, description: 'Name shown in the UI.' }),
        'the id',
      ),
    ),
    enabled: optional(
      Type.Boolean({
        default: true,
        description:
          'Whether Vigil connects to and records this camera. A disabled camera keeps its recordings.',
      }),
    ),
    streams: Type.Object(
      {
        main: StreamSchema,
        sub: Type.Optional(StreamSchema),
      },
      {
        additionalProperties: false,
        description:
          '`main` is recorded; the optional `sub` (lower resolution) feeds analytics and the grid view. ' +
          'Without `sub`, `main` does everything.',
      },
    ),
    retention: Type.Optional(CameraRetentionSchema),
  },
  { title: 'Camera', additionalProperties: false, description: 'A physical camera and its streams.' },
);

export const ServerSchema = Type.Object(
  {
    listen: optional(
      hinted(
        Type.String({
          pattern: LISTEN_PATTERN,
          default: '127.0.0.1:8080',
          description:
            'Address and port of the web UI and API, as host:port. The default serves this machine only; ' +
            'use `0.0.0.0:8080` to serve the network. Port 0 picks a free port (for tests).',
        }),
        (value) =>
          typeof value === 'number'
            ? `${value} is not host:port: use e.g. 127.0.0.1:${value} or 0.0.0.0:${value}`
            : `${quoteValue(value)} is not host:port: use e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080`,
      ),
    ),
  },
  { additionalProperties: false, default: {}, description: 'The HTTP server.' },
);

export const StorageSchema = Type.Object(
  {
    path: optional(
      Type.String({
        minLength: 1,
        default: './data',
        description:
          "Folder for recordings and the database. Relative paths are resolved against the config file's folder; " +
          '`~/` is the home folder.',
      }),
    ),
    maxBytes: optional(
      computedDefault(
        Size({
          description:
            'Total budget for recordings: the oldest are deleted beyond it, before their retention ends. ' +
            'A number of bytes or a size such as `500GB` or `2TiB`.',
        }),
        'no limit',
      ),
    ),
    minFreeBytes: optional(
      Size({
        default: '5GB',
        description:
          'Free space to keep on the file system: the oldest recordings are deleted to keep at least this much.',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Where and how much Vigil stores.' },
);

export const RecordingSchema = Type.Object(
  {
    segmentDurationMs: optional(
      Type.Integer({
        minimum: 2000,
        maximum: 600000,
        default: 60000,
        description:
          'Recording files roll over at the first keyframe after this long. Shorter segments lose less in a ' +
          'crash and are deleted more precisely; longer ones mean fewer files.',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Continuous recording.' },
);

export const RetentionSchema = Type.Object(
  {
    continuousDays: optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: 3,
        description:
          'Days to keep continuous recordings; fractions allowed (0.5 = 12 h). The default follows the EDPB ' +
          'guidance on video devices (72 h). Cameras may override it.',
      }),
    ),
    checkIntervalMs: optional(
      Type.Integer({
        minimum: 100,
        default: 10000,
        description: 'How often retention and the storage budget are enforced.',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'How long recordings are kept.' },
);

export const IngestSchema = Type.Object(
  {
    ffmpegPath: optional(
      computedDefault(
        Type.String({
          minLength: 1,
          description:
            "The ffmpeg binary. A path with a `/` is resolved against the config file's folder; a bare name is " +
            'looked up on PATH.',
        }),
        'system ffmpeg on PATH, else the one shipped with the npm package',
      ),
    ),
    retryInitialMs: optional(
      Type.Integer({
        minimum: 100,
        default: 1000,
        description: 'Wait before the first reconnect to a failed stream; doubled after each failure.',
      }),
    ),
    retryMaxMs: optional(
      Type.Integer({
        minimum: 100,
        default: 5000,
        description: 'Longest wait between reconnects. At least `retryInitialMs`.',
      }),
    ),
    stallTimeoutMs: optional(
      Type.Integer({
        minimum: 1000,
        default: 10000,
        description: 'A stream that delivers no media for this long is restarted.',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Connecting to cameras.' },
);

export const VigilConfigSchema = Type.Object(
  {
    server: Type.Optional(ServerSchema),
    storage: Type.Optional(StorageSchema),
    recording: Type.Optional(RecordingSchema),
    retention: Type.Optional(RetentionSchema),
    ingest: Type.Optional(IngestSchema),
    cameras: Type.Optional(
      Type.Array(CameraSchema, {
        default: [],
        description:
          'Cameras managed by this file. They are read-only through the API; cameras added through the API are ' +
          "stored in Vigil's database.",
      }),
    ),
  },
  { title: 'Vigil configuration', additionalProperties: false },
);

/** The config file as written (before defaults), e.g. for a typed object passed to parseConfigObject. */
export type VigilConfigInput = Static<typeof VigilConfigSchema>;
export type CameraConfigInput = Static<typeof CameraSchema>;
export type StreamConfigInput = Static<typeof StreamSchema>;
