import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { ApprovalKind } from '../contract/approvals.js';
import type { RuleDefinition } from '../contract/rules.js';
import type { LineView, ZoneView } from '../contract/scene.js';
import type { Static } from '@sinclair/typebox';
import { closestKey, joinPath, schemaProblems, sortProblems, type ConfigProblem } from './problems.js';
import {
  AnalyticsSchema,
  CameraSchema,
  DEFAULT_DETECT_LABELS,
  DETECT_LABELS,
  DetectSchema,
  IngestSchema,
  PrivacySchema,
  SceneSchema,
  LISTEN_PATTERN,
  MqttSchema,
  RecordingSchema,
  RetentionSchema,
  RuleSchema,
  ApprovalsSchema,
  SecuritySchema,
  SiteSchema,
  ServerSchema,
  StorageSchema,
  StreamSchema,
  VigilConfigSchema,
} from './schema.js';
import { normaliseNotify, type NotifyConfig } from './notify.js';
import { polygonProblem } from './polygon.js';
import { normaliseRule, ruleProblems, type SceneIds } from './rules.js';
import { parseSize } from './size.js';
import { parseCidr, parseStreamUrl, redactUrl, type UrlOrigin } from './url.js';

/**
 * The EDPB guidelines on video devices (3/2019): continuous recording kept a few days, 72 hours
 * when nothing happened; events long enough to be handled. Longer needs a reason on record.
 */
export const EDPB_CONTINUOUS_DAYS = 3;
export const EDPB_EVENTS_DAYS = 14;
/** A tripwire shorter than this (0.1 % of the frame) is a slip of the mouse, not a line. */
const MIN_LINE_LENGTH = 0.001;

export type AudioMode = 'auto' | 'copy' | 'aac' | 'off';
export type RtspTransport = 'tcp' | 'udp';
export type IngestKind = 'auto' | 'native' | 'ffmpeg';
export type SourceKind = 'auto' | 'mjpeg' | 'snapshot' | 'hls';

/** The default poll interval of a snapshot camera: 1 fps. */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1000;

/**
 * A stream after loading. Credentials live in `user` and `password`, never in `url`, whichever
 * way the file gave them: `url` is safe to log, and ingest joins them with withCredentials().
 */
export interface StreamConfig {
  /** Without credentials. file: URLs are absolute (file:///…); testsrc: URLs list every option. */
  readonly url: string;
  /** Only used for rtsp and rtsps. */
  readonly transport: RtspTransport;
  readonly audio: AudioMode;
  /** What pulls the stream: Vigil's own RTSP client (rtsp:// over TCP), an ffmpeg process, or auto. */
  readonly ingest: IngestKind;
  /** What an http(s) URL serves; absent means `auto` (the only choice for other schemes). */
  readonly kind?: SourceKind;
  /** For `kind: snapshot` (and an `auto` URL that turns out to answer single JPEGs); absent means 1000. */
  readonly snapshotIntervalMs?: number;
  /** Percent-decoded, as the camera expects it. */
  readonly user?: string;
  /** Percent-decoded. A secret: keep out of logs and API responses (see redactCamera). */
  readonly password?: string;
}

/** Limits a detection of one label must meet; unset keys fall back to the pipeline's defaults. */
export interface LabelFilterConfig {
  readonly minScore?: number;
  readonly minAreaFraction?: number;
  readonly maxAreaFraction?: number;
  readonly minAspect?: number;
  readonly maxAspect?: number;
}

/** A polygon in normalised image coordinates: points [x, y], each 0..1 of the frame. */
export type NormalisedPolygonConfig = readonly (readonly [number, number])[];

/** A camera's object detection and event settings, defaults applied. */
export interface DetectConfig {
  readonly enabled: boolean;
  readonly fps: number;
  /** COCO object labels that raise events. */
  readonly labels: readonly string[];
  readonly minScore: number;
  /** Keyed by label. */
  readonly filters: Readonly<Record<string, LabelFilterConfig>>;
  /** Motion masks. */
  readonly masks: readonly NormalisedPolygonConfig[];
  readonly preCaptureMs: number;
  readonly postCaptureMs: number;
  /** Left out when the config says nothing: read it through tamperConfigFor(). */
  readonly tamper?: TamperConfig;
}

/** Tamper detection settings (schema.ts TamperSchema). */
export interface TamperConfig {
  readonly enabled: boolean;
  readonly minDurationMs: number;
  readonly sensitivity: number;
}

const DEFAULT_TAMPER: TamperConfig = { enabled: true, minDurationMs: 10_000, sensitivity: 0.5 };

/** Tamper settings with defaults. */
export function tamperConfigFor(detect: DetectConfig): TamperConfig {
  return detect.tamper ?? DEFAULT_TAMPER;
}

/** One privacy mask of a camera (schema.ts PrivacyMaskSchema). */
export interface PrivacyMaskConfig {
  readonly id: string;
  readonly name?: string;
  /** permanent: hidden from everyone; liftable: hidden unless the viewer has `unmask` and an active lift. */
  readonly kind: 'permanent' | 'liftable';
  readonly polygon: NormalisedPolygonConfig;
}

/** Which point of an object's box decides where it is. */
export type SceneReferencePoint = 'bottom-centre' | 'centre';

/** A camera's zones, tripwires and object masks (schema.ts SceneSchema), names filled in. */
export interface SceneConfig {
  readonly zones: readonly ZoneView[];
  readonly lines: readonly LineView[];
  readonly referencePoint: SceneReferencePoint;
  /** Detections whose reference point lies inside are dropped before tracking. */
  readonly objectMasks: readonly NormalisedPolygonConfig[];
}

