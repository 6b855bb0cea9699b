import { Type, type Static, type TArray, type TSchema, type TUnsafe } from '@sinclair/typebox';
import type { AuditVerification } from '../audit/log.js';
import type { CameraStatus } from '../camera-admin/camera-service.js';
import type {
  AuditPageResponse,
  CreatedToken,
  SessionResponse,
  TokenView,
  UserView,
} from '../contract/auth.js';
import type { CameraListResponse, CameraView, ProbeResponse } from '../contract/cameras.js';
import type { ApiErrorBody } from '../contract/errors.js';
import type { EventView, EventsPage } from '../contract/events.js';
import type { ApprovalKind, ApprovalList, ApprovalState, ApprovalView } from '../contract/approvals.js';
import type { EvidenceLockList, EvidenceLockView } from '../contract/evidence.js';
import type { AlertsPage, AlertsReviewed, AlertView } from '../contract/alerts.js';
import type { RuleView, RulesList } from '../contract/rules.js';
import {
  RuleActionSchema,
  RuleConditionSchema,
  RuleScheduleSchema,
  RULE_ID_PATTERN,
} from '../config/schema.js';
import type {
  AnalyticsStatusResponse,
  CameraEventsResponse,
  MotionPeriodsResponse,
  RecordingsResponse,
} from '../contract/recordings.js';
import type { DiscoverResponse, OnvifProbeResponse, PtzPresetList } from '../contract/onvif.js';
import type { LiftListResponse, LiftView } from '../contract/privacy.js';
import type {
  CreatedShare,
  ExportList,
  ExportView,
  ShareList,
  SigningKeyResponse,
  VerifyResponse,
} from '../contract/exports.js';
import type { HeatMap } from '../contract/scene.js';
import type { HealthResponse, PrivacyNoticeResponse, SystemResponse } from '../contract/system.js';
import type {
  WebhookList,
  PushKeyResponse,
  PushSubscriptionList,
  PushSubscriptionView,
  WebhookDeliveryList,
  WebhookDeliveryView,
} from '../contract/notify.js';
import { errorCatalogue, type VigilError } from '../errors/catalogue.js';

/**
 * The JSON answers of the API as TypeBox schemas, for the OpenAPI description. The wire types
 * stay plain interfaces in src/contract (the web UI compiles against them and they import
 * nothing); these schemas restate them, and SchemasMatchContract below makes tsc fail when the
 * two drift apart. Every object is closed (additionalProperties: false): a property the server
 * sends but the schema lacks is a drift that test/integration/openapi.test.ts catches.
 *
 * Fastify uses response schemas to serialize too, and would drop what a schema lacks: the server
 * serializes with JSON.stringify instead (openapi.ts), so these schemas only describe.
 */

/** An object whose every property is listed; with an $id, a named schema of the description. */
function closed<T extends Parameters<typeof Type.Object>[0]>(
  properties: T,
  description?: string,
  $id?: string,
) {
  return Type.Object(properties, {
    additionalProperties: false,
    ...(description !== undefined ? { description } : {}),
    ...($id !== undefined ? { $id } : {}),
  });
}

/** A reference to a named schema (components.schemas.NAME in the description), typed as the schema. */
function ref<T extends TSchema>(schema: T) {
  if (schema.$id === undefined) throw new Error('only a schema with an $id can be referred to');
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** One of some strings, as one `enum` (a TypeBox union of literals is an anyOf of one-value enums). */
function oneOf<const T extends readonly string[]>(values: T, description?: string) {
  return Type.Unsafe<T[number]>({
    type: 'string',
    enum: [...values],
    ...(description !== undefined ? { description } : {}),
  });
}

function nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

const ms = (description: string) => Type.Number({ description });
const count = (description: string) => Type.Integer({ minimum: 0, description });

const nextCursor = nullable(Type.String({ description: 'Pass as `cursor` for the next (older) page.' }));

/** One page of a list that pages with a cursor: the items under `key`, and the next page's cursor. */
function page<K extends string, T extends TSchema>(
  key: K,
  item: T,
  order: string,
  description: string,
  $id: string,
) {
  const properties = { [key]: Type.Array(ref(item), { description: order }), nextCursor } as Record<
    K,
    TArray<TUnsafe<Static<T>>>
  > & { nextCursor: typeof nextCursor };
  return closed(properties, description, $id);
}

// --- errors ---------------------------------------------------------------------------------

/** The one error shape; its code is one of the catalogue's (docs/ref/errors.md). */
export const apiErrorBody = closed(
  {
    error: closed({
      code: oneOf(
        Object.keys(errorCatalogue) as Array<keyof typeof errorCatalogue>,
        'A stable code from the error catalogue (docs/ref/errors.md): match on it.',
      ),
      message: Type.String({ description: 'What is wrong and what to do, for a person.' }),
      details: Type.Optional(
        Type.Record(Type.String(), Type.Unknown(), {
          description:
            'Facts for programs, e.g. `retryAfterMs`, `problems` (the invalid fields), `permission`.',
        }),
      ),
    }),
  },
  'The body of every error answer.',
  'ApiError',
);

// --- session, users, tokens, audit ------------------------------------------------------------

const role = oneOf(['admin', 'operator', 'viewer', 'auditor']);
const grantedCameras = nullable(Type.Array(Type.String(), { description: 'Cameras granted; null = all.' }));

export const sessionResponse = closed(
  {
    setupRequired: Type.Boolean({
      description: 'True until the first administrator exists: the UI shows first-run setup.',
    }),
    user: nullable(
      closed({
        name: Type.String(),
        role,
        cameras: grantedCameras,
        totpEnabled: Type.Boolean(),
        permissions: Type.Array(Type.String(), {
          description: "The caller's permissions (with a token: the token's).",
        }),
      }),
    ),
    csrfToken: nullable(
      Type.String({ description: 'Send back as X-CSRF-Token on every request that changes something.' }),
    ),
  },
  'Who is signed in.',
  'SessionResponse',
);

export const userView = closed(
  {
    id: Type.Integer(),
    name: Type.String(),
    role,
    cameras: grantedCameras,
    disabled: Type.Boolean(),
    totpEnabled: Type.Boolean(),
    createdAtMs: ms('When the user was created.'),
    updatedAtMs: ms('When the user was last changed.'),
  },
  'A user.',
  'UserView',
);

export const userList = closed({ users: Type.Array(ref(userView)) }, 'Every user, by name.', 'UserList');

const tokenFields = {
  id: Type.Integer(),
  userName: Type.String({ description: 'Whose token it is.' }),
  label: Type.String(),
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description:
      "Permissions the token holds (a subset of the role); null: the whole of the owner's role, " +
      'including what the role gains later.',
  }),
  createdAtMs: ms('When the token was created.'),
  lastUsedAtMs: nullable(ms('Last use, updated at most once a minute.')),
  expiresAtMs: nullable(ms('When the token stops working; null = never.')),
  revokedAtMs: nullable(ms('When the token was revoked.')),
};

