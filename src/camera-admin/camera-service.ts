import type { Logger } from 'pino';
import type { CameraManager, CameraSource } from '../camera/camera-manager.js';
import type { StreamView } from '../contract/cameras.js';
import { auditTarget, type AuditAction, type AuditInput, type AuditRequester } from '../audit/entry.js';
import { redactCamera, validateCamera, type CameraConfig, type StreamConfig } from '../config/index.js';
import { formatOrigin, sameOrigin, urlOrigin, type CameraNetworks } from '../config/url.js';
import { VigilError } from '../errors/catalogue.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import { probeStream } from '../camera/probe.js';
import { checkCameraNetwork } from '../ingest/sources.js';
import type { Clock } from '../time/clock.js';
import type { CameraStore } from './camera-store.js';

/** Long enough for a camera on a slow link to answer and send a keyframe; short enough to wait for. */
const PROBE_TIMEOUT_MS = 15_000;
/** What stopping a probe's ffmpeg may take beyond the limit (SIGTERM, then SIGKILL 3 s later). */
const PROBE_STOP_MS = 3_000;
/**
 * Probes running at once. Each is an ffmpeg connecting to an address the caller chose: a few are
 * enough for a camera form, and the cap keeps the probe from being a port scanner or a way to
 * tie up the recorder's CPU.
 */
const MAX_CONCURRENT_PROBES = 2;

type StreamName = 'main' | 'sub';

/** A camera as the service shows it: its definition, where it comes from, its streams now. */
export interface CameraDetails {
  config: CameraConfig;
  source: CameraSource;
  streams: StreamView[];
}

/** The recording state of a camera's streams and how far back its recordings reach. */
export interface CameraStatus {
  id: string;
  streams: Record<string, StreamView['status'] & { recording: StreamView['recording'] }>;
  oldestRecordingMs: number | null;
}

/**
 * A stream to test, as the camera form sends it; `camera` + `stream` name a camera being edited,
 * whose stored password is used when the form sends none.
 */
export interface ProbeRequest {
  url: string;
  user?: string;
  password?: string;
  transport?: 'tcp' | 'udp';
  /** What an http(s) URL serves; default detected (see src/ingest/http-source.ts). */
  kind?: 'auto' | 'mjpeg' | 'snapshot' | 'hls';
  snapshotIntervalMs?: number;
  camera?: string;
  stream?: StreamName;
}

export type ProbeResult = Awaited<ReturnType<typeof probeStream>>;

export interface CameraServiceDeps {
  cameras: CameraManager;
  store: CameraStore;
  /** When each camera's recordings start. */
  oldestRecordingMs(cameraId: string): Promise<number | null>;
  /** Appends to the audit log (without failing the change, which has happened). */
  record(input: AuditInput): void;
  ffmpeg: FfmpegBinary;
  clock: Clock;
  log: Logger;
}

/**
 * Cameras as the API manages them: list and look at them, test a connection, and add, change or
 * remove cameras stored in the database. A change is checked completely before anything changes
 * (the definition by the caller's schema, then existence, the camera's origin, stored passwords
 * and security.cameraNetworks), then applied in one order, whatever the verb: the store (so it
 * survives a restart), the running camera, and the audit entry once both succeeded.
 */
export class CameraService {
  /** Start times of the probes running now (at most MAX_CONCURRENT_PROBES). */
  private readonly probesRunning: number[] = [];

  constructor(private readonly deps: CameraServiceDeps) {}

  list(): CameraDetails[] {
    return this.deps.cameras.list().map((camera) => this.details(camera.config.id));
  }

  /** The camera, or CAMERA_NOT_FOUND. */
  get(id: string): CameraDetails {
    return this.details(id);
  }

  async status(id: string): Promise<CameraStatus> {
    const camera = this.deps.cameras.get(id);
    return {
      id: camera.config.id,
      streams: Object.fromEntries(
        this.deps.cameras.viewStreams(camera).map((s) => [s.name, { ...s.status, recording: s.recording }]),
      ),
      oldestRecordingMs: await this.deps.oldestRecordingMs(camera.config.id),
    };
  }

