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
      Type.Union([Type.Literal('auto'), Type.Literal('native'), Type.Literal('ffmpeg')], {
        default: 'auto',
        description:
          'What pulls the stream. `native`: Vigil itself speaks RTSP (about half the CPU and a third of the ' +
          'memory of ffmpeg per camera; `rtsp://` over TCP or UDP, H.264 or H.265 video, and video only). ' +
          '`ffmpeg`: a child process per stream, for every source and codec. `auto`: native where the stream ' +
          'allows it, else ffmpeg: an `rtsp://` stream starts native and moves to ffmpeg, with the reason in its ' +
          'status and the log, when its video is neither H.264 nor H.265, when it sends audio to record (`audio` not `off`), ' +
          'or when native ingest fails 3 times in a row with an RTSP error.',
      }),
    ),
    kind: optional(
      Type.Union(
        [Type.Literal('auto'), Type.Literal('mjpeg'), Type.Literal('snapshot'), Type.Literal('hls')],
        {
          default: 'auto',
          description:
            'What an `http://` or `https://` URL serves: `mjpeg` (multipart/x-mixed-replace JPEG frames), ' +
            '`snapshot` (one JPEG per request, polled every `snapshotIntervalMs`), `hls` (an `.m3u8` playlist). ' +
            '`auto` decides from the URL (`.m3u8`) and from the Content-Type the camera answers. MJPEG and ' +
            'snapshots are encoded to H.264 at their real frame rate (this costs CPU: see the system page). ' +
            'Other schemes take `auto` only.',
        },
      ),
    ),
    snapshotIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 60_000,
        description:
          "For `kind: snapshot`: how often to fetch a JPEG, in ms; this is the recording's frame rate " +
          '(1000 is 1 fps). Default 1000.',
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

export const TamperSchema = Type.Object(
  {
    enabled: optional(
      Type.Boolean({
        default: true,
        description:
          'Whether Vigil watches the picture for tampering: covered, out of focus, or moved. Runs where ' +
          'detection runs, on the frames motion detection already reads.',
      }),
    ),
    minDurationMs: optional(
      Type.Integer({
        minimum: 1000,
        maximum: 600000,
        default: 10000,
        description:
          'How long the view must stay covered, out of focus or moved before it is reported: a person ' +
          'passing close to the lens or a bird on the camera does not last this long.',
      }),
    ),
    sensitivity: optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        default: 0.5,
        description:
          'How small a change counts, 0..1: higher reports a milder blur or a smaller turn, and raises more ' +
          'false alarms. 0.5 raised none on the test footage (a tree in wind, people walking, lights).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Tamper detection: camera-health facts when the view is covered, defocused or moved for a while. ' +
      'Lights switching and day/night do not count (see docs/design/tamper.md). Default: on.',
  },
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
    tamper: Type.Optional(TamperSchema),
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

const SceneIdSchema = hinted(
  Type.String({
    pattern: PRIVACY_MASK_ID_PATTERN,
    description:
      'Stable identifier, unique among the zones and lines of its camera: 1 to 63 letters, digits, `-` or `_`.',
  }),
  (value) => `${quoteValue(value)} is not an id: use letters, digits, '-' or '_' (e.g. front-path)`,
);

const SceneLabelsSchema = Type.Array(Type.String({ minLength: 1, description: 'A COCO object label.' }), {
  default: [],
  description: 'Only these labels count here; empty: every label the camera detects.',
});

const ScenePolygonSchema = hinted(
  Type.Array(NormalisedPointSchema, {
    minItems: 3,
    maxItems: 64,
    description: 'Three to 64 points [x, y], each 0..1 of the frame, edges not crossing.',
  }),
  () => 'must be a polygon: a list of three or more points [x, y] with x and y from 0 to 1',
);

export const SceneZoneSchema = Type.Object(
  {
    id: SceneIdSchema,
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Name shown in the UI and on events; default: the id.',
      }),
    ),
    points: ScenePolygonSchema,
    labels: optional(SceneLabelsSchema),
  },
  {
    additionalProperties: false,
    description: 'A zone: an area of the picture; an object is in it when its reference point is.',
  },
);

