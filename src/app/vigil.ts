import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { AnalyticsService } from '../analytics/pipeline/analytics-service.js';
import { buildServer } from '../api/server.js';
import { startAuth, type AuthServices } from '../auth/service.js';
import { ensureSelfSignedCertificate, loadTlsFiles, type TlsMaterial } from '../auth/tls.js';
import { detectConfigFor, parseListen, type LoadedConfig } from '../config/index.js';
import { VigilError } from '../errors/catalogue.js';
import { startEvents, type EventServices } from '../events/index.js';
import { ffmpegWarning, locateFfmpeg } from '../ingest/ffmpeg-binary.js';
import { CameraNetworks } from '../config/url.js';
import { PlaybackService } from '../recording/playback.js';
import { openDatabase } from '../storage/db.js';
import { describeModeChange, ensurePrivateDir, type ModeChange } from '../storage/file-modes.js';
import { MotionIndex } from '../storage/motion-index.js';
import { acquireStorageLock } from '../storage/lock.js';
import { recoverStorage } from '../storage/recovery.js';
import { RetentionRunner } from '../storage/retention.js';
import { SegmentIndex } from '../storage/segment-index.js';
import { MonotonicWallClock, type Clock } from '../time/clock.js';
import { CameraManager } from '../camera/camera-manager.js';
import { CameraService } from '../camera-admin/camera-service.js';
import { CameraStore } from '../camera-admin/camera-store.js';
import { SystemStatus } from '../system/system-status.js';

const DAY_MS = 86_400_000;
const AUDIT_RETENTION_DAYS = 365;

/**
 * The certificate to serve HTTPS with, when server.tls asks for it: the configured files, or a
 * self-signed one kept (and renewed) in the storage folder. Its fingerprint goes to the log so
 * users can compare it with what the browser shows.
 */
async function loadTls(
  settings: LoadedConfig['config']['server']['tls'],
  storageRoot: string,
  clock: Clock,
  log: Logger,
): Promise<TlsMaterial | null> {
  if (settings === undefined) return null;
  const material =
    'certFile' in settings
      ? await loadTlsFiles(settings.certFile, settings.keyFile)
      : await ensureSelfSignedCertificate({
          dir: join(storageRoot, 'tls'),
          nowMs: clock.nowMs(),
          onModeTightened: (change) => log.warn({ path: change.path }, describeModeChange(change)),
        });
  log.info(
    { fingerprintSha256: material.fingerprintSha256, names: material.names },
    `HTTPS with ${material.selfSigned ? 'a self-signed' : 'the configured'} certificate; SHA-256 fingerprint ${material.fingerprintSha256}`,
  );
  return material;
}

/** Whether a socket address is this machine (IPv4, IPv6 or IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export interface VigilOptions {
  log?: Logger;
  clock?: Clock;
  /** Overrides server.listen (the CLI's --listen); port 0 picks a free port. */
  listen?: string;
}

export interface RunningVigil {
  url: string;
  server: FastifyInstance;
  cameras: CameraManager;
  index: SegmentIndex;
  retention: RetentionRunner;
  /** Events: the detection pipeline calls events.manager; the app feeds events.bus.cameraStatus(). */
  events: EventServices;
  /** Users, sessions, tokens and the audit log. */
  auth: AuthServices;
  close(): Promise<void>;
}

export function vigilVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The address to listen on: the --listen override, checked by the config's own rule, else the config's. */
function listenAddress(
  override: string | undefined,
  config: LoadedConfig['config'],
): { host: string; port: number } {
  if (override === undefined) return { host: config.server.host, port: config.server.port };
  const parsed = parseListen(override);
  if (!parsed)
    throw new VigilError('CONFIG_INVALID', `--listen '${override}' is not HOST:PORT (e.g. 127.0.0.1:8080)`);
  return parsed;
}

/**
 * Starts Vigil: lock the storage, repair what a crash left, then start every camera and the API.
 * Cameras from the file come first; an API-stored camera with the same id is reported and skipped.
 */