export const tokenView = closed(tokenFields, 'An API token (without its secret).', 'TokenView');

export const tokenList = closed(
  { tokens: Type.Array(ref(tokenView)) },
  "The caller's tokens (an administrator's: everyone's), revoked ones included.",
  'TokenList',
);

export const createdToken = closed(
  {
    ...tokenFields,
    token: Type.String({ description: 'The token itself (`vgl_…`), shown only in this answer.' }),
  },
  'The new token, with its secret.',
  'CreatedToken',
);

const auditEntryView = closed(
  {
    seq: Type.Integer(),
    timeMs: ms('When it happened.'),
    actor: Type.String({ description: 'A user name, `system` or `anonymous`.' }),
    action: Type.String({ description: 'e.g. `login.success`, `camera.update`, `playback.view`.' }),
    target: nullable(Type.String({ description: '`camera:ID`, `user:NAME`, `token:ID` or `event:ID`.' })),
    details: Type.Record(Type.String(), Type.Unknown()),
    ip: nullable(Type.String()),
  },
  'One entry of the audit log.',
  'AuditEntryView',
);

export const auditPage = page(
  'entries',
  auditEntryView,
  'Newest first.',
  'A page of the audit log.',
  'AuditPageResponse',
);

const seqProblem = <K extends string>(kind: K) =>
  closed({ kind: Type.Literal(kind), seq: Type.Integer(), message: Type.String() });
const rangeProblem = <K extends string>(kind: K) =>
  closed({
    kind: Type.Literal(kind),
    fromSeq: Type.Integer(),
    toSeq: Type.Integer(),
    message: Type.String(),
  });

export const auditVerification = closed(
  {
    ok: Type.Boolean(),
    checkedCount: count('Entries found sound, up to the first problem.'),
    firstSeq: nullable(Type.Integer()),
    lastSeq: nullable(Type.Integer()),
    head: closed(
      { seq: Type.Integer(), hash: Type.String() },
      'The last sound entry: kept elsewhere, an anchor for `vigil audit verify --anchor SEQ:HASH`.',
    ),
    checkpoint: nullable(
      closed({
        seq: Type.Integer(),
        hash: Type.String(),
        timeMs: Type.Number(),
        deletedCount: count('Entries deleted by retention up to the checkpoint.'),
        createdAtMs: Type.Number(),
        signed: Type.Boolean(),
      }),
    ),
    problem: nullable(
      Type.Union([
        seqProblem('edited'),
        rangeProblem('deleted'),
        closed({
          kind: Type.Literal('reordered'),
          seq: Type.Integer(),
          originalSeq: nullable(Type.Integer()),
          message: Type.String(),
        }),
        rangeProblem('truncated'),
        seqProblem('checkpoint'),
        seqProblem('anchor'),
      ]),
    ),
    warnings: Type.Array(Type.String()),
    message: Type.String({ description: 'One line for a person: all is well, or what broke and where.' }),
  },
  'The audit hash chain checked, as `vigil audit verify` does.',
  'AuditVerification',
);

// --- cameras --------------------------------------------------------------------------------

const streamState = oneOf(['online', 'connecting', 'offline', 'error'], 'What the stream is doing now.');

const streamStatusFields = {
  state: streamState,
  lastError: nullable(
    closed({
      kind: Type.String({ description: 'e.g. `unauthorized`, `unreachable`, `timeout`, `stalled`.' }),
      message: Type.String({ description: 'What to check, in words.' }),
      atMs: Type.Number(),
    }),
  ),
  onlineSinceMs: nullable(Type.Number()),
  uptimeMs: Type.Number(),
  reconnectCount: count('Connection attempts after the first.'),
  fps: nullable(Type.Number({ description: 'Measured over the last 10 s; null when not online.' })),
  bitrateKbps: nullable(Type.Number()),
  width: nullable(Type.Integer()),
  height: nullable(Type.Integer()),
  codec: nullable(Type.String({ description: '`h264` or `h265`.' })),
  lastMediaAtMs: nullable(Type.Number()),
  ingest: oneOf(
    ['native', 'ffmpeg'],
    "What pulls the stream now: Vigil's own RTSP client, or an ffmpeg process.",
  ),
  ingestFallbackReason: nullable(
    Type.String({
      description:
        'Why `ingest: auto` uses ffmpeg for this stream (its codec, its audio…); null when it does not.',
    }),
  ),
};

const streamStatusView = closed(streamStatusFields, 'What the stream is doing now.', 'StreamStatusView');

const recorderStatusView = closed(
  {
    recording: Type.Boolean(),
    lastError: nullable(
      closed({
        message: Type.String(),
        atMs: Type.Number(),
        code: Type.Optional(
          Type.String({ description: 'A catalogue error code, e.g. `EVIDENCE_ONLY_LEFT`.' }),
        ),
      }),
    ),
    stopped: nullable(
      closed(
        {
          code: Type.String({ description: '`EVIDENCE_ONLY_LEFT`.' }),
          message: Type.String(),
          sinceMs: Type.Number(),
        },
        'Recording stopped on purpose: storage is full and all this camera could give back is locked evidence.',
      ),
    ),
    segmentCount: count('Segments written since start.'),
    droppedFragmentCount: count('Fragments that could not be written.'),
  },
  'What the recorder of the stream is doing.',
  'RecorderStatusView',
);