export interface PrivacyConfig {
  readonly masks: readonly PrivacyMaskConfig[];
  /** Permanent masks are burnt into the recording too (the masked-video module does that). */
  readonly maskAtRecording: boolean;
}

export interface CameraConfig {
  readonly id: string;
  /** The id when the file gives no name. */
  readonly name: string;
  readonly enabled: boolean;
  readonly streams: { readonly main: StreamConfig; readonly sub?: StreamConfig };
  /** This camera's overrides only; retentionDaysFor() gives the days that apply. */
  readonly retention?: { readonly continuousDays: number; readonly justification?: string };
  /**
   * Always set by the loader; cameras stored through the API before detection existed lack it,
   * so read it through detectConfigFor().
   */
  readonly detect?: DetectConfig;
  /** Absent on cameras stored before privacy masks existed: read it through privacyConfigFor(). */
  readonly privacy?: PrivacyConfig;
  /** Absent on cameras stored before zones existed: read it through sceneConfigFor(). */
  readonly scene?: SceneConfig;
  /** Where the camera speaks ONVIF (PTZ, its own events); absent when it does not, or nobody said. */
  readonly onvif?: CameraOnvifConfig;
}

export interface CameraOnvifConfig {
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  readonly events: boolean;
}

export interface ServerConfig {
  /** As written, host:port. */
  readonly listen: string;
  /** Without IPv6 brackets, as net.Server.listen wants it. */
  readonly host: string;
  readonly port: number;
  /** Certificate files (absolute), or a self-signed certificate; absent: plain HTTP. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | { readonly selfSigned: true };
  /** More names setup and sign-in answer to (the Host header); see src/auth/host-check.ts. */
  readonly allowedHosts?: readonly string[];
  /** Addresses and CIDR blocks that may read /metrics without a token; empty: none. */
  readonly metricsAllowFrom: readonly string[];
  /** STUN server for WebRTC live view; absent: host candidates only. */
  readonly webrtcStunServer?: string;
}

export interface StorageConfig {
  /** Absolute. */
  readonly path: string;
  /** Undefined: no budget beyond minFreeBytes. */
  readonly maxBytes?: number;
  readonly minFreeBytes: number;
}

export interface RecordingConfig {
  readonly segmentDurationMs: number;
}

export interface RetentionConfig {
  readonly continuousDays: number;
  readonly checkIntervalMs: number;
  readonly eventsDays: number;
  /** Days signed export bundles stay on this machine (longer while a share link is valid). */
  readonly exportsDays: number;
  /** Why recordings are kept longer than the EDPB guidance; required when they are. */
  readonly justification?: string;
}

/** Who records and why, for the privacy notice. */
export interface SiteConfig {
  readonly name: string;
  readonly controller?: string;
  readonly purpose?: string;
  readonly contact?: string;
  /** IANA time zone of the site: rule schedules and daily counts follow it. */
  readonly timeZone: string;
}

/** The machine's own time zone, which a site without `site.timeZone` is taken to be in. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function siteTimeZone(site: unknown, problems: ConfigProblem[]): string {
  const name = (site as { timeZone?: unknown } | undefined)?.timeZone;
  if (typeof name !== 'string') return systemTimeZone();
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    problems.push({
      path: 'site.timeZone',
      message: `unknown time zone '${name}': use an IANA name such as Europe/Berlin or America/New_York`,
    });
    return systemTimeZone();
  }
}

/** The MQTT broker to publish to. */
export interface MqttConfig {
  /** Without credentials, safe to log. */
  readonly url: string;
  readonly topicPrefix: string;
  readonly discoveryPrefix: string;
  readonly user?: string;
  /** A secret: keep out of logs. */
  readonly password?: string;
}

export interface IngestConfig {
  /** Undefined: find ffmpeg (locateFfmpeg). Paths with a '/' are absolute. */
  readonly ffmpegPath?: string;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly stallTimeoutMs: number;
}

export interface AnalyticsConfig {
  readonly detector: {
    readonly backend: 'auto' | 'onnx' | 'tfjs';
    readonly threads: number;
    /** Absolute; undefined: the user's cache folder (defaultCacheDir). */
    readonly cacheDir?: string;
  };
}

export interface SecurityConfig {
  /** CIDR blocks camera connections must resolve into; undefined: anywhere. */
  readonly cameraNetworks?: readonly string[];
}

export interface ApprovalsConfig {
  readonly require: readonly ApprovalKind[];
  readonly expiryMs: number;
}

/** The configuration after loading: defaults applied, sizes in bytes, paths absolute, frozen. */
export interface VigilConfig {
  readonly site: SiteConfig;
  readonly server: ServerConfig;
  readonly storage: StorageConfig;
  readonly recording: RecordingConfig;
  readonly retention: RetentionConfig;
  readonly ingest: IngestConfig;
  readonly analytics: AnalyticsConfig;
  /** Undefined: MQTT off. */
  readonly mqtt?: MqttConfig;
  /** Undefined: no security limits set. */
  readonly security?: SecurityConfig;
  readonly approvals: ApprovalsConfig;
  /** Webhooks and Web Push. */
  readonly notify: NotifyConfig;
  readonly cameras: readonly CameraConfig[];
  /** Rules from the file (read-only through the API), defaults filled in. */
  readonly rules: readonly RuleDefinition[];
}