export const SceneLineSchema = Type.Object(
  {
    id: SceneIdSchema,
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Name shown in the UI; default: the id.' }),
    ),
    a: NormalisedPointSchema,
    b: NormalisedPointSchema,
    direction: optional(
      Type.Union([Type.Literal('a-to-b'), Type.Literal('b-to-a'), Type.Literal('both')], {
        default: 'both',
        description:
          'Which crossings count. `a-to-b`: from the right-hand side of the line (standing on A, looking at B, ' +
          'on the picture) to its left; `b-to-a`: the other way; `both`: either.',
      }),
    ),
    labels: optional(SceneLabelsSchema),
  },
  {
    additionalProperties: false,
    description: 'A tripwire: a directed line from `a` to `b`; objects crossing it are counted.',
  },
);

export const SceneSchema = Type.Object(
  {
    zones: optional(
      Type.Array(SceneZoneSchema, {
        default: [],
        maxItems: 32,
        description:
          'Zones: areas where entering, leaving and how many objects are inside are reported and counted. ' +
          "Example: `[{ id: 'door', name: 'Door', points: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]] }]`.",
      }),
    ),
    lines: optional(
      Type.Array(SceneLineSchema, {
        default: [],
        maxItems: 32,
        description:
          'Tripwires: objects crossing them are counted per direction. Example: ' +
          "`[{ id: 'path', a: [0.2, 0.6], b: [0.8, 0.6], direction: 'both' }]`.",
      }),
    ),
    referencePoint: optional(
      Type.Union([Type.Literal('bottom-centre'), Type.Literal('centre')], {
        default: 'bottom-centre',
        description:
          "The point of an object's box that decides where it is: `bottom-centre` (where it stands: feet, " +
          'wheels) or `centre` (for a camera looking down).',
      }),
    ),
    objectMasks: optional(
      Type.Array(ScenePolygonSchema, {
        default: [],
        maxItems: 32,
        description:
          'Object masks: detections whose reference point lies inside are dropped before tracking (a poster of a person, ' +
          'cars parked in a car park). Motion masks are `detect.masks`.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Zones, tripwires and object masks of this camera, in coordinates 0..1 of the frame (docs/guide). ' +
      'Changing them through the API applies at once, without restarting the camera.',
  },
);

export const CameraOnvifSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://',
      description:
        "The camera's ONVIF device service, e.g. `http://192.168.1.20/onvif/device_service` (what discovery " +
        "found). PTZ and the camera's own events are asked for there.",
    }),
    user: Type.Optional(
      Type.String({ description: 'ONVIF user name (often the same account as the streams).' }),
    ),
    password: Type.Optional(
      Type.String({
        description:
          'ONVIF password. Never shown by the API or written to the audit log. Use `${VAR}` to keep it out of the file.',
      }),
    ),
    events: optional(
      Type.Boolean({
        default: true,
        description:
          "Subscribe to the camera's own events (ONVIF PullPoint): its motion, tamper, line crossing and " +
          "digital inputs. Motion from the camera counts as motion like Vigil's own.",
      }),
    ),
  },
  {
    title: 'Camera ONVIF',
    additionalProperties: false,
    description: 'Where the camera speaks ONVIF, for pan/tilt/zoom and its own events. Optional.',
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
    detect: Type.Optional(DetectSchema),
    privacy: Type.Optional(PrivacySchema),
    scene: Type.Optional(SceneSchema),
    onvif: Type.Optional(CameraOnvifSchema),
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
    exportsDays: optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: 30,
        description:
          'Days to keep signed export bundles on this machine after they are made (they are copies made to ' +
          'hand over); a bundle with a share link still valid stays until the link ends. Who exported what, ' +
          'when and why stays in the audit log.',
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

export const RULE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';
/** "HH:MM-HH:MM"; 24:00 only as an end. */
export const TIME_RANGE_PATTERN =
  '^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$|^([01][0-9]|2[0-3]):[0-5][0-9]-24:00$';
export const DEFAULT_RULE_LIMIT = { maxAlerts: 10, windowMs: 600_000, cooldownMs: 0 } as const;

const fraction = (description: string) => Type.Optional(Type.Number({ minimum: 0, maximum: 1, description }));

const objectFilter = {
  labels: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 40 }), {
      maxItems: 80,
      description: 'Only objects with these labels (e.g. `person`); empty or absent: every label.',
    }),
  ),
  minAreaFraction: fraction('Only objects whose box covers at least this fraction of the frame, 0..1.'),
  maxAreaFraction: fraction('Only objects whose box covers at most this fraction of the frame, 0..1.'),
  minScore: fraction('Only objects detected with at least this score, 0..1.'),
};

