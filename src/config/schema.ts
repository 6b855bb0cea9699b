import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { APPROVAL_KINDS } from '../contract/approvals.js';
import { COCO_LABELS } from './coco-labels.js';
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

/** server.allowedHosts entries: a DNS name or bracketed IPv6 address, optional :port (no userinfo, no path). */
export const ALLOWED_HOST_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?$';

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
    ingest: optional(
      Type.Union([Type.Literal('ffmpeg'), Type.Literal('native')], {
        default: 'ffmpeg',
        description:
          'What pulls the stream: `ffmpeg` (a child process per stream; every source and codec) or `native` ' +
          '(Vigil itself speaks RTSP: less CPU and memory per camera; `rtsp://` over TCP with H.264 video only, ' +
          'and it records video only: audio needs `ffmpeg`).',
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
    justification: Type.Optional(
      Type.String({
        minLength: 10,
        maxLength: 1000,
        description:
          'Why this camera keeps continuous recording longer than 72 hours (the EDPB guidance); required ' +
          'when `continuousDays` is above 3. Shown on the privacy notice.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Overrides of the global `retention` settings for this camera.',
  },
);

/** Labels detected when a camera's `detect.labels` is left out: people, vehicles and pets. */
export const DEFAULT_DETECT_LABELS: readonly string[] = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'bus',
  'truck',
  'dog',
  'cat',
];

/** Labels the detector can report: the COCO object classes. Never attributes of a person. */
export const DETECT_LABELS: readonly string[] = COCO_LABELS;

const Fraction = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });

export const LabelFilterSchema = Type.Object(
  {
    minScore: Type.Optional(
      Fraction('Least detection score (0..1) for this label; overrides `detect.minScore`.'),
    ),
    minAreaFraction: Type.Optional(
      Fraction('Least box area as a fraction of the frame (0.001 = 0.1 %): smaller boxes are ignored.'),
    ),
    maxAreaFraction: Type.Optional(
      Fraction('Largest box area as a fraction of the frame: bigger boxes are ignored.'),
    ),
    minAspect: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'Least width / height of the box.' }),
    ),
    maxAspect: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'Largest width / height of the box.' }),
    ),
  },
  { additionalProperties: false, description: 'Limits a detection of one label must meet to count.' },
);

// A point [x, y] in normalised image coordinates (0..1 of the width and height).
const NormalisedPointSchema = hinted(
  Type.Array(Fraction('x or y, 0..1 of the frame'), {
    minItems: 2,
    maxItems: 2,
    description: 'A point [x, y], each 0..1 of the frame (0,0 is the top-left corner).',
  }),
  () => 'must be a point [x, y] with x and y from 0 to 1',
);