const streamView = closed(
  {
    name: Type.String(),
    url: Type.String({ description: 'The URL without credentials.' }),
    user: nullable(Type.String({ description: 'Shown only to callers who manage cameras.' })),
    transport: Type.String(),
    audio: Type.String(),
    status: ref(streamStatusView),
    recording: ref(recorderStatusView),
  },
  'One stream of a camera.',
  'StreamView',
);

const maskPoint = Type.Unsafe<[number, number]>(
  Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[x, y], each 0..1 of the frame.' }),
);

export const cameraPrivacy = closed(
  {
    masks: Type.Array(
      closed({
        id: Type.String(),
        name: Type.Optional(Type.String()),
        kind: oneOf(['permanent', 'liftable']),
        polygon: Type.Array(maskPoint),
      }),
    ),
    maskAtRecording: Type.Boolean(),
  },
  "The camera's privacy masks (docs/ref/config.md, cameras[].privacy).",
);

const sceneLabels = Type.Array(Type.String(), { description: 'Labels that count; empty: all.' });

export const cameraScene = closed(
  {
    zones: Type.Array(
      closed({ id: Type.String(), name: Type.String(), points: Type.Array(maskPoint), labels: sceneLabels }),
    ),
    lines: Type.Array(
      closed({
        id: Type.String(),
        name: Type.String(),
        a: maskPoint,
        b: maskPoint,
        direction: oneOf(['a-to-b', 'b-to-a', 'both']),
        labels: sceneLabels,
      }),
    ),
    referencePoint: oneOf(['bottom-centre', 'centre']),
    objectMasks: Type.Array(Type.Array(maskPoint)),
  },
  "The camera's zones, tripwires and object masks (docs/ref/config.md, cameras[].scene).",
);

export const liftView = closed(
  {
    id: Type.Integer(),
    cameraId: Type.String(),
    userName: Type.String(),
    reason: Type.String(),
    startedAtMs: ms('UTC ms.'),
    expiresAtMs: ms('UTC ms: the lift ends by itself here.'),
    mine: Type.Boolean({ description: 'The caller owns this lift (and sees through the liftable masks).' }),
  },
  "A lift of a camera's liftable privacy masks.",
  'LiftView',
);

export const liftList = closed(
  { lifts: Type.Array(ref(liftView)) },
  'Lifts in force now, oldest first.',
  'LiftListResponse',
);

export const cameraView = closed(
  {
    id: Type.String(),
    name: Type.String(),
    enabled: Type.Boolean(),
    source: oneOf(
      ['config', 'api'],
      '`config`: defined in the configuration file, read-only through the API.',
    ),
    retention: nullable(closed({ continuousDays: Type.Optional(Type.Number()) })),
    streams: Type.Record(Type.String(), ref(streamView), { description: 'By stream name (`main`, `sub`).' }),
    privacy: cameraPrivacy,
    scene: cameraScene,
    onvif: nullable(
      closed(
        {
          url: Type.String({ description: 'The ONVIF device service, without credentials.' }),
          user: nullable(Type.String({ description: 'Shown only to callers who manage cameras.' })),
          events: Type.Boolean(),
        },
        'Where the camera speaks ONVIF (PTZ, its own events); null when it does not.',
      ),
    ),
  },
  'A camera. Passwords are never returned.',
  'CameraView',
);

export const cameraList = closed(
  { cameras: Type.Array(ref(cameraView)) },
  'The cameras the caller may see, by id.',
  'CameraListResponse',
);

export const cameraStatus = closed(
  {
    id: Type.String(),
    streams: Type.Record(
      Type.String(),
      closed({ ...streamStatusFields, recording: ref(recorderStatusView) }),
    ),
    oldestRecordingMs: nullable(ms('Start of the oldest segment kept: the retention horizon.')),
  },
  "The camera's streams now and how far back its recordings reach.",
  'CameraStatus',
);

export const probeResponse = Type.Union(
  [
    closed({
      ok: Type.Literal(true),
      codec: Type.String(),
      width: nullable(Type.Integer()),
      height: nullable(Type.Integer()),
      fps: nullable(Type.Number()),
      bitrateKbps: nullable(Type.Number()),
      hasAudio: Type.Boolean(),
      snapshotDataUrl: nullable(Type.String({ description: 'The first frame as a data: URL (JPEG).' })),
      elapsedMs: Type.Number(),
    }),
    closed({
      ok: Type.Literal(false),
      kind: Type.String({ description: 'The error kind, as in a stream status.' }),
      message: Type.String(),
      elapsedMs: Type.Number(),
    }),
  ],
  {
    $id: 'ProbeResponse',
    description:
      'What the connection test found. A camera that cannot be reached is `ok: false` (the test worked).',
  },
);

// --- recordings and analytics -----------------------------------------------------------------

const timeSpan = closed(
  {
    startTimeMs: Type.Number(),
    endTimeMs: Type.Number(),
    durationMs: Type.Number(),
    startTime: Type.String({ description: 'ISO-8601.' }),
    endTime: Type.String({ description: 'ISO-8601.' }),
  },
  'A span of time.',
  'TimeSpanView',
);

export const recordingsResponse = closed(
  {
    cameraId: Type.String(),
    stream: Type.String(),
    fromMs: Type.Number(),
    toMs: Type.Number(),
    recordings: Type.Array(ref(timeSpan), { description: 'Contiguous runs of segments.' }),
    gaps: Type.Array(ref(timeSpan)),
    segmentCount: count('Segments in the range.'),
  },
  'What was recorded in [from, to).',
  'RecordingsResponse',
);

export const motionPeriodsResponse = closed(
  {
    cameraId: Type.String(),
    fromMs: Type.Number(),
    toMs: Type.Number(),
    periods: Type.Array(
      closed({
        startTimeMs: Type.Number(),
        endTimeMs: Type.Number(),
        maxScore: Type.Number({
          description: 'Largest fraction of the picture that moved in one frame, 0..1.',
        }),
      }),
      { description: 'Oldest first.' },
    ),
  },
  'When something moved on the camera.',
  'MotionPeriodsResponse',
);