const zoneId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "The zone's id (`cameras[].scene.zones`).",
});
const durationMs = (description: string) =>
  Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, description });

export const RuleConditionSchema = Type.Union(
  [
    Type.Object(
      {
        type: Type.Union([Type.Literal('zone-entered'), Type.Literal('zone-left')]),
        zoneId,
        ...objectFilter,
      },
      { additionalProperties: false, description: 'An object entered or left the zone.' },
    ),
    Type.Object(
      {
        type: Type.Union([Type.Literal('intrusion'), Type.Literal('loitering')]),
        zoneId,
        minInsideMs: durationMs('How long the object must be inside before the rule fires, in ms.'),
        ...objectFilter,
      },
      {
        additionalProperties: false,
        description: 'An object inside the zone for at least `minInsideMs` (once per stay).',
      },
    ),
    Type.Object(
      {
        type: Type.Literal('line-crossed'),
        lineId: Type.String({
          minLength: 1,
          maxLength: 64,
          description: "The line's id (`cameras[].scene.lines`).",
        }),
        direction: Type.Union([Type.Literal('a-to-b'), Type.Literal('b-to-a'), Type.Literal('both')], {
          description: 'Which crossings count.',
        }),
        ...objectFilter,
      },
      {
        additionalProperties: false,
        description: 'An object crossed the line (once per object and direction).',
      },
    ),
    Type.Object(
      {
        type: Type.Literal('crowding'),
        zoneId,
        labels: objectFilter.labels,
        moreThan: Type.Integer({ minimum: 0, maximum: 10_000, description: 'More than this many objects.' }),
        forMs: durationMs('For at least this long, in ms.'),
      },
      { additionalProperties: false, description: 'More than `moreThan` objects in the zone for `forMs`.' },
    ),
    Type.Object(
      {
        type: Type.Literal('camera-health'),
        states: Type.Array(
          Type.Union([
            Type.Literal('stream-lost'),
            Type.Literal('stream-restored'),
            Type.Literal('tamper-covered'),
            Type.Literal('tamper-moved'),
            Type.Literal('tamper-defocused'),
            Type.Literal('tamper-cleared'),
          ]),
          { minItems: 1, maxItems: 6, description: 'The states that fire.' },
        ),
      },
      { additionalProperties: false, description: "The camera's stream or view changed state." },
    ),
  ],
  { description: 'A condition: `type` says which (docs/ref/rules.md).' },
);

export const RuleScheduleSchema = Type.Object(
  {
    days: Type.Array(
      Type.Union([
        Type.Literal('mon'),
        Type.Literal('tue'),
        Type.Literal('wed'),
        Type.Literal('thu'),
        Type.Literal('fri'),
        Type.Literal('sat'),
        Type.Literal('sun'),
      ]),
      { minItems: 1, maxItems: 7, description: 'Days a time range starts on.' },
    ),
    times: Type.Array(Type.String({ pattern: TIME_RANGE_PATTERN }), {
      minItems: 1,
      maxItems: 24,
      description: 'Time ranges `HH:MM-HH:MM`; one ending before it starts runs over midnight.',
    }),
  },
  {
    additionalProperties: false,
    description: "When the rule may fire, in the site's time zone (`site.timeZone`).",
  },
);