export const DetectSchema = Type.Object(
  {
    enabled: optional(
      computedDefault(
        Type.Boolean({
          description:
            'Whether Vigil looks for objects on this camera and raises events. Detection runs on the `sub` ' +
            'stream (on `main` when there is none, which costs more CPU).',
        }),
        '`true` when the camera has a `sub` stream, else `false`',
      ),
    ),
    fps: optional(
      Type.Number({
        minimum: 1,
        maximum: 15,
        default: 5,
        description:
          'Frames analysed per second. 5 follows walking people; more costs CPU and finds little more.',
      }),
    ),
    labels: optional(
      Type.Array(
        hinted(
          Type.String({ minLength: 1, description: 'A COCO object label, e.g. person, car, dog.' }),
          (value) => `${quoteValue(value)} is not a label: write a COCO object label such as person or car`,
        ),
        {
          default: [...DEFAULT_DETECT_LABELS],
          description:
            'Object labels that raise events: COCO object classes such as person, bicycle, car, motorcycle, bus, ' +
            'truck, dog, cat, bird, horse. Vigil detects objects only, never attributes of people (age, gender, ' +
            'emotion, ethnicity): refused by design.',
        },
      ),
    ),
    minScore: optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        default: 0.5,
        description: 'Least detection score (0..1) for every label; `filters` may set it per label.',
      }),
    ),
    filters: Type.Optional(
      Type.Record(Type.String(), LabelFilterSchema, {
        description:
          'Per-label limits, keyed by label: `minScore`, `minAreaFraction`, `maxAreaFraction` (box area as a ' +
          'fraction of the frame), `minAspect`, `maxAspect` (box width / height). Example: ' +
          '`{ person: { minScore: 0.6, maxAspect: 2 } }`.',
      }),
    ),
    masks: Type.Optional(
      Type.Array(
        hinted(
          Type.Array(NormalisedPointSchema, {
            minItems: 3,
            description: 'A polygon: three or more points [x, y].',
          }),
          () => 'must be a polygon: a list of three or more points [x, y]',
        ),
        {
          description:
            'Motion masks: polygons of points [x, y] normalised to 0..1 of the frame (0,0 top-left) where ' +
            'motion is ignored, e.g. a tree or a road at the edge of the picture. ' +
            'Example: `[[[0, 0], [0.3, 0], [0.3, 0.2], [0, 0.2]]]`.',
        },
      ),
    ),
    preCaptureMs: optional(
      Type.Integer({
        minimum: 0,
        maximum: 60000,
        default: 5000,
        description: "How much recording before an event's start belongs to its clip.",
      }),
    ),
    postCaptureMs: optional(
      Type.Integer({
        minimum: 0,
        maximum: 60000,
        default: 5000,
        description: "How much recording after an event's end belongs to its clip.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Object detection and events for this camera.',
  },
);

export const PRIVACY_MASK_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';

export const PrivacyMaskSchema = Type.Object(
  {
    id: hinted(
      Type.String({
        pattern: PRIVACY_MASK_ID_PATTERN,
        description:
          'Stable identifier of the mask, unique on its camera: 1 to 63 letters, digits, `-` or `_`.',
      }),
      (value) =>
        `${quoteValue(value)} is not a mask id: use letters, digits, '-' or '_' (e.g. neighbour-window)`,
    ),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Name shown in the UI, e.g. "Neighbour\'s window".',
      }),
    ),
    kind: Type.Union([Type.Literal('permanent'), Type.Literal('liftable')], {
      description:
        '`permanent`: hidden from everyone, always, and left out of analytics. `liftable`: hidden, except from a ' +
        'user with the `unmask` permission while they have an active lift (a reason and a time limit, audited).',
    }),
    polygon: hinted(
      Type.Array(NormalisedPointSchema, {
        minItems: 3,
        maxItems: 64,
        description:
          'The area hidden: three to 64 points [x, y], each 0..1 of the frame, edges not crossing.',
      }),
      () => 'must be a polygon: a list of three or more points [x, y] with x and y from 0 to 1',
    ),
  },
  {
    additionalProperties: false,
    description: 'One privacy mask: an area blacked out in every picture and video.',
  },
);