export const cameraEventsResponse = closed(
  {
    cameraId: Type.String(),
    fromMs: Type.Number(),
    toMs: Type.Number(),
    events: Type.Array(
      closed({
        kind: Type.Union(
          [
            Type.Literal('motion'),
            Type.Literal('tamper'),
            Type.Literal('line-crossing'),
            Type.Literal('digital-input'),
            Type.Literal('other'),
          ],
          { description: "What the camera reported; motion is in the camera's motion periods instead." },
        ),
        topic: Type.String({ description: 'The ONVIF topic without namespace prefixes.' }),
        active: Type.Boolean({ description: 'The condition started (true) or ended.' }),
        source: Type.Record(Type.String(), Type.String(), { description: 'Source items, e.g. InputToken.' }),
        timeMs: Type.Number(),
      }),
      { description: 'Oldest first; at most 5000.' },
    ),
  },
  "A camera's own events (ONVIF) other than motion.",
  'CameraEventsResponse',
);

export const heatMap = closed(
  {
    cameraId: Type.String(),
    fromMs: Type.Number(),
    toMs: Type.Number(),
    label: Type.Union([Type.String(), Type.Null()], {
      description: 'The label asked for; null: every label.',
    }),
    columns: Type.Integer({ description: 'Cells across the picture.' }),
    rows: Type.Integer({ description: 'Cells down the picture.' }),
    cells: Type.Array(Type.Integer({ minimum: 0 }), {
      description:
        'Row-major, `columns` × `rows`, from the top-left: how many events passed each cell (an event counts ' +
        'once per cell; its path is followed cell by cell between the points it was seen at).',
    }),
    eventCount: Type.Integer({ description: 'Events counted (at most 20000, the newest).' }),
  },
  'Where tracked objects went on the camera.',
  'HeatMap',
);

const countBucket = (extra: Parameters<typeof Type.Object>[0]) =>
  closed({ startTimeMs: Type.Number({ description: "The bucket's start, epoch ms." }), ...extra });

export const sceneCountsResponse = closed(
  {
    cameraId: Type.String(),
    bucket: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')]),
    fromMs: Type.Number(),
    toMs: Type.Number(),
    lines: Type.Array(
      closed({
        lineId: Type.String(),
        label: Type.String(),
        direction: Type.Union([Type.Literal('a-to-b'), Type.Literal('b-to-a')]),
        buckets: Type.Array(countBucket({ count: Type.Integer({ description: 'Crossings.' }) }), {
          description: 'Oldest first.',
        }),
      }),
    ),
    zones: Type.Array(
      closed({
        zoneId: Type.String(),
        label: Type.String(),
        buckets: Type.Array(
          countBucket({
            entries: Type.Integer({ description: 'Objects that entered the zone.' }),
            maxOccupancy: Type.Integer({ description: 'Most objects of the label inside at once.' }),
          }),
          { description: 'Oldest first.' },
        ),
      }),
    ),
  },
  'Tripwire crossings and zone entries and occupancy, per bucket.',
  'SceneCounts',
);

export const analyticsStatusResponse = closed(
  {
    cameraId: Type.String(),
    enabled: Type.Boolean(),
    status: nullable(
      closed(
        {
          framesDecoded: count('Frames decoded.'),
          framesAnalysed: count('Frames that went through motion detection.'),
          detectionRuns: count('Detector passes.'),
          lastFrameTimeMs: nullable(Type.Number()),
          motionActive: Type.Boolean(),
          detector: nullable(Type.String()),
          error: nullable(Type.String({ description: 'Why object detection is unavailable.' })),
        },
        'Null when detection is off for the camera.',
      ),
    ),
  },
  'Whether analytics runs on the camera, and how it keeps up.',
  'AnalyticsStatusResponse',
);

// --- events ---------------------------------------------------------------------------------

export const eventView = closed(
  {
    id: Type.Integer(),
    cameraId: Type.String(),
    label: Type.String({ description: 'COCO label: person, car, dog…' }),
    trackId: Type.Integer(),
    startTimeMs: Type.Number(),
    endTimeMs: nullable(ms('The last sighting; null while the event goes on.')),
    maxScore: Type.Number({ description: 'Best detection score, 0..1.' }),
    box: closed(
      { x: Type.Number(), y: Type.Number(), width: Type.Number(), height: Type.Number() },
      'The box of the detection the snapshot shows, normalised 0..1 (origin top-left).',
    ),
    path: Type.Array(closed({ timeMs: Type.Number(), x: Type.Number(), y: Type.Number() }), {
      description: 'Box centres over time, normalised.',
    }),
    zones: Type.Array(Type.String()),
    snapshot: nullable(
      closed({
        timeMs: Type.Number(),
        url: Type.String({ description: 'The frame with the box drawn (image/jpeg).' }),
        cropUrl: Type.String({ description: 'The region around the box (image/jpeg).' }),
      }),
    ),
    clip: closed({ startTimeMs: Type.Number(), endTimeMs: Type.Number(), url: Type.String() }),
    createdAtMs: Type.Number(),
    updatedAtMs: Type.Number(),
  },
  'An event: a confirmed track of a watched label, with its snapshot and clip.',
  'EventView',
);

export const eventsPage = page(
  'events',
  eventView,
  'Newest first (by start time, then id).',
  'A page of events.',
  'EventsPage',
);

// --- health and system ------------------------------------------------------------------------

const ffmpegFields = { path: Type.String(), origin: Type.String(), version: Type.String() };
const storageFields = {
  path: Type.String(),
  usedBytes: Type.Number(),
  freeBytes: nullable(Type.Number()),
  shortfallBytes: Type.Number({
    description: 'Over budget with everything left held (events): recording may stop for lack of space.',
  }),
};

export const healthResponse = closed(
  {
    status: Type.Literal('ok'),
    version: Type.String(),
    uptimeMs: Type.Number(),
    ffmpeg: closed(ffmpegFields),
    storage: closed(storageFields),
    cameras: closed({
      total: count('Cameras.'),
      streamsOnline: count('Streams online.'),
      streamsTotal: count('Streams.'),
    }),
  },
  'A short summary for monitoring.',
  'HealthResponse',
);