export const RuleActionSchema = Type.Union(
  [
    Type.Object({ type: Type.Literal('mqtt') }, { additionalProperties: false }),
    Type.Object(
      {
        type: Type.Literal('keep'),
        days: Type.Integer({
          minimum: 1,
          maximum: 3650,
          description: 'Days the recording around the alert is kept.',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { type: Type.Literal('webhook'), webhookId: Type.String({ minLength: 1, maxLength: 64 }) },
      { additionalProperties: false },
    ),
    Type.Object({ type: Type.Literal('push') }, { additionalProperties: false }),
  ],
  {
    description:
      'What the rule does besides the alert: `mqtt`, `keep` (days), `webhook` (webhookId), `push` (Web Push).',
  },
);

export const RuleSchema = Type.Object(
  {
    id: Type.String({ pattern: RULE_ID_PATTERN, description: 'Stable identifier, unique among all rules.' }),
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Name shown with its alerts.' }),
    enabled: Type.Optional(Type.Boolean({ default: true, description: 'Whether the rule fires.' })),
    cameras: Type.Optional(
      Type.Union(
        [Type.Literal('all'), Type.Array(Type.String({ pattern: CAMERA_ID_PATTERN }), { minItems: 1 })],
        {
          default: 'all',
          description: 'Camera ids, or `all`.',
        },
      ),
    ),
    conditions: Type.Array(RuleConditionSchema, {
      minItems: 1,
      maxItems: 20,
      description: 'The rule fires when any of them holds.',
    }),
    schedule: Type.Optional(
      Type.Union([RuleScheduleSchema, Type.Null()], { default: null, description: 'Null: always.' }),
    ),
    actions: Type.Optional(
      Type.Array(RuleActionSchema, {
        default: [],
        maxItems: 20,
        description: 'What the rule does besides the alert (always made).',
      }),
    ),
    limit: Type.Optional(
      Type.Object(
        {
          maxAlerts: Type.Integer({ minimum: 1, maximum: 100_000, description: 'At most this many alerts…' }),
          windowMs: durationMs('…in any window this long, in ms.'),
          cooldownMs: durationMs(
            'After an alert, the same rule on the same camera is quiet this long, in ms.',
          ),
        },
        {
          additionalProperties: false,
          default: DEFAULT_RULE_LIMIT,
          description: 'Against alert storms; what it holds back is counted in the rule status.',
        },
      ),
    ),
  },
  {
    title: 'Rule',
    additionalProperties: false,
    description: 'A rule: scene facts to alerts (docs/ref/rules.md).',
  },
);

export const WEBHOOK_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';

export const WebhookSchema = Type.Object(
  {
    id: Type.String({
      pattern: WEBHOOK_ID_PATTERN,
      description: "The webhook's name, used by rules' `webhook` actions and in the delivery log.",
    }),
    url: Type.String({
      minLength: 1,
      maxLength: 2000,
      description:
        'Where alerts are POSTed, `http://` or `https://`. Redirects are not followed (a 3xx answer fails ' +
        'the delivery).',
    }),
    secret: Type.String({
      minLength: 16,
      maxLength: 512,
      description:
        'Key of the `X-Vigil-Signature` HMAC-SHA256 the receiver checks (docs/ref/webhooks.md); at least 16 ' +
        'characters. Use `${VAR}` to keep it out of the file. Never logged.',
    }),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 2000 }), {
        description:
          'Extra request headers, e.g. `Authorization: Bearer ${HOOK_TOKEN}`. Not `Content-Type`, ' +
          '`Content-Length`, `Host` or `X-Vigil-…`, which Vigil sets.',
      }),
    ),
    timeoutMs: optional(
      Type.Integer({
        minimum: 1000,
        maximum: 60000,
        default: 10000,
        description:
          'How long one attempt may take, connection to last byte; then it counts as failed and is retried.',
      }),
    ),
  },
  { additionalProperties: false, description: 'One receiver of alerts as signed JSON POSTs.' },
);

export const NotifySchema = Type.Object(
  {
    webhooks: optional(
      Type.Array(WebhookSchema, {
        default: [],
        description:
          'Receivers rules can send alerts to (action `webhook`). Failed attempts are retried with backoff ' +
          'for about 10 minutes; the delivery log is `GET /api/notify/deliveries`.',
      }),
    ),
    pushContact: optional(
      Type.String({
        minLength: 1,
        maxLength: 500,
        pattern: '^(mailto:|https://)',
        default: 'mailto:vigil@localhost.invalid',
        description:
          "A `mailto:` or `https://` address the browsers' push services may contact about this installation " +
          '(the VAPID subject). Some push services refuse messages without a real one.',
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Delivering alerts: webhooks, and Web Push to the browsers and phones users enable.',
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
    rules: Type.Optional(
      Type.Array(RuleSchema, {
        default: [],
        description:
          'Rules managed by this file: read-only through the API; rules made through the API are stored in the database.',
      }),
    ),
    notify: optional(NotifySchema),
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
export type WebhookConfigInput = Static<typeof WebhookSchema>;
export type PrivacyConfigInput = Static<typeof PrivacySchema>;
export type RuleConfigInput = Static<typeof RuleSchema>;