  /**
   * "Test connection": pulls the stream once, as recording would, and says what it found or
   * exactly what is wrong. At most MAX_CONCURRENT_PROBES at once (PROBE_BUSY beyond), each
   * PROBE_TIMEOUT_MS at most.
   */
  async probe(request: ProbeRequest): Promise<ProbeResult> {
    const nowMs = this.deps.clock.nowMs();
    if (this.probesRunning.length >= MAX_CONCURRENT_PROBES) {
      const endsAtMs = Math.min(...this.probesRunning) + PROBE_TIMEOUT_MS + PROBE_STOP_MS;
      throw new VigilError(
        'PROBE_BUSY',
        `${MAX_CONCURRENT_PROBES} connection tests are running already; retry when one has finished`,
        { retryAfterMs: Math.max(1000, endsAtMs - nowMs) },
      );
    }
    this.probesRunning.push(nowMs);
    try {
      return await this.runProbe(request);
    } finally {
      this.probesRunning.splice(this.probesRunning.indexOf(nowMs), 1);
    }
  }

  /** Adds a camera (validated by the caller against the config's camera schema). */
  async create(camera: CameraConfig, by: AuditRequester): Promise<CameraDetails> {
    const { cameras, store } = this.deps;
    if (cameras.has(camera.id)) {
      throw new VigilError(
        'CAMERA_EXISTS',
        `a camera '${camera.id}' exists already; use PUT /api/cameras/${camera.id}`,
      );
    }
    await assertCameraNetworks(camera, cameras.cameraNetworks);
    await store.put(camera, this.deps.clock.nowMs());
    try {
      await cameras.add(camera, 'api');
    } catch (err) {
      // Not running, so not kept: stop what did start, and a restart must not bring up a camera
      // the caller was refused.
      if (cameras.has(camera.id)) {
        await cameras.remove(camera.id).catch((stopErr: unknown) => {
          this.deps.log.error(
            { err: stopErr, camera: camera.id },
            'cannot stop a camera that failed to start',
          );
        });
      }
      await store.delete(camera.id);
      throw err;
    }
    this.audit(by, 'camera.create', camera);
    return this.details(camera.id);
  }

  /**
   * Replaces an API-managed camera. A form never sees passwords, so a stream named in
   * `keepStoredPassword` (sent without a `password` key) keeps the stored one, if its URL still
   * goes to the same scheme, host and port (CAMERA_PASSWORD_REQUIRED otherwise).
   */
  async update(
    id: string,
    sent: CameraConfig,
    keepStoredPassword: readonly StreamName[],
    by: AuditRequester,
  ): Promise<CameraDetails> {
    const { cameras, store } = this.deps;
    const current = cameras.get(id);
    assertApiManaged(current.config.id, current.source);
    if (sent.id !== id) {
      throw new VigilError('REQUEST_INVALID', `body.id '${sent.id}' differs from the id in the path '${id}'`);
    }
    const camera = keepPasswords(sent, current.config, keepStoredPassword);
    await assertCameraNetworks(camera, cameras.cameraNetworks);
    await store.put(camera, this.deps.clock.nowMs());
    await cameras.replace(camera, 'api');
    this.audit(by, 'camera.update', camera);
    return this.details(camera.id);
  }

  /** Removes an API-managed camera; its recordings stay until retention removes them. */
  async delete(id: string, by: AuditRequester): Promise<void> {
    const { cameras, store } = this.deps;
    const current = cameras.get(id);
    assertApiManaged(current.config.id, current.source);
    await store.delete(id);
    await cameras.remove(id);
    this.audit(by, 'camera.delete', id);
  }

  private details(id: string): CameraDetails {
    const camera = this.deps.cameras.get(id);
    return { config: camera.config, source: camera.source, streams: this.deps.cameras.viewStreams(camera) };
  }

  private async runProbe(request: ProbeRequest): Promise<ProbeResult> {
    const { camera: cameraId, stream: streamName, ...streamBody } = request;
    const { cameras } = this.deps;
    let spec = probeSpec(streamBody);
    const stored =
      cameraId !== undefined && cameras.has(cameraId)
        ? cameras.get(cameraId).config.streams[streamName ?? 'main']
        : undefined;
    // A password in the body (or in the URL) wins; "password": "" means none.
    if (!('password' in streamBody) && spec.password === undefined && stored?.password !== undefined) {
      const password = storedPasswordFor(
        spec.url,
        stored,
        'body.password',
        `camera '${cameraId ?? ''}' stream '${streamName ?? 'main'}'`,
      );
      spec = probeSpec({ ...streamBody, password });
    }
    await assertStreamNetwork(spec.url, cameras.cameraNetworks, 'body.url');
    return probeStream(spec, {
      ffmpeg: this.deps.ffmpeg,
      clock: this.deps.clock,
      log: this.deps.log.child({ component: 'probe' }),
      timeoutMs: PROBE_TIMEOUT_MS,
      cameraNetworks: cameras.cameraNetworks,
    });
  }