export const systemResponse = closed(
  {
    version: Type.String(),
    uptimeMs: Type.Number(),
    ffmpeg: closed({
      ...ffmpegFields,
      bundled: Type.Boolean({ description: 'The old build of the npm package is in use.' }),
      warning: nullable(Type.String()),
    }),
    node: Type.String(),
    storage: closed({ ...storageFields, totalBytes: nullable(Type.Number()) }),
    cameras: Type.Array(
      closed({
        id: Type.String(),
        name: Type.String(),
        oldestRecordingMs: nullable(ms('Start of the oldest recording kept.')),
        usedBytes: Type.Number(),
        streams: Type.Array(
          closed({
            name: Type.String(),
            state: streamState,
            fps: nullable(Type.Number()),
            bitrateKbps: nullable(Type.Number()),
            uptimeMs: Type.Number(),
            codec: nullable(Type.String()),
            width: nullable(Type.Integer()),
            height: nullable(Type.Integer()),
            viewerCount: count('Live viewers now.'),
            cpuPercent: nullable(
              Type.Number({
                description: "The ingest ffmpeg's CPU since the previous request, % of one core.",
              }),
            ),
            transcoding: Type.Boolean({
              description: 'ffmpeg encodes the video (MJPEG, snapshots) instead of copying it.',
            }),
            ingest: streamStatusFields.ingest,
            ingestFallbackReason: streamStatusFields.ingestFallbackReason,
          }),
        ),
      }),
    ),
    connectivity: Type.Array(
      closed({
        atMs: Type.Number(),
        cameraId: Type.String(),
        stream: Type.String(),
        state: streamState,
        reason: nullable(Type.String()),
      }),
      { description: 'The last 200 stream state changes, newest first.' },
    ),
    maskedTranscoders: Type.Array(
      closed({
        cameraId: Type.String(),
        stream: Type.String(),
        maskKey: Type.String({ description: 'Hash of the polygon set; equal sets share one transcoder.' }),
        viewerCount: count('Masked viewers served by it now.'),
        cpuPercent: nullable(Type.Number({ description: 'CPU over the last ~2 s, % of one core.' })),
        cpuSeconds: Type.Number({ description: 'CPU seconds used since it started.' }),
        running: Type.Boolean(),
        recording: Type.Boolean({ description: 'Feeds the recorder (mask at recording), not viewers.' }),
        lastError: nullable(Type.String()),
      }),
      { description: 'Live re-encoding with privacy masks, one per stream and mask set being watched.' },
    ),
  },
  'Everything the System page shows.',
  'SystemResponse',
);

// --- evidence and approvals -----------------------------------------------------------------

export const evidenceLockView = closed(
  {
    id: Type.Integer(),
    cameraId: Type.String(),
    eventId: nullable(Type.Integer({ description: 'The locked event; null for a plain time range.' })),
    startTimeMs: ms('Start of the locked range, UTC ms.'),
    endTimeMs: ms('End of the locked range, UTC ms.'),
    reason: Type.String(),
    expiresAtMs: nullable(ms('The lock lapses then; null: until unlocked.')),
    createdBy: Type.String(),
    createdAtMs: Type.Number(),
    unlockedBy: nullable(Type.String()),
    unlockedAtMs: nullable(Type.Number()),
    state: Type.Union([Type.Literal('locked'), Type.Literal('expired'), Type.Literal('unlocked')], {
      description: '`locked` protects the range; `expired` and `unlocked` no longer do.',
    }),
  },
  'An evidence lock: a range of recording kept whatever retention and a full disk say.',
  'EvidenceLockView',
);

export const evidenceLockList = closed(
  { locks: Type.Array(ref(evidenceLockView), { description: 'Oldest first, by start time.' }) },
  'Evidence locks.',
  'EvidenceLockList',
);

const approvalState = Type.Union(
  ['pending', 'approved', 'refused', 'cancelled', 'expired', 'failed'].map((s) => Type.Literal(s)),
) as unknown as TUnsafe<ApprovalState>;

export const approvalView = closed(
  {
    id: Type.Integer(),
    kind: Type.Unsafe<ApprovalKind>(
      Type.String({
        description:
          '`mask.lift`, `export.unredacted`, `evidence.unlock`, `events.delete`, `recordings.delete`.',
      }),
    ),
    cameraId: nullable(Type.String()),
    params: Type.Record(Type.String(), Type.Unknown(), { description: "The action's parameters." }),
    summary: Type.String({ description: 'What the action does, in words.' }),
    reason: Type.String({ description: 'Why the requester asks.' }),
    state: approvalState,
    requestedBy: Type.String(),
    requestedAtMs: Type.Number(),
    expiresAtMs: Type.Number(),
    decidedBy: nullable(Type.String()),
    decidedAtMs: nullable(Type.Number()),
    decisionReason: nullable(Type.String({ description: "A refusal's reason, or why executing failed." })),
    result: Type.Unknown({ description: 'What the executed action returned.' }),
  },
  'A four-eyes approval request.',
  'ApprovalView',
);

export const approvalList = closed(
  { requests: Type.Array(ref(approvalView), { description: 'Newest first.' }) },
  'Approval requests the caller made or may decide.',
  'ApprovalList',
);

export const approvalOutcome = closed(
  {
    status: Type.Union([Type.Literal('done'), Type.Literal('pending')], {
      description: '`done`: carried out now; `pending`: waits for a second user (see `request`).',
    }),
    result: Type.Optional(Type.Unknown({ description: 'What the action returned (status done).' })),
    request: Type.Optional(ref(approvalView)),
  },
  'An action that may need a second user: done at once, or a pending request.',
  'ApprovalOutcome',
);

// --- export bundles -------------------------------------------------------------------------