export async function startVigil(loaded: LoadedConfig, opts: VigilOptions = {}): Promise<RunningVigil> {
  const { config } = loaded;
  const log = opts.log ?? pino({ level: process.env.VIGIL_LOG_LEVEL ?? 'info' });
  const clock = opts.clock ?? new MonotonicWallClock();
  const storageRoot = config.storage.path;
  // Recordings, the database and the keys are for Vigil's user only: 0700, tightened if looser.
  const tightened = (change: ModeChange) => log.warn({ path: change.path }, describeModeChange(change));
  try {
    ensurePrivateDir(storageRoot, tightened);
  } catch (err) {
    throw new VigilError(
      'STORAGE_UNAVAILABLE',
      `cannot create storage.path ${storageRoot}: ${(err as Error).message}`,
    );
  }
  const releaseLock = acquireStorageLock(storageRoot);
  // What has started, stopped newest first: by close(), or at once when start-up fails halfway
  // (a half-started Vigil must not keep cameras, an MQTT client or the storage lock).
  const started: Array<() => Promise<void> | void> = [releaseLock];
  const stopAll = async () => {
    for (const stop of started.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ err }, 'error while stopping');
      }
    }
  };
  try {
    const ffmpeg = await locateFfmpeg(config.ingest.ffmpegPath);
    log.info(
      { path: ffmpeg.path, origin: ffmpeg.origin, version: ffmpeg.version },
      `using ffmpeg ${ffmpeg.version} (${ffmpeg.origin})`,
    );
    const ffmpegAdvice = ffmpegWarning(ffmpeg);
    if (ffmpegAdvice) log.warn({ path: ffmpeg.path }, ffmpegAdvice);
    const db = await openDatabase(join(storageRoot, 'index.sqlite'), { onModeTightened: tightened });
    started.push(() => db.destroy());
    const auth = await startAuth({ db, storageRoot, clock, log, auditRetentionDays: AUDIT_RETENTION_DAYS });
    started.push(() => auth.close());
    const index = new SegmentIndex(db);
    const recovered = await recoverStorage(index, storageRoot, clock.nowMs(), log);
    log.info(recovered, 'storage recovered');
    const retention = new RetentionRunner(
      index,
      {
        storageRoot,
        maxBytes: config.storage.maxBytes ?? null,
        minFreeBytes: config.storage.minFreeBytes,
        checkIntervalMs: config.retention.checkIntervalMs,
        maxAgeMs: (cameraId) => {
          const camera = cameras.has(cameraId) ? cameras.get(cameraId).config : undefined;
          return (camera?.retention?.continuousDays ?? config.retention.continuousDays) * DAY_MS;
        },
      },
      clock,
      log.child({ component: 'retention' }),
    );
    const events = await startEvents({
      db,
      index,
      storageRoot,
      clock,
      log,
      eventsDays: config.retention.eventsDays,
      checkIntervalMs: config.retention.checkIntervalMs,
      cameraSettings: (id) => (cameras.has(id) ? detectConfigFor(cameras.get(id).config) : undefined),
      mqttCameras: () =>
        cameras
          .list()
          .map((c) => ({ id: c.config.id, name: c.config.name, labels: detectConfigFor(c.config).labels })),
      ...(config.mqtt ? { mqtt: config.mqtt } : {}),
      version: vigilVersion(),
    });
    started.push(() => events.close());
    const motion = new MotionIndex(db);
    const analytics = new AnalyticsService({
      ffmpeg,
      events: events.manager,
      log,
      onMotionPeriod: (cameraId, period) =>
        void motion.add(cameraId, period).catch((err: unknown) => log.error({ err }, 'cannot store motion')),
    });
    started.push(() => analytics.close());
    const cameras = new CameraManager({
      index,
      storageRoot,
      ffmpeg,
      clock,
      log,
      segmentDurationMs: config.recording.segmentDurationMs,
      retryInitialMs: config.ingest.retryInitialMs,
      retryMaxMs: config.ingest.retryMaxMs,
      stallTimeoutMs: config.ingest.stallTimeoutMs,
      onDiskFull: () => void retention.runNow(),
      analytics,
      onConnectivity: (change) => events.bus.cameraStatus({ ...change, timeMs: change.atMs }),
      ...(config.security?.cameraNetworks
        ? { cameraNetworks: new CameraNetworks(config.security.cameraNetworks) }
        : {}),
    });
    started.push(() => cameras.stopAll());
    await retention.runNow();
    retention.start();
    started.push(() => retention.stop());
    const cameraStore = new CameraStore(db, auth.secrets);
    for (const camera of config.cameras) await cameras.add(camera, 'config');
    for (const camera of await cameraStore.list()) {
      if (cameras.has(camera.id)) {
        log.error(
          { camera: camera.id },
          `camera '${camera.id}' is in the config file and was also added through the API; the file's definition is used`,
        );
        continue;
      }
      await cameras.add(camera, 'api');
    }
    events.syncCameras();
    const playback = new PlaybackService({
      index,
      storageRoot,
      liveSegment: (cameraId, stream) => cameras.liveSegment(cameraId, stream),
    });
    const tls = await loadTls(config.server.tls, storageRoot, clock, log);
    const version = vigilVersion();
    const cameraAdmin = new CameraService({
      cameras,
      store: cameraStore,
      oldestRecordingMs: (cameraId) => index.oldestStartTimeMs(cameraId),
      record: auth.record,
      ffmpeg,
      clock,
      log,
    });
    const system = new SystemStatus({
      version,
      startedAtMs: clock.nowMs(),
      clock,
      ffmpeg,
      storageRoot,
      cameras,
      retention,
      index,
    });
    const server = await buildServer(
      {
        version,
        clock,
        log,
        auth,
        cameraAdmin,
        cameras,
        system,
        playback,
        events,
        analytics,
        motion,
        ffmpegPath: ffmpeg.path,
        http: {
          tls: tls !== null,
          tlsSelfSigned: tls?.selfSigned ?? false,
          isLoopback,
          hosts: {
            listenHost: listenAddress(opts.listen, config).host,
            allowedHosts: config.server.allowedHosts ?? [],
          },
          onFirstAdmin: async () => {
            adminExists = true;
            log.info(`the first administrator exists: Vigil now answers on ${host}:${port}`);
          },
        },
      },
      tls ? { https: { key: tls.key, cert: tls.cert } } : {},
    );
    started.push(() => server.close());
    const { host, port } = listenAddress(opts.listen, config);
    // No account yet: only this machine may connect (to create the first administrator); from
    // anywhere else the connection is closed at once, as if nothing listened there.
    let adminExists = (await auth.store.countUsers()) > 0;
    server.server.on('connection', (socket: Socket) => {
      if (adminExists || isLoopback(socket.remoteAddress)) return;
      // The administrator may have been made with `vigil user add` while Vigil runs: look again.
      void auth.store.countUsers().then((count) => {
        adminExists = count > 0;
        if (!adminExists) socket.destroy();
      });
    });
    await server.listen({ host, port });
    if (!adminExists) {
      log.warn(
        `no administrator yet: open Vigil on this machine (http://127.0.0.1:${port}) to create one, ` +
          'or run `vigil user add NAME --role admin --password-stdin`; until then other machines cannot connect',
      );
    }
    const address = server.server.address();
    const bound = typeof address === 'object' && address !== null ? address : null;
    const shownHost = bound?.family === 'IPv6' ? `[${bound.address}]` : (bound?.address ?? host);
    const url = `${tls ? 'https' : 'http'}://${shownHost}:${bound?.port ?? port}`;
    let closing: Promise<void> | null = null;
    return {
      url,
      server,
      cameras,
      index,
      retention,
      events,
      auth,
      close: () => {
        closing ??= stopAll();
        return closing;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