export const PrivacySchema = Type.Object(
  {
    masks: optional(
      Type.Array(PrivacyMaskSchema, {
        default: [],
        maxItems: 32,
        description:
          'Areas blacked out on the server before any picture or video of this camera leaves it (snapshots, ' +
          'event snapshots and crops, MQTT snapshots, live view, playback, exports). Example: ' +
          "`[{ id: 'window', kind: 'permanent', polygon: [[0.7, 0.1], [0.9, 0.1], [0.9, 0.4], [0.7, 0.4]] }]`.",
      }),
    ),
    maskAtRecording: optional(
      Type.Boolean({
        default: false,
        description:
          'Also black out the permanent masks in the recording itself (re-encodes the recorded stream, costs CPU). ' +
          'Off: recordings keep every pixel and the masks are applied when video is sent.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Privacy masks of this camera (docs/guide/privacy-masks.md).' },
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
    detect: Type.Optional(DetectSchema),
    privacy: Type.Optional(PrivacySchema),
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
    tls: Type.Optional(
      Type.Object(
        {
          certFile: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                'PEM certificate (chain) file; relative paths are resolved against the config file.',
            }),
          ),
          keyFile: Type.Optional(
            Type.String({ minLength: 1, description: 'PEM private key file of the certificate.' }),
          ),
          selfSigned: Type.Optional(
            Type.Boolean({
              description:
                'Without certificate files: make (and renew) a self-signed certificate in the storage folder; ' +
                'the log shows its SHA-256 fingerprint to compare with what the browser shows.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'Serve HTTPS instead of HTTP: either `certFile` and `keyFile`, or `selfSigned: true`. Sign-in cookies ' +
            'are then marked Secure.',
        },
      ),
    ),
    allowedHosts: Type.Optional(
      Type.Array(
        Type.String({
          pattern: ALLOWED_HOST_PATTERN,
          description:
            'A host name or address as browsers send it, e.g. `nvr.home.arpa`, `nvr.local:8080`, `[fd00::5]`.',
        }),
        {
          description:
            'Further names Vigil may be reached by for first-run setup and sign-in (the `Host` header), e.g. its DNS ' +
            'name or the name of a reverse proxy in front of it. A name without a port is allowed on any port. ' +
            '`localhost`, `127.0.0.1` and `[::1]` (when listening on loopback or all addresses) and the address ' +
            'Vigil listens on are always allowed, on its port. Other names are refused: a defence against DNS ' +
            'rebinding, where a web page re-points its own name at this machine.',
        },
      ),
    ),
    webrtcStunServer: Type.Optional(
      Type.String({
        pattern: '^stuns?:[^\\s]+$',
        description:
          'A STUN server for WebRTC live view, e.g. `stun:stun.example.net:3478`, so players outside the local ' +
          "network can reach Vigil through its router's public address. Unset: only this machine's own addresses " +
          'are offered (host candidates), which is enough on the local network and sends nothing to a third party.',
      }),
    ),
    metricsAllowFrom: optional(
      Type.Array(
        Type.String({
          minLength: 1,
          description: 'An address or a network in CIDR form, e.g. `192.168.1.20` or `10.0.5.0/24`.',
        }),
        {
          default: [],
          description:
            'Addresses that may read `GET /metrics` (Prometheus) without an API token, e.g. the Prometheus ' +
            "server. The address is the connection's own: `X-Forwarded-For` is not read, so do not list a " +
            'reverse proxy. Empty: a token with the `metrics.view` scope is needed (docs/ref/api.md).',
        },
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
    eventsDays: optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: 14,
        description:
          'Days to keep events (their snapshots and the recordings of their clips, which outlive ' +
          '`continuousDays`); fractions allowed.',
      }),
    ),
    justification: Type.Optional(
      Type.String({
        minLength: 10,
        maxLength: 1000,
        description:
          'Why recordings are kept longer than the EDPB guidance (continuous 72 hours, events 14 days); ' +
          'required when `continuousDays` is above 3 or `eventsDays` above 14. Shown on the privacy notice.',
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

export const MQTT_TOPIC_PREFIX_PATTERN = '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$';

const topicPrefixHint = (value: unknown) =>
  `${quoteValue(value)} is not a topic prefix: use letters, digits, '-' or '_', levels separated by '/' (e.g. vigil)`;

export const MqttSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      description:
        'The MQTT broker, `mqtt://host:1883` or `mqtts://host:8883` (TLS). MQTT is off when the `mqtt` section ' +
        'is left out.',
    }),
    topicPrefix: optional(
      hinted(
        Type.String({
          pattern: MQTT_TOPIC_PREFIX_PATTERN,
          default: 'vigil',
          description:
            'First level of every topic Vigil publishes (`vigil/available`, `vigil/<camera>/motion` …). ' +
            'Give each Vigil on one broker its own.',
        }),
        topicPrefixHint,
      ),
    ),
    user: Type.Optional(Type.String({ description: 'User name for the broker.' })),
    password: Type.Optional(
      Type.String({ description: 'Password for the broker. Use `${VAR}` to keep it out of the file.' }),
    ),
    discoveryPrefix: optional(
      hinted(
        Type.String({
          pattern: MQTT_TOPIC_PREFIX_PATTERN,
          default: 'homeassistant',
          description:
            "Home Assistant's MQTT discovery prefix: cameras appear there as devices with sensors.",
        }),
        topicPrefixHint,
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Publishing events, motion, object counts and snapshots to an MQTT broker, with Home Assistant ' +
      'discovery. Off when left out. Topics: docs/ref/mqtt.md.',
  },
);

export const ApprovalsSchema = Type.Object(
  {
    require: optional(
      Type.Array(Type.Union(APPROVAL_KINDS.map((kind) => Type.Literal(kind))), {
        uniqueItems: true,
        default: ['evidence.unlock'],
        description:
          'Actions that wait for a second user holding the same permission (four-eyes approval): ' +
          '`mask.lift`, `export.unredacted`, `evidence.unlock`, `events.delete`, `recordings.delete`. ' +
          'An empty list lets every action happen at once.',
      }),
    ),
    expiryMs: optional(
      Type.Integer({
        minimum: 60000,
        maximum: 30 * 86400000,
        default: 86400000,
        description: 'How long a request waits for approval before it expires (and must be made again).',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Four-eyes approval of sensitive actions.' },
);

export const SecuritySchema = Type.Object(
  {
    cameraNetworks: Type.Optional(
      Type.Array(
        Type.String({
          minLength: 1,
          description: 'A network in CIDR form, IPv4 or IPv6, e.g. `192.168.10.0/24` or `fd00:10::/64`.',
        }),
        {
          description:
            "Networks camera URLs must resolve into, e.g. the cameras' VLAN: a camera added or changed through " +
            'the API, a connection test, and every connection to a camera whose host resolves to an address ' +
            'outside them is refused. Left out: cameras may be anywhere. file: and testsrc: streams are not ' +
            'network connections and are not checked.',
        },
      ),
    ),
  },
  { additionalProperties: false, description: 'Limits on what Vigil connects to.' },
);

export const AnalyticsSchema = Type.Object(
  {
    detector: optional(
      Type.Object(
        {
          backend: optional(
            Type.Union([Type.Literal('auto'), Type.Literal('onnx'), Type.Literal('tfjs')], {
              default: 'auto',
              description:
                'What runs the object detector. `onnx`: onnxruntime on the CPU, measured 2–4 times faster than ' +
                '`tfjs`, the model converted from the shipped TFJS files at first start and cached. `tfjs`: ' +
                "tfjs's WebAssembly backend (one core). `auto`: onnx, and tfjs where onnxruntime cannot load " +
                '(the reason is logged).',
            }),
          ),
          threads: optional(
            Type.Integer({
              minimum: 1,
              maximum: 64,
              default: 2,
              description:
                'Threads onnxruntime uses for one inference. More is faster on an idle machine; on a busy one, 1 ' +
                'leaves cores to recording.',
            }),
          ),
          cacheDir: optional(
            computedDefault(
              Type.String({
                minLength: 1,
                description:
                  'Folder for the converted ONNX model (about 8 MB). Relative paths are resolved against the config ' +
                  "file's folder. Not inside `storage.path`: fsck would take the files for orphan recordings.",
              }),
              '`$XDG_CACHE_HOME/vigil/models`, else `~/.cache/vigil/models`',
            ),
          ),
        },
        {
          additionalProperties: false,
          default: {},
          description: 'The object detector shared by all cameras.',
        },
      ),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Object detection, for all cameras.' },
);

export const SiteSchema = Type.Object(
  {
    name: optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        default: 'Vigil',
        description: 'The place the cameras watch, as people there know it, e.g. `Town hall, main entrance`.',
      }),
    ),
    controller: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description:
          'Who records and is responsible for the recordings (the data controller): name and address.',
      }),
    ),
    purpose: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description:
          'Why the cameras record, e.g. `protection of the building and of visitors against theft`.',
      }),
    ),
    contact: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description:
          'Whom people ask about the recordings or to see their own (a data-protection contact): name, e-mail, ' +
          'telephone.',
      }),
    ),
    timeZone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          "The site's time zone, an IANA name such as `Europe/Berlin`: rule schedules and daily counts follow " +
          "it, daylight-saving changes included. Default: the machine's time zone.",
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Who records and why: printed on the privacy notice (System → Privacy notice).',
  },
);

export const VigilConfigSchema = Type.Object(
  {
    site: Type.Optional(SiteSchema),
    server: Type.Optional(ServerSchema),
    storage: Type.Optional(StorageSchema),
    recording: Type.Optional(RecordingSchema),
    retention: Type.Optional(RetentionSchema),
    ingest: Type.Optional(IngestSchema),
    mqtt: Type.Optional(MqttSchema),
    analytics: optional(AnalyticsSchema),
    security: Type.Optional(SecuritySchema),
    approvals: Type.Optional(ApprovalsSchema),
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
export type DetectConfigInput = Static<typeof DetectSchema>;
export type MqttConfigInput = Static<typeof MqttSchema>;
export type PrivacyConfigInput = Static<typeof PrivacySchema>;