export const exportView = closed(
  {
    id: Type.Integer(),
    cameraId: Type.String(),
    stream: Type.String(),
    fromMs: ms('Start of the range asked for.'),
    toMs: ms('End of the range asked for.'),
    userId: nullable(Type.Integer()),
    userName: Type.String({ description: 'Who exported it.' }),
    reason: Type.String({ description: 'Why, as they wrote it.' }),
    createdAtMs: ms('When the bundle was built.'),
    byteLength: count('Size of the bundle file.'),
    sha256: Type.String({ description: 'SHA-256 of the bundle file (the zip).' }),
    downloadPath: Type.String(),
    deletedAtMs: nullable(
      ms('When the bundle file was removed (by a user, or by retention.exportsDays); null: it is there.'),
    ),
  },
  'A signed export bundle.',
  'ExportView',
);

export const exportList = closed(
  { exports: Type.Array(ref(exportView)) },
  'Export bundles, newest first.',
  'ExportList',
);

export const shareView = closed(
  {
    id: Type.Integer(),
    exportId: Type.Integer(),
    recipient: Type.String(),
    createdBy: Type.String(),
    createdAtMs: ms('When the link was made.'),
    expiresAtMs: ms('When the link stops working.'),
    revokedAtMs: nullable(ms('When the link was revoked.')),
    downloadCount: count('Downloads through the link.'),
    lastDownloadAtMs: nullable(ms('The last download.')),
  },
  'A share link of an export bundle (without its token).',
  'ShareView',
);

export const shareList = closed(
  { shares: Type.Array(ref(shareView)) },
  'Share links of a bundle.',
  'ShareList',
);

export const createdShare = closed(
  {
    share: ref(shareView),
    token: Type.String({ description: 'Shown once; only its hash is kept.' }),
    path: Type.String({ description: "The link's path: prefix the server's address." }),
  },
  'A new share link.',
  'CreatedShare',
);

export const signingKeyResponse = closed(
  {
    algorithm: Type.Literal('Ed25519'),
    pem: Type.String({ description: 'SubjectPublicKeyInfo PEM.' }),
    rawBase64: Type.String({ description: 'The 32 raw key bytes, base64.' }),
    fingerprint: Type.String({ description: 'SHA-256 of the raw key, hex in groups of four.' }),
  },
  "The installation's public key, which signs export bundles.",
  'SigningKeyResponse',
);

const bundlePart = oneOf(['manifest.json', 'manifest.sig', 'public-key.pem', 'video.mp4', 'zip'] as const);

export const verifyResponse = closed(
  {
    ok: Type.Boolean(),
    failures: Type.Array(closed({ part: bundlePart, message: Type.String() })),
    content: nullable(oneOf(['copy', 'transformed'] as const)),
    keyTrust: oneOf(['installation', 'given', 'mismatch', 'other', 'unchecked'] as const),
    fingerprint: nullable(Type.String()),
    manifest: nullable(
      closed({
        cameraId: Type.String(),
        cameraName: Type.String(),
        stream: Type.String(),
        fromMs: Type.Number(),
        toMs: Type.Number(),
        exportedBy: closed({ userId: Type.Integer(), name: Type.String() }),
        reason: Type.String(),
        createdAtMs: Type.Number(),
        vigilVersion: Type.String(),
        transforms: Type.Array(Type.Record(Type.String(), Type.Unknown())),
        segmentCount: Type.Integer(),
      }),
    ),
    lines: Type.Array(Type.String()),
  },
  'The verdict on a bundle.',
  'VerifyResponse',
);

export const privacyNoticeResponse = closed(
  {
    site: closed({
      name: Type.String(),
      controller: nullable(Type.String()),
      purpose: nullable(Type.String()),
      contact: nullable(Type.String()),
    }),
    missing: Type.Array(Type.String(), {
      description: 'Settings a notice needs that are not set yet, as config keys (`site.contact`…).',
    }),
    cameras: Type.Array(
      closed({
        id: Type.String(),
        name: Type.String(),
        continuousDays: Type.Number(),
        justification: nullable(Type.String()),
        detects: Type.Array(Type.String(), { description: 'Object labels detected; empty: no detection.' }),
      }),
    ),
    eventsDays: Type.Number(),
    justification: nullable(Type.String()),
    generatedAtMs: Type.Number(),
  },
  'What a sign at the site must tell the people it records: who, why, how long, whom to ask.',
  'PrivacyNoticeResponse',
);

// --- rules and alerts -----------------------------------------------------------------------

export const ruleView = closed(
  {
    id: Type.String({ pattern: RULE_ID_PATTERN }),
    name: Type.String(),
    enabled: Type.Boolean(),
    cameras: Type.Union([Type.Literal('all'), Type.Array(Type.String())], {
      description: 'Camera ids, or `all`.',
    }),
    conditions: Type.Array(RuleConditionSchema, { description: 'The rule fires when any of them holds.' }),
    schedule: nullable(RuleScheduleSchema),
    actions: Type.Array(RuleActionSchema),
    limit: closed({ maxAlerts: Type.Integer(), windowMs: Type.Integer(), cooldownMs: Type.Integer() }),
    source: oneOf(['config', 'api'] as const, '`config`: from the config file, read-only; `api`: editable.'),
    status: closed(
      {
        alertCount: Type.Integer({ description: 'Alerts made since Vigil started.' }),
        suppressedCount: Type.Integer({ description: 'Alerts held back by the rate limit or cool-down.' }),
        lastAlertMs: nullable(Type.Number()),
      },
      'Counters since Vigil started.',
    ),
  },
  'A rule: scene facts to alerts (docs/ref/rules.md).',
  'RuleView',
);

export const rulesList = closed(
  { rules: Type.Array(ref(ruleView), { description: "The config file's rules first, then the API's." }) },
  'Rules.',
  'RulesList',
);

export const alertView = closed(
  {
    id: Type.Integer(),
    ruleId: Type.String(),
    ruleName: Type.String({ description: "The rule's name when it fired." }),
    cameraId: Type.String(),
    eventId: nullable(Type.Integer({ description: 'Null for alerts about the camera (health, crowding).' })),
    kind: oneOf(
      [
        'zone-entered',
        'zone-left',
        'intrusion',
        'loitering',
        'line-crossed',
        'crowding',
        'camera-health',
      ] as const,
      'The condition type that fired.',
    ),
    summary: Type.String({ description: 'In words, e.g. "person crossed Path (A→B)".' }),
    timeMs: ms('When the condition held, UTC ms.'),
    snapshotUrl: nullable(Type.String({ description: 'GET, image/jpeg.' })),
    clipUrl: nullable(Type.String({ description: 'GET, video/mp4.' })),
    reviewed: Type.Boolean({ description: 'Whether the caller marked it reviewed.' }),
  },
  'An alert: a rule fired.',
  'AlertView',
);

