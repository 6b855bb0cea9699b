import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { joinPath, schemaProblems, type ConfigProblem } from './problems.js';
import {
  CameraSchema,
  IngestSchema,
  LISTEN_PATTERN,
  RecordingSchema,
  RetentionSchema,
  ServerSchema,
  StorageSchema,
  StreamSchema,
  VigilConfigSchema,
} from './schema.js';
import { parseSize } from './size.js';
import { parseStreamUrl, type StreamScheme } from './url.js';

export type AudioMode = 'auto' | 'copy' | 'aac' | 'off';
export type RtspTransport = 'tcp' | 'udp';

/**
 * A stream after loading. Credentials live in `user` and `password`, never in `url`, whichever
 * way the file gave them: `url` is safe to log, and ingest joins them with withCredentials().
 */
export interface StreamConfig {
  /** Without credentials. file: URLs are absolute (file:///…); testsrc: URLs list every option. */
  readonly url: string;
  readonly scheme: StreamScheme;
  /** Only used for rtsp and rtsps. */
  readonly transport: RtspTransport;
  readonly audio: AudioMode;
  /** Percent-decoded, as the camera expects it. */
  readonly user?: string;
  /** Percent-decoded. A secret: keep out of logs and API responses (see redactCamera). */
  readonly password?: string;
}

export interface CameraConfig {
  readonly id: string;
  /** The id when the file gives no name. */
  readonly name: string;
  readonly enabled: boolean;
  readonly streams: { readonly main: StreamConfig; readonly sub?: StreamConfig };
  /** This camera's overrides only; retentionDaysFor() gives the days that apply. */
  readonly retention?: { readonly continuousDays: number };
}

export interface ServerConfig {
  /** As written, host:port. */
  readonly listen: string;
  /** Without IPv6 brackets, as net.Server.listen wants it. */
  readonly host: string;
  readonly port: number;
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
}

export interface IngestConfig {
  /** Undefined: find ffmpeg (locateFfmpeg). Paths with a '/' are absolute. */
  readonly ffmpegPath?: string;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly stallTimeoutMs: number;
}

/** The configuration after loading: defaults applied, sizes in bytes, paths absolute, frozen. */
export interface VigilConfig {
  readonly server: ServerConfig;
  readonly storage: StorageConfig;
  readonly recording: RecordingConfig;
  readonly retention: RetentionConfig;
  readonly ingest: IngestConfig;
  readonly cameras: readonly CameraConfig[];
}