export interface NormaliseOptions {
  /** Folder that relative paths and file: URLs are resolved against. */
  baseDir?: string;
  /** Paths already reported (a missing environment variable): not checked again. */
  hidden?: ReadonlySet<string>;
  /** 'api': stream URLs may not be file: URLs. Default 'config'. */
  origin?: UrlOrigin;
}

export type CameraValidation = { ok: true; camera: CameraConfig } | { ok: false; problems: ConfigProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Prepares input for TypeBox. `key:` with nothing after it is the same as leaving the key out,
 * so commenting out every line of a section does not turn it into an error. A `__proto__` key
 * is reported and dropped here, because Value.Default's Object.assign would turn it into the
 * object's prototype, hiding it from the unknown-key check.
 */
export function cleanInput(value: unknown, path: string, problems: ConfigProblem[]): unknown {
  if (Array.isArray(value))
    return value.map((item: unknown, i) => cleanInput(item, joinPath(path, i), problems));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null) continue;
    if (key === '__proto__') {
      problems.push({ path: joinPath(path, key), message: "unknown key '__proto__'" });
      continue;
    }
    out[key] = cleanInput(item, joinPath(path, key), problems);
  }
  return out;
}

/** A key the schema gives a default, read after Value.Default filled it in. */
function present<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('config key without its default: the schema lacks a default');
  return value;
}

function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return path;
}

function streamProblem(problems: ConfigProblem[], path: string, key: string, message: string): void {
  problems.push({ path: joinPath(path, key), message });
}