export const alertsPage = closed(
  {
    alerts: Type.Array(ref(alertView), { description: 'Newest first (by time, then id).' }),
    nextCursor: nullable(
      Type.String({ description: 'Pass as `cursor` for the next page; null on the last.' }),
    ),
    unreviewedCount: Type.Integer({
      description: 'Alerts the caller has not reviewed, on the cameras they may see.',
    }),
  },
  'A page of alerts.',
  'AlertsPage',
);

export const alertsReviewed = closed(
  { reviewedCount: Type.Integer({ description: 'How many alerts were newly marked reviewed.' }) },
  'Alerts marked reviewed.',
  'AlertsReviewed',
);

// --- webhooks and Web Push ---------------------------------------------------------------------

export const webhookList = closed(
  {
    webhooks: Type.Array(
      closed({
        id: Type.String({ description: 'notify.webhooks[].id' }),
        origin: Type.String({ description: 'Scheme, host and port of its URL; never the path or query.' }),
        timeoutMs: Type.Integer(),
      }),
      { description: 'In the order of the config file.' },
    ),
  },
  'The configured webhooks, without their secrets.',
  'WebhookList',
);

export const webhookDeliveryView = closed(
  {
    id: Type.Integer(),
    webhookId: Type.String({ description: 'notify.webhooks[].id' }),
    alertId: Type.Integer({ description: 'The alert delivered (its id; 0 for the test button).' }),
    attemptCount: count('Attempts made so far (at most 5).'),
    state: oneOf(
      ['pending', 'delivered', 'failed'] as const,
      '`pending` until 2xx, a refusal, or 5 attempts.',
    ),
    lastStatus: nullable(Type.Integer({ description: 'HTTP status of the last answer; null: none came.' })),
    lastError: nullable(Type.String({ description: 'What went wrong the last time.' })),
    nextAttemptAtMs: nullable(ms('When the next attempt is due (pending only).')),
    createdAtMs: Type.Number(),
    updatedAtMs: Type.Number(),
  },
  'One alert sent to one webhook.',
  'WebhookDeliveryView',
);

export const webhookDeliveryList = closed(
  { deliveries: Type.Array(ref(webhookDeliveryView), { description: 'Newest first.' }) },
  'The webhook delivery log.',
  'WebhookDeliveryList',
);

export const pushKeyResponse = closed(
  {
    publicKey: Type.String({
      description: "The VAPID public key, base64url: pushManager.subscribe's applicationServerKey.",
    }),
  },
  "The key browsers subscribe to this Vigil's push messages with.",
  'PushKeyResponse',
);

export const pushSubscriptionView = closed(
  {
    id: Type.Integer(),
    endpoint: Type.String({ description: "The push service's URL for this browser." }),
    label: Type.String({ description: 'What the user calls this browser.' }),
    createdAtMs: Type.Number(),
  },
  "A browser's push subscription.",
  'PushSubscriptionView',
);

export const pushSubscriptionList = closed(
  { subscriptions: Type.Array(ref(pushSubscriptionView), { description: 'Oldest first.' }) },
  "The caller's own push subscriptions.",
  'PushSubscriptionList',
);

// --- ONVIF ----------------------------------------------------------------------------------

const textOrNull = (description: string) => nullable(Type.String({ description }));
const numberOrNull = (description: string) => nullable(Type.Number({ description }));

export const discoveredDevice = closed(
  {
    endpoint: Type.String({ description: "The device's endpoint reference (urn:uuid:…)." }),
    addresses: Type.Array(Type.String(), { description: 'Device service addresses (XAddrs).' }),
    name: textOrNull('From the scopes.'),
    hardware: textOrNull('From the scopes.'),
    manufacturer: textOrNull('From the scopes.'),
    location: textOrNull('From the scopes.'),
  },
  'A device that answered the WS-Discovery probe.',
  'DiscoveredDevice',
);

export const discoverResponse = closed(
  {
    devices: Type.Array(ref(discoveredDevice)),
    durationMs: ms('How long answers were awaited.'),
  },
  'ONVIF devices on the network, one per endpoint.',
  'DiscoverResponse',
);

const proposedStream = closed({
  profile: Type.String(),
  url: Type.String({ description: 'RTSP address, without credentials.' }),
  user: Type.String(),
  width: numberOrNull('Pixels.'),
  height: numberOrNull('Pixels.'),
});

export const onvifProbeResponse = closed(
  {
    url: Type.String({ description: 'The device service that answered.' }),
    device: closed({
      manufacturer: Type.String(),
      model: Type.String(),
      firmware: Type.String(),
      serial: Type.String(),
      hardwareId: Type.String(),
    }),
    clockOffsetMs: ms("The camera's clock minus Vigil's."),
    profiles: Type.Array(
      closed({
        token: Type.String(),
        name: Type.String(),
        encoding: textOrNull('H264, H265, JPEG …'),
        width: numberOrNull('Pixels.'),
        height: numberOrNull('Pixels.'),
        fps: numberOrNull('Frame rate limit.'),
        bitrateKbps: numberOrNull('Bit rate limit.'),
        streamUri: textOrNull('RTSP address, without credentials.'),
        snapshotUri: textOrNull('JPEG snapshot address.'),
        ptz: Type.Boolean(),
      }),
    ),
    proposal: nullable(closed({ main: proposedStream, sub: nullable(proposedStream) })),
    ptz: Type.Boolean({ description: 'The device has a PTZ service and a profile using it.' }),
    events: Type.Boolean({ description: 'The device has an event service (PullPoint).' }),
  },
  'What the device is, its media profiles, and the camera proposed from them.',
  'OnvifProbeResponse',
);

export const ptzPresetView = closed(
  { token: Type.String(), name: Type.String() },
  'A PTZ preset: a stored position.',
  'PtzPreset',
);