export interface NormaliseOptions {
  /** Folder that relative paths and file: URLs are resolved against. */
  baseDir?: string;
  /** Paths already reported (a missing environment variable): not checked again. */
  hidden?: ReadonlySet<string>;
  /** Paths holding substituted variables: their values are not quoted in messages. */
  secretPaths?: ReadonlySet<string>;
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
 * `key:` with nothing after it is the same as leaving the key out, so commenting out every
 * line of a section does not turn it into an error.
 */
export function dropEmptyValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropEmptyValues);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null) continue;
    Object.defineProperty(out, key, { value: dropEmptyValues(item), enumerable: true, writable: true, configurable: true });
  }
  return out;
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
  raw: unknown,
  path: string,
  opts: NormaliseOptions,
  problems: ConfigProblem[],
): StreamConfig | undefined {
  if (!Value.Check(StreamSchema, stream)) return undefined;
  if (opts.hidden?.has(joinPath(path, 'url'))) return undefined;
  const parsed = parseStreamUrl(stream.url, opts.baseDir === undefined ? {} : { baseDir: opts.baseDir });
  if (!parsed.ok) {
    streamProblem(problems, path, 'url', parsed.message);
    return undefined;
  }
  const { url, scheme } = parsed.value;
  const before = problems.length;
  const fieldUser = stream.user === '' ? undefined : stream.user;
  const fieldPassword = stream.password === '' ? undefined : stream.password;
  if (fieldUser !== undefined && parsed.value.user !== undefined) {
    streamProblem(problems, path, 'user', "the URL has a user name already: give it in the URL or in 'user', not both");
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
    streamProblem(problems, path, fieldUser !== undefined ? 'user' : 'password', `${scheme}: streams take no user or password`);
  } else if (password !== undefined && user === undefined) {
    streamProblem(problems, path, 'user', 'a password needs a user name: add user, or user@ in the URL');
  }
  // The default applies everywhere; only an explicit transport on another scheme is a mistake.
  if (isRecord(raw) && raw['transport'] !== undefined && scheme !== 'rtsp' && scheme !== 'rtsps') {
    streamProblem(problems, path, 'transport', `applies to rtsp:// and rtsps:// URLs only, not ${scheme}:`);
  }
  if (problems.length > before) return undefined;
  return {
    url,
    scheme,
    transport: stream.transport,
    audio: stream.audio,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** Checks beyond the schema, on a camera with defaults applied; parts failing the schema are skipped. */
function normaliseCamera(
  camera: unknown,
  raw: unknown,
  path: string,
  opts: NormaliseOptions,
  problems: ConfigProblem[],
): CameraConfig | undefined {
  if (!isRecord(camera)) return undefined;
  const streams = camera['streams'];
  const rawStreams = isRecord(raw) && isRecord(raw['streams']) ? raw['streams'] : {};
  let main: StreamConfig | undefined;
  let sub: StreamConfig | undefined;
  if (isRecord(streams)) {
    const streamsPath = joinPath(path, 'streams');
    main = normaliseStream(streams['main'], rawStreams['main'], joinPath(streamsPath, 'main'), opts, problems);
    if (streams['sub'] !== undefined) {
      sub = normaliseStream(streams['sub'], rawStreams['sub'], joinPath(streamsPath, 'sub'), opts, problems);
    }
  }
  if (!Value.Check(CameraSchema, camera) || !main || (camera.streams.sub && !sub)) return undefined;
  const continuousDays = camera.retention?.continuousDays;
  return {
    id: camera.id,
    name: camera.name ?? camera.id,
    enabled: camera.enabled,
    streams: sub ? { main, sub } : { main },
    ...(continuousDays !== undefined ? { retention: { continuousDays } } : {}),
  };
}

/**
 * Validates one camera with the rules of the config file, e.g. a `POST /api/cameras` body.
 * Paths in problems start with pathPrefix ('' gives `streams.main.url`). Relative file: URLs
 * need baseDir. No environment substitution: that is for the file only.
 */
export function validateCamera(input: unknown, pathPrefix = '', opts: NormaliseOptions = {}): CameraValidation {
  const raw = dropEmptyValues(input);
  const defaulted: unknown = Value.Default(CameraSchema, Value.Clone(raw));
  const problems = schemaProblems(CameraSchema, defaulted, pathPrefix, opts);
  const camera = normaliseCamera(defaulted, raw, pathPrefix, opts, problems);
  if (problems.length > 0 || !camera) return { ok: false, problems };
  return { ok: true, camera: deepFreeze(camera) };
}

function parseListen(listen: string): { host: string; port: number } | undefined {
  const match = new RegExp(LISTEN_PATTERN).exec(listen);
  if (!match?.[1]) return undefined;
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  if (port > 65535) return undefined;
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * The whole configuration from a parsed (and env-substituted) file: every problem found, and
 * the normalised config when there are none.
 */
export function normaliseConfig(
  input: unknown,
  opts: NormaliseOptions & { baseDir: string },
): { config?: VigilConfig; problems: ConfigProblem[] } {
  const raw = dropEmptyValues(input ?? {});
  const defaulted: unknown = Value.Default(VigilConfigSchema, Value.Clone(raw));
  const problems = schemaProblems(VigilConfigSchema, defaulted, '', opts);
  if (!isRecord(defaulted)) return { problems };

  let server: ServerConfig | undefined;
  if (Value.Check(ServerSchema, defaulted['server'])) {
    const { listen } = defaulted['server'];
    const parsed = parseListen(listen);
    if (parsed) server = { listen, ...parsed };
    else problems.push({ path: 'server.listen', message: `port in '${listen}' must be from 0 to 65535` });
  }

  let storage: StorageConfig | undefined;
  if (Value.Check(StorageSchema, defaulted['storage'])) {
    const s = defaulted['storage'];
    const maxBytes = s.maxBytes === undefined ? undefined : parseSize(s.maxBytes);
    const minFreeBytes = parseSize(s.minFreeBytes);
    if (maxBytes === null) problems.push({ path: 'storage.maxBytes', message: 'is too large' });
    else if (maxBytes === 0) {
      problems.push({ path: 'storage.maxBytes', message: 'must be more than 0: leave it out for no budget' });
    }
    if (minFreeBytes === null) problems.push({ path: 'storage.minFreeBytes', message: 'is too large' });
    if (maxBytes !== null && maxBytes !== 0 && minFreeBytes !== null) {
      storage = {
        path: resolve(opts.baseDir, expandHome(s.path)),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
        minFreeBytes,
      };
    }
  }

  let ingest: IngestConfig | undefined;
  if (Value.Check(IngestSchema, defaulted['ingest'])) {
    const i = defaulted['ingest'];
    if (i.retryMaxMs < i.retryInitialMs) {
      problems.push({
        path: 'ingest.retryMaxMs',
        message: `must be at least retryInitialMs (${i.retryInitialMs}), got ${i.retryMaxMs}`,
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
        retryInitialMs: i.retryInitialMs,
        retryMaxMs: i.retryMaxMs,
        stallTimeoutMs: i.stallTimeoutMs,
      };
    }
  }

  const cameras: CameraConfig[] = [];
  const rawCameras = isRecord(raw) && Array.isArray(raw['cameras']) ? raw['cameras'] : [];
  const defaultedCameras = defaulted['cameras'];
  if (Array.isArray(defaultedCameras)) {
    const firstPathOfId = new Map<string, string>();
    defaultedCameras.forEach((item: unknown, index) => {
      const path = joinPath('cameras', index);
      const camera = normaliseCamera(item, rawCameras[index], path, opts, problems);
      if (camera) cameras.push(camera);
      const id = isRecord(item) ? item['id'] : undefined;
      if (typeof id !== 'string') return;
      const first = firstPathOfId.get(id);
      if (first !== undefined) {
        problems.push({ path: joinPath(path, 'id'), message: `duplicate camera id '${id}': ${first} has it already` });
      } else firstPathOfId.set(id, joinPath(path, 'id'));
    });
  }

  const recording = defaulted['recording'];
  const retention = defaulted['retention'];
  if (
    problems.length > 0 ||
    !server ||
    !storage ||
    !ingest ||
    !Value.Check(RecordingSchema, recording) ||
    !Value.Check(RetentionSchema, retention)
  ) {
    return { problems };
  }
  const config: VigilConfig = {
    server,
    storage,
    recording: { segmentDurationMs: recording.segmentDurationMs },
    retention: { continuousDays: retention.continuousDays, checkIntervalMs: retention.checkIntervalMs },
    ingest,
    cameras,
  };
  return { config: deepFreeze(config), problems };
}

/** The days of continuous recording kept for a camera: its override, else the global setting. */
export function retentionDaysFor(config: VigilConfig, camera: CameraConfig): number {
  return camera.retention?.continuousDays ?? config.retention.continuousDays;
}

/** The camera as API responses may show it: passwords replaced by ***, URLs without credentials. */
export function redactCamera(camera: CameraConfig): CameraConfig {
  const redact = (s: StreamConfig): StreamConfig => (s.password === undefined ? s : { ...s, password: '***' });
  const { main, sub } = camera.streams;
  return { ...camera, streams: sub ? { main: redact(main), sub: redact(sub) } : { main: redact(main) } };
}