  /** Camera changes are configuration changes: audited with the camera as stored, minus passwords. */
  private audit(by: AuditRequester, action: AuditAction, camera: CameraConfig | string): void {
    const id = typeof camera === 'string' ? camera : camera.id;
    this.deps.record({
      actor: by.actor,
      action,
      target: auditTarget.camera(id),
      ...(typeof camera === 'string' ? {} : { details: { camera: redactCamera(camera) } }),
      ip: by.ip,
    });
  }
}

/** A probed stream, checked by the rules of a camera's main stream sent through the API. */
function probeSpec(stream: object): StreamConfig {
  const result = validateCamera({ id: 'probe', streams: { main: stream } }, 'body', { origin: 'api' });
  if (!result.ok) {
    throw new VigilError(
      'REQUEST_INVALID',
      result.problems.map((p) => `${p.path.replace('body.streams.main', 'body')}: ${p.message}`).join('; '),
    );
  }
  return result.camera.streams.main;
}

function assertApiManaged(id: string, source: CameraSource): void {
  if (source === 'config') {
    throw new VigilError(
      'CAMERA_FROM_CONFIG',
      `camera '${id}' is defined in the configuration file; change it there and restart`,
    );
  }
}

/**
 * The stored password of a stream, for a request that sends none, only when the new URL goes to
 * the same scheme, host and port as the stored one: otherwise anyone who may edit cameras could
 * send the camera's password to a machine of their choosing by changing the host.
 */
function storedPasswordFor(
  url: string,
  stored: Pick<StreamConfig, 'url' | 'password'>,
  field: string,
  what: string,
): string {
  if (stored.password === undefined || sameOrigin(url, stored.url)) return stored.password ?? '';
  const storedOrigin = urlOrigin(stored.url);
  throw new VigilError(
    'CAMERA_PASSWORD_REQUIRED',
    `${field}: the stored password of ${what} is only sent to ` +
      `${storedOrigin ? formatOrigin(storedOrigin) : 'its own address'}; this URL names another scheme, ` +
      'host or port, so send the password with it',
    { field },
  );
}

/** The streams named keep their stored password (when they have none of their own). */
function keepPasswords(
  camera: CameraConfig,
  current: CameraConfig,
  keepStoredPassword: readonly StreamName[],
): CameraConfig {
  const streams = { ...camera.streams };
  for (const name of keepStoredPassword) {
    const stream = streams[name];
    const stored = current.streams[name];
    if (!stream || stream.password !== undefined || stored?.password === undefined) continue;
    const password = storedPasswordFor(
      stream.url,
      stored,
      `body.streams.${name}.password`,
      `camera '${current.id}' stream '${name}'`,
    );
    streams[name] = { ...stream, password };
  }
  return { ...camera, streams: streams as CameraConfig['streams'], ...keptOnvifPassword(camera, current) };
}

/** The ONVIF password, like a stream's: kept when the form sends none and the address stays on its host. */
function keptOnvifPassword(camera: CameraConfig, current: CameraConfig): Pick<CameraConfig, 'onvif'> {
  const sent = camera.onvif;
  const stored = current.onvif;
  if (sent === undefined) return {};
  if (sent.password !== undefined || stored?.password === undefined) return { onvif: sent };
  const password = storedPasswordFor(sent.url, stored, 'body.onvif.password', `camera '${current.id}' ONVIF`);
  return { onvif: { ...sent, password } };
}

/** security.cameraNetworks for a camera sent through the API: each stream's host must resolve inside. */
async function assertCameraNetworks(
  camera: CameraConfig,
  networks: CameraNetworks | undefined,
): Promise<void> {
  if (!networks) return;
  for (const [name, stream] of Object.entries(camera.streams)) {
    if (!stream) continue;
    await assertStreamNetwork(stream.url, networks, `body.streams.${name}.url`);
  }
}

async function assertStreamNetwork(
  url: string,
  networks: CameraNetworks | undefined,
  field: string,
): Promise<void> {
  const refused = await checkCameraNetwork(url, networks);
  if (refused) {
    throw new VigilError('CAMERA_NETWORK_REFUSED', `${field}: ${refused.message}`, {
      field,
      cameraNetworks: networks?.cidrs ?? [],
    });
  }
}