export const ptzPresetList = closed(
  { presets: Type.Array(ref(ptzPresetView)) },
  "The camera's presets, as the camera lists them.",
  'PtzPresetList',
);

/** The named schemas, for Fastify's addSchema: each becomes components.schemas.<$id>. */
export const namedSchemas = [
  apiErrorBody,
  sessionResponse,
  userView,
  userList,
  tokenView,
  tokenList,
  createdToken,
  auditEntryView,
  auditPage,
  auditVerification,
  streamStatusView,
  recorderStatusView,
  streamView,
  cameraView,
  cameraList,
  cameraStatus,
  probeResponse,
  timeSpan,
  recordingsResponse,
  motionPeriodsResponse,
  cameraEventsResponse,
  sceneCountsResponse,
  analyticsStatusResponse,
  heatMap,
  eventView,
  eventsPage,
  healthResponse,
  systemResponse,
  evidenceLockView,
  evidenceLockList,
  approvalView,
  approvalList,
  approvalOutcome,
  exportView,
  exportList,
  shareView,
  shareList,
  createdShare,
  signingKeyResponse,
  verifyResponse,
  privacyNoticeResponse,
  liftView,
  liftList,
  ruleView,
  rulesList,
  alertView,
  alertsPage,
  alertsReviewed,
  webhookList,
  webhookDeliveryView,
  webhookDeliveryList,
  pushKeyResponse,
  pushSubscriptionView,
  pushSubscriptionList,
  discoveredDevice,
  discoverResponse,
  onvifProbeResponse,
  ptzPresetView,
  ptzPresetList,
];

// --- the proof ------------------------------------------------------------------------------

/** Whether every value of A is a value of B. */
type Within<A, B> = [A] extends [B] ? true : false;
/** Whether two types accept the same values. */
type Same<A, B> = Within<A, B> extends true ? Within<B, A> : false;
type Expect<T extends true> = T;

/**
 * Compile-time proof that each schema and the type the handlers return describe the same values:
 * tsc fails on the line of a pair that drifted apart. Exported only so that it is not unused.
 */
export type SchemasMatchContract = [
  Expect<Same<Static<typeof apiErrorBody>, ReturnType<VigilError['toJSON']>>>,
  // The contract types the code as a string; the schema lists the catalogue's codes.
  Expect<Within<Static<typeof apiErrorBody>, ApiErrorBody>>,
  Expect<Same<Static<typeof sessionResponse>, SessionResponse>>,
  Expect<Same<Static<typeof userList>, { users: UserView[] }>>,
  Expect<Same<Static<typeof tokenList>, { tokens: TokenView[] }>>,
  Expect<Same<Static<typeof createdToken>, CreatedToken>>,
  Expect<Same<Static<typeof auditPage>, AuditPageResponse>>,
  Expect<Same<Static<typeof auditVerification>, AuditVerification>>,
  Expect<Same<Static<typeof cameraView>, CameraView>>,
  Expect<Same<Static<typeof cameraList>, CameraListResponse>>,
  Expect<Same<Static<typeof cameraStatus>, CameraStatus>>,
  Expect<Same<Static<typeof probeResponse>, ProbeResponse>>,
  Expect<Same<Static<typeof recordingsResponse>, RecordingsResponse>>,
  Expect<Same<Static<typeof motionPeriodsResponse>, MotionPeriodsResponse>>,
  Expect<Same<Static<typeof cameraEventsResponse>, CameraEventsResponse>>,
  Expect<Same<Static<typeof heatMap>, HeatMap>>,
  Expect<Same<Static<typeof analyticsStatusResponse>, AnalyticsStatusResponse>>,
  Expect<Same<Static<typeof eventView>, EventView>>,
  Expect<Same<Static<typeof eventsPage>, EventsPage>>,
  Expect<Same<Static<typeof healthResponse>, HealthResponse>>,
  Expect<Same<Static<typeof liftView>, LiftView>>,
  Expect<Same<Static<typeof liftList>, LiftListResponse>>,
  Expect<Same<Static<typeof systemResponse>, SystemResponse>>,
  Expect<Same<Static<typeof evidenceLockView>, EvidenceLockView>>,
  Expect<Same<Static<typeof evidenceLockList>, EvidenceLockList>>,
  Expect<Same<Static<typeof approvalView>, ApprovalView>>,
  Expect<Same<Static<typeof approvalList>, ApprovalList>>,
  Expect<Same<Static<typeof exportView>, ExportView>>,
  Expect<Same<Static<typeof exportList>, ExportList>>,
  Expect<Same<Static<typeof shareList>, ShareList>>,
  Expect<Same<Static<typeof createdShare>, CreatedShare>>,
  Expect<Same<Static<typeof signingKeyResponse>, SigningKeyResponse>>,
  Expect<Same<Static<typeof verifyResponse>, VerifyResponse>>,
  Expect<Same<Static<typeof privacyNoticeResponse>, PrivacyNoticeResponse>>,
  Expect<Same<Static<typeof ruleView>, RuleView>>,
  Expect<Same<Static<typeof rulesList>, RulesList>>,
  Expect<Same<Static<typeof alertView>, AlertView>>,
  Expect<Same<Static<typeof alertsPage>, AlertsPage>>,
  Expect<Same<Static<typeof alertsReviewed>, AlertsReviewed>>,
  Expect<Same<Static<typeof webhookList>, WebhookList>>,
  Expect<Same<Static<typeof webhookDeliveryView>, WebhookDeliveryView>>,
  Expect<Same<Static<typeof webhookDeliveryList>, WebhookDeliveryList>>,
  Expect<Same<Static<typeof pushKeyResponse>, PushKeyResponse>>,
  Expect<Same<Static<typeof pushSubscriptionView>, PushSubscriptionView>>,
  Expect<Same<Static<typeof pushSubscriptionList>, PushSubscriptionList>>,
  Expect<Same<Static<typeof discoverResponse>, DiscoverResponse>>,
  Expect<Same<Static<typeof onvifProbeResponse>, OnvifProbeResponse>>,
  Expect<Same<Static<typeof ptzPresetList>, PtzPresetList>>,
];