function normaliseStream(
  stream: unknown,
  path: string,
  opts: NormaliseOptions,
  problems: ConfigProblem[],
): StreamConfig | undefined {
  if (!isRecord(stream)) return undefined;
  const rawUrl = stream['url'];
  if (typeof rawUrl !== 'string' || rawUrl === '' || opts.hidden?.has(joinPath(path, 'url')))
    return undefined;
  // The URL is checked even when other keys of the stream are wrong: all problems at once.
  const parsed = parseStreamUrl(rawUrl, {
    ...(opts.baseDir === undefined ? {} : { baseDir: opts.baseDir }),
    ...(opts.origin === undefined ? {} : { origin: opts.origin }),
  });
  if (!parsed.ok) {
    streamProblem(problems, path, 'url', parsed.message);
    return undefined;
  }
  if (!Value.Check(StreamSchema, stream)) return undefined;
  const { url, scheme } = parsed.value;
  const before = problems.length;
  const fieldUser = stream.user === '' ? undefined : stream.user;
  const fieldPassword = stream.password === '' ? undefined : stream.password;
  if (fieldUser !== undefined && parsed.value.user !== undefined) {
    streamProblem(
      problems,
      path,
      'user',
      "the URL has a user name already: give it in the URL or in 'user', not both",
    );
  }
  if (fieldPassword !== undefined && parsed.value.password !== undefined) {
    streamProblem(
      problems,
      path,
      'password',
      "the URL has a password already: give it in the URL or in 'password', not both",
    );
  }
  const user = fieldUser ?? parsed.value.user;
  const password = fieldPassword ?? parsed.value.password;
  const local = scheme === 'file' || scheme === 'testsrc';
  if (local && (user !== undefined || password !== undefined)) {
    streamProblem(
      problems,
      path,
      fieldUser !== undefined ? 'user' : 'password',
      `${scheme}: streams take no user or password`,
    );
  } else if (password !== undefined && user === undefined) {
    streamProblem(problems, path, 'user', 'a password needs a user name: add user, or user@ in the URL');
  }
  // tcp is the default everywhere (so a loaded config validates again); udp elsewhere is a mistake.
  if (stream.transport === 'udp' && scheme !== 'rtsp' && scheme !== 'rtsps') {
    streamProblem(problems, path, 'transport', `applies to rtsp:// and rtsps:// URLs only, not ${scheme}:`);
  }
  if (stream.ingest === 'native' && scheme !== 'rtsp') {
    streamProblem(
      problems,
      path,
      'ingest',
      `native ingest pulls rtsp:// URLs only, not ${scheme}:; use ingest: ffmpeg`,
    );
  }
  const kind = present(stream.kind);
  if (kind !== 'auto' && scheme !== 'http' && scheme !== 'https') {
    streamProblem(problems, path, 'kind', `${kind} sources are http:// or https:// URLs, not ${scheme}:`);
  }
  if (stream.snapshotIntervalMs !== undefined && kind !== 'snapshot' && kind !== 'auto') {
    streamProblem(problems, path, 'snapshotIntervalMs', `applies to kind: snapshot only, not ${kind}`);
  }
  if (problems.length > before) return undefined;
  return {
    url,
    transport: present(stream.transport),
    audio: present(stream.audio),
    ingest: present(stream.ingest),
    ...(kind !== 'auto' ? { kind } : {}),
    ...(stream.snapshotIntervalMs !== undefined ? { snapshotIntervalMs: stream.snapshotIntervalMs } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

// Words for attributes of people rather than objects: detecting them is refused by design, so a
// label like these gets its own message instead of a "did you mean".
const PERSON_ATTRIBUTE_LABELS = new Set([
  'face',
  'faces',
  'age',
  'gender',
  'sex',
  'male',
  'female',
  'man',
  'woman',
  'men',
  'women',
  'boy',
  'girl',
  'child',
  'adult',
  'race',
  'ethnicity',
  'ethnic',
  'skin',
  'emotion',
  'mood',
  'smile',
  'religion',
  'gait',
  'identity',
]);

function labelProblem(label: string): string | undefined {
  if (DETECT_LABELS.includes(label)) return undefined;
  if (PERSON_ATTRIBUTE_LABELS.has(label.toLowerCase())) {
    return (
      `'${label}' is an attribute of people: Vigil detects objects (person, car, dog …) and never infers ` +
      'faces, age, gender, ethnicity or emotion (refused by design)'
    );
  }
  const guess = closestKey(label, DETECT_LABELS);
  return (
    `'${label}' is not an object label the detector knows` +
    (guess
      ? ` (did you mean '${guess}'?)`
      : ': use COCO labels such as person, bicycle, car, truck, dog, cat')
  );
}

/** Label checks beyond the schema: only COCO object labels, in `labels` and as `filters` keys. */
function checkDetectLabels(detect: unknown, path: string, problems: ConfigProblem[]): void {
  if (!isRecord(detect)) return;
  const labels = detect['labels'];
  if (Array.isArray(labels)) {
    labels.forEach((label: unknown, i) => {
      const problem = typeof label === 'string' && label !== '' ? labelProblem(label) : undefined;
      if (problem) problems.push({ path: joinPath(joinPath(path, 'labels'), i), message: problem });
    });
  }
  const filters = detect['filters'];
  if (isRecord(filters)) {
    for (const label of Object.keys(filters)) {
      const problem = labelProblem(label);
      if (problem) problems.push({ path: joinPath(joinPath(path, 'filters'), label), message: problem });
    }
  }
}

function normaliseDetect(
  detect: unknown,
  hasSub: boolean,
  path: string,
  problems: ConfigProblem[],
): DetectConfig | undefined {
  checkDetectLabels(detect, path, problems);
  // The section has no default of its own (the docs would show `{}`), so fill one in here.
  const value: unknown = detect ?? Value.Default(DetectSchema, {});
  if (!Value.Check(DetectSchema, value)) return undefined;
  return {
    enabled: value.enabled ?? hasSub,
    fps: present(value.fps),
    labels: [...new Set(present(value.labels))],
    minScore: present(value.minScore),
    filters: value.filters ?? {},
    masks: (value.masks ?? []).map((polygon) => polygon.map(([x, y]) => [x, y] as [number, number])),
    preCaptureMs: present(value.preCaptureMs),
    postCaptureMs: present(value.postCaptureMs),
    ...(value.tamper
      ? {
          tamper: {
            enabled: present(value.tamper.enabled),
            minDurationMs: present(value.tamper.minDurationMs),
            sensitivity: present(value.tamper.sensitivity),
          },
        }
      : {}),
  };
}

/** Detection settings with defaults, for a camera of any origin (see CameraConfig.detect). */
export function detectConfigFor(camera: CameraConfig): DetectConfig {
  return (
    camera.detect ?? {
      enabled: camera.streams.sub !== undefined,
      fps: 5,
      labels: [...DEFAULT_DETECT_LABELS],
      minScore: 0.5,
      filters: {},
      masks: [],
      preCaptureMs: 5000,
      postCaptureMs: 5000,
    }
  );
}

const NO_PRIVACY: PrivacyConfig = { masks: [], maskAtRecording: false };

/** Privacy masks with defaults, for a camera of any origin (see CameraConfig.privacy). */
export function privacyConfigFor(camera: CameraConfig): PrivacyConfig {
  return camera.privacy ?? NO_PRIVACY;
}

/** Mask ids unique on the camera, and every polygon a simple one; problems name the mask. */
function normalisePrivacy(
  privacy: unknown,
  path: string,
  problems: ConfigProblem[],
): PrivacyConfig | undefined {
  const value: unknown = privacy ?? Value.Default(PrivacySchema, {});
  if (!Value.Check(PrivacySchema, value)) return undefined;
  const masks = value.masks ?? [];
  const before = problems.length;
  const seen = new Set<string>();
  masks.forEach((mask, i) => {
    const maskPath = joinPath(joinPath(path, 'masks'), i);
    const label = `mask '${mask.id}'${mask.name !== undefined ? ` (${mask.name})` : ''}`;
    if (seen.has(mask.id)) {
      problems.push({
        path: joinPath(maskPath, 'id'),
        message: `${label}: another mask of this camera has this id`,
      });
    }
    seen.add(mask.id);
    const problem = polygonProblem(mask.polygon.map(([x, y]) => [x ?? 0, y ?? 0] as const));
    if (problem) problems.push({ path: joinPath(maskPath, 'polygon'), message: `${label} ${problem}` });
  });
  if (problems.length > before) return undefined;
  return {
    masks: masks.map((mask) => ({
      id: mask.id,
      ...(mask.name !== undefined ? { name: mask.name } : {}),
      kind: mask.kind,
      polygon: mask.polygon.map(([x, y]) => [x, y] as [number, number]),
    })),
    maskAtRecording: present(value.maskAtRecording),
  };
}

/** A camera without zones, lines or object masks. */
export const EMPTY_SCENE: SceneConfig = {
  zones: [],
  lines: [],
  referencePoint: 'bottom-centre',
  objectMasks: [],
};

/** The ids of a camera's zones and lines, which rules name. */
export function sceneIdsOf(camera: CameraConfig): SceneIds {
  const scene = sceneConfigFor(camera);
  return { zones: scene.zones.map((z) => z.id), lines: scene.lines.map((l) => l.id) };
}

/** Zones, tripwires and object masks with defaults, for a camera of any origin (see CameraConfig.scene). */
export function sceneConfigFor(camera: CameraConfig): SceneConfig {
  return camera.scene ?? EMPTY_SCENE;
}

function points(polygon: readonly (readonly (number | undefined)[])[]): [number, number][] {
  return polygon.map(([x, y]) => [x ?? 0, y ?? 0]);
}

/** Labels of a zone or line: object labels the detector knows, never attributes of people. */
function checkLabels(labels: readonly string[] | undefined, path: string, problems: ConfigProblem[]): void {
  (labels ?? []).forEach((label, i) => {
    const problem = labelProblem(label);
    if (problem) problems.push({ path: joinPath(path, i), message: problem });
  });
}

/**
 * Ids unique among the camera's zones and lines, zones and object masks simple polygons, lines
 * of some length; problems name the zone or line.
 */
function normaliseScene(scene: unknown, path: string, problems: ConfigProblem[]): SceneConfig | undefined {
  const value: unknown = scene ?? Value.Default(SceneSchema, {});
  if (!Value.Check(SceneSchema, value)) return undefined;
  const before = problems.length;
  const seen = new Set<string>();
  const checkId = (id: string, what: string, itemPath: string) => {
    if (seen.has(id))
      problems.push({
        path: joinPath(itemPath, 'id'),
        message: `${what}: another zone or line of this camera has this id`,
      });
    seen.add(id);
  };
  const zones = present(value.zones);
  zones.forEach((zone, i) => {
    const zonePath = joinPath(joinPath(path, 'zones'), i);
    const what = `zone '${zone.id}'${zone.name !== undefined ? ` (${zone.name})` : ''}`;
    checkId(zone.id, what, zonePath);
    checkLabels(zone.labels, joinPath(zonePath, 'labels'), problems);
    const problem = polygonProblem(points(zone.points));
    if (problem) problems.push({ path: joinPath(zonePath, 'points'), message: `${what} ${problem}` });
  });
  const lines = present(value.lines);
  lines.forEach((line, i) => {
    const linePath = joinPath(joinPath(path, 'lines'), i);
    const what = `line '${line.id}'${line.name !== undefined ? ` (${line.name})` : ''}`;
    checkId(line.id, what, linePath);
    checkLabels(line.labels, joinPath(linePath, 'labels'), problems);
    const [[ax, ay], [bx, by]] = points([line.a, line.b]) as [[number, number], [number, number]];
    if (Math.hypot(bx - ax, by - ay) < MIN_LINE_LENGTH)
      problems.push({ path: joinPath(linePath, 'b'), message: `${what} has no length: put b away from a` });
  });
  const objectMasks = present(value.objectMasks);
  objectMasks.forEach((polygon, i) => {
    const problem = polygonProblem(points(polygon));
    if (problem)
      problems.push({
        path: joinPath(joinPath(path, 'objectMasks'), i),
        message: `object mask ${i + 1} ${problem}`,
      });
  });
  if (problems.length > before) return undefined;
  return {
    zones: zones.map((zone) => ({
      id: zone.id,
      name: zone.name ?? zone.id,
      points: points(zone.points),
      labels: [...present(zone.labels)],
    })),
    lines: lines.map((line) => ({
      id: line.id,
      name: line.name ?? line.id,
      a: points([line.a])[0] as [number, number],
      b: points([line.b])[0] as [number, number],
      direction: present(line.direction),
      labels: [...present(line.labels)],
    })),
    referencePoint: present(value.referencePoint),
    objectMasks: objectMasks.map(points),
  };
}

/** Checks beyond the schema, on a camera with defaults applied; parts failing the schema are skipped. */
function normaliseCamera(
  camera: unknown,
  path: string,
  opts: NormaliseOptions,
  problems: ConfigProblem[],
): CameraConfig | undefined {
  if (!isRecord(camera)) return undefined;
  const streams = camera['streams'];
  let main: StreamConfig | undefined;
  let sub: StreamConfig | undefined;
  if (isRecord(streams)) {
    const streamsPath = joinPath(path, 'streams');
    main = normaliseStream(streams['main'], joinPath(streamsPath, 'main'), opts, problems);
    if (streams['sub'] !== undefined) {
      sub = normaliseStream(streams['sub'], joinPath(streamsPath, 'sub'), opts, problems);
    }
  }
  const detect = normaliseDetect(
    camera['detect'],
    isRecord(streams) && streams['sub'] !== undefined,
    joinPath(path, 'detect'),
    problems,
  );
  const privacy = normalisePrivacy(camera['privacy'], joinPath(path, 'privacy'), problems);
  const scene = normaliseScene(camera['scene'], joinPath(path, 'scene'), problems);
  if (
    !Value.Check(CameraSchema, camera) ||
    !main ||
    (camera.streams.sub && !sub) ||
    !detect ||
    !privacy ||
    !scene
  )
    return undefined;
  const continuousDays = camera.retention?.continuousDays;
  const justification = camera.retention?.justification;
  if (continuousDays !== undefined && continuousDays > EDPB_CONTINUOUS_DAYS && justification === undefined) {
    problems.push({
      path: joinPath(joinPath(path, 'retention'), 'justification'),
      message:
        `is needed: continuousDays ${continuousDays} keeps recording longer than the 72 hours the EDPB ` +
        "guidance allows without a reason; write why (e.g. 'the shop is closed for two weeks in August')",
    });
    return undefined;
  }
  return {
    id: camera.id,
    name: camera.name ?? camera.id,
    enabled: present(camera.enabled),
    streams: sub ? { main, sub } : { main },
    ...(continuousDays !== undefined
      ? { retention: { continuousDays, ...(justification !== undefined ? { justification } : {}) } }
      : {}),
    detect,
    privacy,
    scene,
    ...(camera.onvif !== undefined
      ? {
          onvif: {
            url: camera.onvif.url,
            ...(camera.onvif.user !== undefined ? { user: camera.onvif.user } : {}),
            ...(camera.onvif.password !== undefined ? { password: camera.onvif.password } : {}),
            events: present(camera.onvif.events),
          },
        }
      : {}),
  };
}

/**
 * Validates one camera with the rules of the config file, e.g. a `POST /api/cameras` body.
 * Paths in problems start with pathPrefix ('' gives `streams.main.url`). Relative file: URLs
 * need baseDir. No environment substitution: that is for the file only. Request bodies pass
 * origin 'api', which refuses file: URLs.
 */
export function validateCamera(
  input: unknown,
  pathPrefix = '',
  opts: { baseDir?: string; origin?: UrlOrigin } = {},
): CameraValidation {
  const problems: ConfigProblem[] = [];
  const raw = cleanInput(input, pathPrefix, problems);
  const defaulted: unknown = Value.Default(CameraSchema, Value.Clone(raw));
  problems.push(...schemaProblems(CameraSchema, defaulted, pathPrefix));
  const camera = normaliseCamera(defaulted, pathPrefix, opts, problems);
  if (problems.length > 0 || !camera) return { ok: false, problems: sortProblems(problems, raw, pathPrefix) };
  return { ok: true, camera: deepFreeze(camera) };
}

export function parseListen(listen: string): { host: string; port: number } | undefined {
  const match = new RegExp(LISTEN_PATTERN).exec(listen);
  if (!match?.[1]) return undefined;
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  if (port > 65535) return undefined;
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function parseMqttUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return (url.protocol === 'mqtt:' || url.protocol === 'mqtts:') && url.hostname !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}

function normaliseMqtt(input: unknown, problems: ConfigProblem[]): MqttConfig | undefined {
  // The URL is checked even when other keys are wrong: all problems at once. Not echoed: it may
  // hold a password.
  const rawUrl = isRecord(input) ? input['url'] : undefined;
  const url = typeof rawUrl === 'string' && rawUrl !== '' ? parseMqttUrl(rawUrl) : undefined;
  if (typeof rawUrl === 'string' && rawUrl !== '' && !url) {
    problems.push({
      path: 'mqtt.url',
      message: 'must be an MQTT broker URL such as mqtt://127.0.0.1:1883 or mqtts://broker.lan:8883',
    });
  }
  if (!url || !Value.Check(MqttSchema, input)) return undefined;
  const urlUser = url.username === '' ? undefined : decodeURIComponent(url.username);
  const urlPassword = url.password === '' ? undefined : decodeURIComponent(url.password);
  const before = problems.length;
  if (urlUser !== undefined && input.user !== undefined) {
    problems.push({
      path: 'mqtt.user',
      message: "the URL has a user name already: give it in the URL or in 'user', not both",
    });
  }
  if (urlPassword !== undefined && input.password !== undefined) {
    problems.push({
      path: 'mqtt.password',
      message: "the URL has a password already: give it in the URL or in 'password', not both",
    });
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    problems.push({ path: 'mqtt.url', message: 'takes no path: use mqtt://host:port' });
  }
  if (problems.length > before) return undefined;
  const user = input.user ?? urlUser;
  const password = input.password ?? urlPassword;
  // Credentials live in user/password only, so the URL is safe to log.
  url.username = '';
  url.password = '';
  return {
    url: `${url.protocol}//${url.host}`,
    topicPrefix: present(input.topicPrefix),
    discoveryPrefix: present(input.discoveryPrefix),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** A list of CIDR blocks (or bare addresses), trimmed; undefined when an entry is not one. */
function normaliseNetworks(
  networks: readonly string[],
  path: string,
  problems: ConfigProblem[],
): string[] | undefined {
  const before = problems.length;
  networks.forEach((text, i) => {
    const cidr = parseCidr(text);
    if (!cidr.ok) problems.push({ path: joinPath(path, i), message: cidr.message });
  });
  return problems.length > before ? undefined : networks.map((text) => text.trim());
}

/** security.cameraNetworks: every entry a CIDR block; an empty list would refuse every camera. */
function normaliseSecurity(input: unknown, problems: ConfigProblem[]): SecurityConfig | undefined {
  if (input === undefined) return {};
  if (!Value.Check(SecuritySchema, input)) return undefined;
  const networks = input.cameraNetworks;
  if (networks === undefined) return {};
  if (networks.length === 0) {
    problems.push({
      path: 'security.cameraNetworks',
      message: 'lists no network, so no camera could connect: list networks, or leave the key out',
    });
    return undefined;
  }
  const cameraNetworks = normaliseNetworks(networks, 'security.cameraNetworks', problems);
  return cameraNetworks ? { cameraNetworks } : undefined;
}

/** Either both certificate files or a self-signed certificate, never half of one. */
function normaliseTls(
  tls: { certFile?: string; keyFile?: string; selfSigned?: boolean } | undefined,
  baseDir: string,
  problems: ConfigProblem[],
): ServerConfig['tls'] {
  if (tls === undefined) return undefined;
  const files = tls.certFile !== undefined || tls.keyFile !== undefined;
  if (files && tls.selfSigned) {
    problems.push({
      path: 'server.tls',
      message: 'give either certFile and keyFile, or selfSigned: true, not both',
    });
    return undefined;
  }
  if (files) {
    if (tls.certFile === undefined || tls.keyFile === undefined) {
      problems.push({ path: 'server.tls', message: 'a certificate needs both certFile and keyFile' });
      return undefined;
    }
    return {
      certFile: resolve(baseDir, expandHome(tls.certFile)),
      keyFile: resolve(baseDir, expandHome(tls.keyFile)),
    };
  }
  if (tls.selfSigned) return { selfSigned: true };
  problems.push({ path: 'server.tls', message: 'give certFile and keyFile, or selfSigned: true' });
  return undefined;
}

/**
 * The whole configuration from a parsed (and env-substituted) file: every problem found, and
 * the normalised config when there are none.
 */
export function normaliseConfig(
  input: unknown,
  opts: NormaliseOptions & { baseDir: string },
): { config?: VigilConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const raw = cleanInput(input ?? {}, '', problems);
  const defaulted: unknown = Value.Default(VigilConfigSchema, Value.Clone(raw));
  problems.push(...schemaProblems(VigilConfigSchema, defaulted, '', opts));
  if (!isRecord(defaulted)) return { problems };

  let server: ServerConfig | undefined;
  if (Value.Check(ServerSchema, defaulted['server'])) {
    const listen = present(defaulted['server'].listen);
    const parsed = parseListen(listen);
    const tls = normaliseTls(defaulted['server'].tls, opts.baseDir, problems);
    const allowedHosts = defaulted['server'].allowedHosts;
    const webrtcStunServer = defaulted['server'].webrtcStunServer;
    const metricsAllowFrom = normaliseNetworks(
      present(defaulted['server'].metricsAllowFrom),
      'server.metricsAllowFrom',
      problems,
    );
    if (!parsed) {
      problems.push({ path: 'server.listen', message: `port in '${listen}' must be from 0 to 65535` });
    } else if (metricsAllowFrom) {
      server = {
        listen,
        ...parsed,
        ...(tls ? { tls } : {}),
        ...(allowedHosts ? { allowedHosts } : {}),
        ...(webrtcStunServer ? { webrtcStunServer } : {}),
        metricsAllowFrom,
      };
    }
  }

  let storage: StorageConfig | undefined;
  if (Value.Check(StorageSchema, defaulted['storage'])) {
    const s = defaulted['storage'];
    const maxBytes = s.maxBytes === undefined ? undefined : parseSize(s.maxBytes);
    const minFreeBytes = parseSize(present(s.minFreeBytes));
    if (maxBytes === null) problems.push({ path: 'storage.maxBytes', message: 'is too large' });
    else if (maxBytes === 0) {
      problems.push({ path: 'storage.maxBytes', message: 'must be more than 0: leave it out for no budget' });
    }
    if (minFreeBytes === null) problems.push({ path: 'storage.minFreeBytes', message: 'is too large' });
    if (maxBytes !== null && maxBytes !== 0 && minFreeBytes !== null) {
      storage = {
        path: resolve(opts.baseDir, expandHome(present(s.path))),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
        minFreeBytes,
      };
    }
  }

  let ingest: IngestConfig | undefined;
  if (Value.Check(IngestSchema, defaulted['ingest'])) {
    const i = defaulted['ingest'];
    const retryInitialMs = present(i.retryInitialMs);
    const retryMaxMs = present(i.retryMaxMs);
    if (retryMaxMs < retryInitialMs) {
      problems.push({
        path: 'ingest.retryMaxMs',
        message: `must be at least retryInitialMs (${retryInitialMs}), got ${retryMaxMs}`,
      });
    } else {
      const expanded = i.ffmpegPath === undefined ? undefined : expandHome(i.ffmpegPath);
      // A bare name is for a PATH lookup; anything with a slash is a path like storage.path.
      const ffmpegPath =
        expanded !== undefined && expanded.includes('/') && !isAbsolute(expanded)
          ? resolve(opts.baseDir, expanded)
          : expanded;
      ingest = {
        ...(ffmpegPath !== undefined ? { ffmpegPath } : {}),
        retryInitialMs,
        retryMaxMs,
        stallTimeoutMs: present(i.stallTimeoutMs),
      };
    }
  }

  const cameras: CameraConfig[] = [];
  // A camera can fail without a problem of its own when its URL lies on a hidden path.
  let camerasIncomplete = false;
  const defaultedCameras = defaulted['cameras'];
  if (Array.isArray(defaultedCameras)) {
    const firstPathOfId = new Map<string, string>();
    defaultedCameras.forEach((item: unknown, index) => {
      const path = joinPath('cameras', index);
      const camera = normaliseCamera(item, path, opts, problems);
      if (camera) cameras.push(camera);
      else camerasIncomplete = true;
      const id = isRecord(item) ? item['id'] : undefined;
      if (typeof id !== 'string') return;
      const first = firstPathOfId.get(id);
      if (first !== undefined) {
        problems.push({
          path: joinPath(path, 'id'),
          message: `duplicate camera id '${id}': ${first} has it already`,
        });
      } else firstPathOfId.set(id, joinPath(path, 'id'));
    });
  }

  const scenes = new Map(cameras.map((c) => [c.id, sceneIdsOf(c)]));
  const rules = normaliseRules(defaulted['rules'], new Set(scenes.keys()), problems, (id) => scenes.get(id));

  const mqttInput = defaulted['mqtt'];
  const mqtt = mqttInput === undefined ? undefined : normaliseMqtt(mqttInput, problems);
  const security = normaliseSecurity(defaulted['security'], problems);
  const notify = normaliseNotify(defaulted['notify'], problems);

  const analyticsInput = defaulted['analytics'];
  const analytics = Value.Check(AnalyticsSchema, analyticsInput)
    ? normaliseAnalytics(analyticsInput, opts.baseDir)
    : undefined;
  const recording = defaulted['recording'];
  const retention = defaulted['retention'];
  const approvals = defaulted['approvals'];
  const site = defaulted['site'];
  if (Value.Check(RetentionSchema, retention)) retentionProblems(retention, problems);
  const timeZone = siteTimeZone(site, problems);
  if (
    problems.length > 0 ||
    camerasIncomplete ||
    !server ||
    !storage ||
    !ingest ||
    !analytics ||
    !Value.Check(RecordingSchema, recording) ||
    !Value.Check(RetentionSchema, retention) ||
    !Value.Check(ApprovalsSchema, approvals) ||
    !Value.Check(SiteSchema, site) ||
    (mqttInput !== undefined && !mqtt) ||
    !security ||
    !notify
  ) {
    return { problems };
  }
  const config: VigilConfig = {
    site: { ...site, name: present(site.name), timeZone },
    server,
    storage,
    recording: { segmentDurationMs: present(recording.segmentDurationMs) },
    retention: {
      continuousDays: present(retention.continuousDays),
      checkIntervalMs: present(retention.checkIntervalMs),
      eventsDays: present(retention.eventsDays),
      exportsDays: present(retention.exportsDays),
      ...(retention.justification !== undefined ? { justification: retention.justification } : {}),
    },
    ingest,
    analytics,
    ...(mqtt ? { mqtt } : {}),
    ...(security.cameraNetworks ? { security } : {}),
    approvals: { require: present(approvals.require), expiryMs: present(approvals.expiryMs) },
    notify,
    cameras,
    rules,
  };
  return { config: deepFreeze(config), problems };
}

/** The file's rules: defaults filled in, each checked against the file's cameras, ids unique. */
function normaliseRules(
  input: unknown,
  cameraIds: ReadonlySet<string>,
  problems: ConfigProblem[],
  sceneOf: (cameraId: string) => SceneIds | undefined,
): RuleDefinition[] {
  if (!Array.isArray(input)) return [];
  const rules: RuleDefinition[] = [];
  const firstPathOfId = new Map<string, string>();
  input.forEach((item: unknown, index) => {
    const path = joinPath('rules', index);
    if (!Value.Check(RuleSchema, item)) return;
    const rule = normaliseRule(item);
    problems.push(...ruleProblems(rule, path, cameraIds, sceneOf));
    const first = firstPathOfId.get(rule.id);
    if (first !== undefined) {
      problems.push({
        path: joinPath(path, 'id'),
        message: `duplicate rule id '${rule.id}': ${first} has it already`,
      });
    } else firstPathOfId.set(rule.id, joinPath(path, 'id'));
    rules.push(rule);
  });
  return rules;
}

function normaliseAnalytics(input: Static<typeof AnalyticsSchema>, baseDir: string): AnalyticsConfig {
  const detector = present(input.detector);
  const cacheDir =
    detector.cacheDir === undefined ? undefined : resolve(baseDir, expandHome(detector.cacheDir));
  return {
    detector: {
      backend: present(detector.backend),
      threads: present(detector.threads),
      ...(cacheDir !== undefined ? { cacheDir } : {}),
    },
  };
}

function retentionProblems(
  retention: { continuousDays?: number; eventsDays?: number; justification?: string },
  problems: ConfigProblem[],
): void {
  if (retention.justification !== undefined) return;
  const longer = [
    (retention.continuousDays ?? EDPB_CONTINUOUS_DAYS) > EDPB_CONTINUOUS_DAYS
      ? `continuousDays ${retention.continuousDays} (guidance: 72 hours)`
      : undefined,
    (retention.eventsDays ?? EDPB_EVENTS_DAYS) > EDPB_EVENTS_DAYS
      ? `eventsDays ${retention.eventsDays} (guidance: 14 days)`
      : undefined,
  ].filter((text) => text !== undefined);
  if (longer.length === 0) return;
  problems.push({
    path: 'retention.justification',
    message:
      `is needed: ${longer.join(' and ')} ${longer.length === 1 ? 'keeps' : 'keep'} recordings longer than the ` +
      'EDPB guidance allows without a reason; write why (e.g. "incidents are reported up to a month later")',
  });
}

/** The days of continuous recording kept for a camera: its override, else the global setting. */
export function retentionDaysFor(config: VigilConfig, camera: CameraConfig): number {
  return camera.retention?.continuousDays ?? config.retention.continuousDays;
}

/**
 * The camera as API responses and audit entries may show it: passwords replaced by ***, URLs
 * without credentials (also none in the query, e.g. ?pwd=).
 */
export function redactCamera(camera: CameraConfig): CameraConfig {
  const redact = (s: StreamConfig): StreamConfig => ({
    ...s,
    url: redactUrl(s.url),
    ...(s.password === undefined ? {} : { password: '***' }),
  });
  const { main, sub } = camera.streams;
  const onvif = camera.onvif;
  return {
    ...camera,
    streams: sub ? { main: redact(main), sub: redact(sub) } : { main: redact(main) },
    ...(onvif !== undefined
      ? {
          onvif: {
            ...onvif,
            url: redactUrl(onvif.url),
            ...(onvif.password === undefined ? {} : { password: '***' }),
          },
        }
      : {}),
  };
}
