import { readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { AnalyticsService } from '../analytics/pipeline/analytics-service.js';
import { startAnalytics } from '../analytics/start.js';
import { startApi } from '../api/start.js';
import { startAuth, type AuthServices } from '../auth/service.js';
import type { CameraManager } from '../camera/camera-manager.js';
import { startCameras } from '../camera/start.js';
import { startCameraAdmin } from '../camera-admin/start.js';
import {
  detectConfigFor,
  parseListen,
  privacyConfigFor,
  sceneConfigFor,
  sceneIdsOf,
  type LoadedConfig,
  type VigilConfig,
} from '../config/index.js';
import { NetworkList } from '../config/url.js';
import { VigilError } from '../errors/catalogue.js';
import { startEvents, type EventServices } from '../events/index.js';
import { CameraHealthMonitor } from '../events/camera-health.js';
import { ApprovalService } from '../approvals/approval-service.js';
import { EvidenceService } from '../evidence/evidence-service.js';
import { ExportService } from '../export/service.js';
import { ffmpegWarning, locateFfmpeg, type FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import { VigilMetrics } from '../metrics/vigil-metrics.js';
import { startNotify, type NotifyServices } from '../notify/index.js';
import { LiftStore } from '../privacy/lift-store.js';
import { maskStill } from '../privacy/mask-overlay.js';
import { MaskService } from '../privacy/mask-service.js';
import { CameraMotionPeriods } from '../onvif/motion-periods.js';
import { OnvifService } from '../onvif/onvif-service.js';
import type { MaskPolicy } from '../privacy/mask-policy.js';
import { MaskedRecording, MaskedVideo, maskTransform } from '../privacy/masked-video/index.js';
import { PlaybackService } from '../recording/playback.js';
import { RuleService, type AlertDelivery } from '../rules/rule-service.js';
import type { SegmentFiles } from '../recording/segment-files.js';
import type { RetentionRunner } from '../storage/retention.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import { startRetention, startStorage } from '../storage/start.js';
import { SystemStatus } from '../system/system-status.js';
import { MonotonicWallClock, type Clock } from '../time/clock.js';
import { registerUnredactedExport } from '../export/unredacted-approval.js';
import { redactionTransform } from '../privacy/redaction/index.js';
import type { CameraEventKind } from '../contract/onvif.js';

const AUDIT_RETENTION_DAYS = 365;
/** The kinds of a camera's own events the timeline marks (motion is shaded as periods instead). */
const TIMELINE_CAMERA_EVENTS: ReadonlySet<CameraEventKind> = new Set([
  'tamper',
  'line-crossing',
  'digital-input',
]);

export interface VigilOptions {
  log?: Logger;
  clock?: Clock;
  /** Overrides server.listen (the CLI's --listen); port 0 picks a free port. */
  listen?: string;
  /** How recorders write segment files (tests inject a slow disk); default node:fs. */
  segmentFiles?: SegmentFiles;
  /**
   * Who may not see under which privacy masks in video (privacy/mask-policy.ts). Default: the
   * cameras' configured masks and lifts (MaskService); tests of the video paths pass fixed ones.
   */
  maskPolicy?: MaskPolicy;
  /** How long a masked live transcoder outlives its last viewer (tests shorten it). */
  maskedIdleStopMs?: number;
  /** Webhook and Web Push delivery of alerts; absent: those rule actions are logged as unavailable. */
  alertDelivery?: AlertDelivery;
  /** The first webhook retry's wait (tests shorten it; default 15 s). */
  webhookRetryBaseMs?: number;
  /** TLS settings towards Web Push services (tests trust their own local service). */
  pushAgent?: Agent;
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
  /** Privacy masks and lifts: what each caller gets blacked out. */
  masks: MaskService;
  /** Video with privacy masks: its live transcoders are watched by tests and benchmarks. */
  maskedVideo: MaskedVideo;
  /** Four-eyes approval: modules register their sensitive actions here. */
  approvals: ApprovalService;
  evidence: EvidenceService;
  /** Rules and their alerts; scene facts on events.bus ('scene') feed them. */
  rules: RuleService;
  /**
   * Alert delivery. The rules engine's `delivery` is this object: notify.webhook(id, alert) and
   * notify.push(alert) (AlertDelivery in src/notify/index.ts).
   */
  notify: NotifyServices;
  /** Analytics: tests wait on its scene facts (sceneSettled). */
  analytics: AnalyticsService;
  close(): Promise<void>;
}

export function vigilVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The address to listen on: the --listen override, checked by the config's own rule, else the config's. */
function listenAddress(override: string | undefined, config: VigilConfig): { host: string; port: number } {
  if (override === undefined) return { host: config.server.host, port: config.server.port };
  const parsed = parseListen(override);
  if (!parsed)
    throw new VigilError('CONFIG_INVALID', `--listen '${override}' is not HOST:PORT (e.g. 127.0.0.1:8080)`);
  return parsed;
}

/** The ffmpeg Vigil records and decodes with (ingest.ffmpegPath, the system's, or the bundled one). */
async function findFfmpeg(path: string | undefined, log: Logger): Promise<FfmpegBinary> {
  const ffmpeg = await locateFfmpeg(path);
  log.info(
    { path: ffmpeg.path, origin: ffmpeg.origin, version: ffmpeg.version },
    `using ffmpeg ${ffmpeg.version} (${ffmpeg.origin})`,
  );
  const advice = ffmpegWarning(ffmpeg);
  if (advice) log.warn({ path: ffmpeg.path }, advice);
  return ffmpeg;
}

/**
 * What has started, stopped newest first: by close(), or at once when start-up fails halfway
 * (a half-started Vigil must not keep cameras, an MQTT client or the storage lock).
 */
class Stoppers {
  private readonly stops: Array<() => Promise<void> | void> = [];

  constructor(private readonly log: Logger) {}

  add<M extends { stop(): Promise<void> | void }>(module: M): M {
    this.stops.push(() => module.stop());
    return module;
  }

  async stopAll(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        this.log.error({ err }, 'error while stopping');
      }
    }
  }
}

/**
 * Starts Vigil, one module after the other, each on the ones before it: storage (locked and
 * repaired), auth, the camera runtime, retention, events, analytics, the cameras themselves, and
 * the API. Modules that follow cameras register on the camera runtime before any camera starts.
 */
export async function startVigil(loaded: LoadedConfig, opts: VigilOptions = {}): Promise<RunningVigil> {
  const { config } = loaded;
  const log = opts.log ?? pino({ level: process.env.VIGIL_LOG_LEVEL ?? 'info' });
  const clock = opts.clock ?? new MonotonicWallClock();
  const version = vigilVersion();
  const listen = listenAddress(opts.listen, config);
  const modules = new Stoppers(log);
  try {
    const storage = modules.add(await startStorage(config.storage, { clock, log }));
    const ffmpeg = await findFfmpeg(config.ingest.ffmpegPath, log);
    const auth = await startAuth({
      db: storage.db,
      storageRoot: storage.root,
      clock,
      log,
      auditRetentionDays: AUDIT_RETENTION_DAYS,
    });
    modules.add({ stop: () => auth.close() });
    const cameras = modules.add(
      startCameras(config, {
        index: storage.index,
        storageRoot: storage.root,
        ffmpeg,
        clock,
        log,
        ...(opts.segmentFiles ? { segmentFiles: opts.segmentFiles } : {}),
      }),
    ).manager;
    const retention = modules.add(
      await startRetention(
        storage,
        { ...config, cameraContinuousDays: (id) => cameras.config(id)?.retention?.continuousDays },
        { clock, log },
      ),
    ).runner;
    cameras.onDiskFull(() => void retention.runNow());
    const masks = modules.add(
      await MaskService.start({
        cameraConfig: (id) => cameras.config(id),
        lifts: new LiftStore(storage.db),
        record: auth.record,
        clock,
        log: log.child({ component: 'privacy' }),
        exportsNeedApproval: config.approvals.require.includes('export.unredacted'),
      }),
    );
    cameras.onCameraChanged((id) => masks.cameraChanged(id));
    const events = await startEvents({
      db: storage.db,
      index: storage.index,
      storageRoot: storage.root,
      clock,
      log,
      eventsDays: config.retention.eventsDays,
      checkIntervalMs: config.retention.checkIntervalMs,
      cameraSettings: (id) => {
        const camera = cameras.config(id);
        return camera ? detectConfigFor(camera) : undefined;
      },
      mqttCameras: () =>
        cameras
          .list()
          .map((c) => ({ id: c.config.id, name: c.config.name, labels: detectConfigFor(c.config).labels })),
      ...(config.mqtt ? { mqtt: config.mqtt } : {}),
      // Nobody has a lift over MQTT: every mask applies.
      maskSnapshot: (cameraId, jpeg) => maskStill(jpeg, masks.allMasks(cameraId)),
      version,
    });
    modules.add({ stop: () => events.close() });
    cameras.onConnectivity((change) => events.bus.cameraStatus({ ...change, timeMs: change.atMs }));
    const health = new CameraHealthMonitor({ bus: events.bus });
    health.start();
    cameras.onCameraChanged((id) => health.forget(id));
    modules.add({ stop: async () => health.stop() });
    // Storage holding only a camera's evidence stops that camera's recording (retention decides).
    cameras.onRecordingStop(({ atMs, ...change }) =>
      events.bus.publish('recording', { ...change, timeMs: atMs }),
    );
    retention.onEvidenceOnlyChange((ids) => cameras.setEvidenceOnly(ids));
    cameras.setEvidenceOnly(new Set(retention.status().evidenceOnlyCameras));
    const approvals = new ApprovalService({
      db: storage.db,
      clock,
      log: log.child({ component: 'approvals' }),
      config: config.approvals,
      record: auth.record,
      getUser: (id) => auth.store.getUser(id),
    });
    approvals.start();
    modules.add({ stop: async () => approvals.stop() });
    masks.registerApprovals(approvals);
    const evidence = new EvidenceService({
      db: storage.db,
      index: storage.index,
      storageRoot: storage.root,
      events: events.store,
      deleteEvent: (id) => events.manager.deleteEvent(id),
      clock,
      log: log.child({ component: 'evidence' }),
      record: auth.record,
      approvals,
    });
    // Before the rules that use it; pending webhook deliveries resume here.
    const notify = modules.add(
      await startNotify({
        db: storage.db,
        storageRoot: storage.root,
        config: config.notify,
        site: config.site.name,
        version,
        clock,
        log,
        getUser: (id) => auth.store.getUser(id),
        ...(opts.webhookRetryBaseMs !== undefined ? { webhookRetryBaseMs: opts.webhookRetryBaseMs } : {}),
        ...(opts.pushAgent ? { pushAgent: opts.pushAgent } : {}),
      }),
    );
    const sceneOfCamera = (id: string) => {
      const camera = cameras.config(id);
      return camera ? sceneConfigFor(camera) : undefined;
    };
    const rules = modules.add(
      new RuleService({
        db: storage.db,
        bus: events.bus,
        events: events.store,
        index: storage.index,
        storageRoot: storage.root,
        clock,
        log: log.child({ component: 'rules' }),
        timeZone: config.site.timeZone,
        alertsDays: config.retention.eventsDays,
        configRules: config.rules,
        cameraIds: () => new Set(cameras.list().map((c) => c.config.id)),
        sceneOf: (id) => {
          const camera = cameras.config(id);
          return camera ? sceneIdsOf(camera) : undefined;
        },
        sceneNames: {
          zone: (cameraId, zoneId) => sceneOfCamera(cameraId)?.zones.find((z) => z.id === zoneId)?.name,
          line: (cameraId, lineId) => sceneOfCamera(cameraId)?.lines.find((l) => l.id === lineId)?.name,
        },
        mqtt: events.mqtt,
        // Everyone who gets an alert's picture sees every mask, as over MQTT.
        cameraSnapshot: async (cameraId) =>
          maskStill(
            await cameras.stream(cameraId, 'main').gop.snapshot(ffmpeg.path),
            masks.allMasks(cameraId),
          ),
        record: auth.record,
        delivery: opts.alertDelivery ?? notify,
      }),
    );
    await rules.start();
    const analytics = modules.add(
      startAnalytics({
        ffmpeg,
        events: events.manager,
        motion: storage.motion,
        cameras,
        log,
        detector: config.analytics.detector,
        onTamper: (cameraId, change) => health.tamper(cameraId, change),
        publishScene: (fact) => events.bus.publish('scene', fact),
        counts: storage.sceneCounts,
      }),
    ).service;
    const maskPolicy = opts.maskPolicy ?? masks;
    // Registered before any camera starts: a camera with privacy.maskAtRecording records masked from its first segment.
    const maskedRecording = modules.add(new MaskedRecording({ policy: maskPolicy, ffmpeg, log, clock }));
    cameras.use(maskedRecording);
    const cameraAdmin = await startCameraAdmin({
      fileCameras: config.cameras,
      cameras,
      db: storage.db,
      secrets: auth.secrets,
      index: storage.index,
      record: auth.record,
      ffmpeg,
      clock,
      log,
    });
    events.syncCameras();
    // The cameras' own events: motion counts as motion, the rest is stored; everything goes on the bus.
    const cameraMotion = new CameraMotionPeriods();
    const onvif = modules.add(
      new OnvifService({
        cameraConfig: (id) => cameras.config(id),
        cameraIds: () => cameras.list().map((c) => c.config.id),
        cameraNetworks: () => cameras.cameraNetworks,
        record: auth.record,
        recordMerged: auth.recordMerged,
        onCameraEvent: (event) => {
          if (event.kind === 'motion') events.manager.motion(event.cameraId, event.active, event.timeMs);
          // The camera's motion periods shade the timeline like Vigil's own.
          const period = cameraMotion.observe(event);
          if (period) {
            storage.motion.add(event.cameraId, period).catch((err: unknown) => {
              log.error({ err, camera: event.cameraId }, 'storing a camera motion period failed');
            });
          }
          // Motion is kept as periods; tamper, crossings and inputs as marks on the timeline. The
          // states a camera reports as a subscription begins are not events, nor is its
          // housekeeping (clock synchronised, operating time: kind other).
          if (TIMELINE_CAMERA_EVENTS.has(event.kind) && !event.initial) {
            storage.cameraEvents.add(event).catch((err: unknown) => {
              log.error({ err, camera: event.cameraId }, 'storing a camera event failed');
            });
          }
          events.bus.publish('camera-event', event);
        },
        log: log.child({ component: 'onvif' }),
        nowMs: () => clock.nowMs(),
      }),
    );
    onvif.syncEvents();
    cameras.onCameraChanged(() => onvif.syncEvents());
    const playback = new PlaybackService({
      index: storage.index,
      storageRoot: storage.root,
      liveSegment: (cameraId, stream) => cameras.liveSegment(cameraId, stream),
    });
    const maskedVideo = new MaskedVideo({
      policy: maskPolicy,
      ffmpeg,
      playback,
      recording: maskedRecording,
      log,
      clock,
      ...(opts.maskedIdleStopMs !== undefined ? { idleStopMs: opts.maskedIdleStopMs } : {}),
    });
    modules.add(maskedVideo);
    const metrics = new VigilMetrics({
      version,
      storageRoot: storage.root,
      clock,
      index: storage.index,
      retention,
      cameras,
      analytics,
      bus: events.bus,
      maskedTranscoders: () => maskedVideo.transcoders(),
    });
    modules.add(metrics);
    const exports = new ExportService({
      db: storage.db,
      playback,
      storageRoot: storage.root,
      key: auth.signingKey,
      clock,
      log,
      vigilVersion: version,
      minFreeBytes: config.storage.minFreeBytes,
      keepForMs: config.retention.exportsDays * 86_400_000,
      checkIntervalMs: config.retention.checkIntervalMs,
      record: auth.record,
      transformsFor: (principal, cameraId, _stream, { liftableMasksShown }) => {
        const polygons = liftableMasksShown
          ? masks.permanentMasks(cameraId)
          : masks.exportMasksFor(principal, cameraId);
        return polygons.length === 0 ? [] : [maskTransform(polygons, ffmpeg)];
      },
    });
    await exports.start();
    modules.add({ stop: () => exports.stop() });
    registerUnredactedExport(approvals, {
      exports,
      cameraName: (id) => {
        const camera = cameras.config(id);
        return camera ? (camera.name ?? camera.id) : undefined;
      },
      hasLiftableMasks: (id) => {
        const camera = cameras.config(id);
        return camera !== undefined && privacyConfigFor(camera).masks.some((m) => m.kind === 'liftable');
      },
      faceRedaction: () => redactionTransform({ mode: 'faces' }, ffmpeg),
    });
    const api = modules.add(
      await startApi(
        {
          version,
          clock,
          log,
          auth,
          cameraAdmin,
          cameras,
          system: new SystemStatus({
            version,
            startedAtMs: clock.nowMs(),
            clock,
            ffmpeg,
            storageRoot: storage.root,
            cameras,
            retention,
            index: storage.index,
            site: config.site,
            retentionConfig: config.retention,
            maskedTranscoders: () => maskedVideo.transcoders(),
          }),
          playback,
          maskedVideo,
          exports,
          events,
          approvals,
          evidence,
          rules,
          notify,
          analytics,
          motion: storage.motion,
          cameraEvents: storage.cameraEvents,
          sceneCounts: storage.sceneCounts,
          timeZone: config.site.timeZone,
          masks,
          onvif,
          ffmpegPath: ffmpeg.path,
          ffmpeg,
          metrics,
          webrtcStunServer: config.server.webrtcStunServer ?? null,
          metricsAllowFrom: new NetworkList(config.server.metricsAllowFrom, 'server.metricsAllowFrom'),
        },
        {
          listen,
          tls: config.server.tls,
          allowedHosts: config.server.allowedHosts ?? [],
          storageRoot: storage.root,
          onModeTightened: storage.onModeTightened,
        },
      ),
    );
    let closing: Promise<void> | null = null;
    return {
      url: api.url,
      server: api.server,
      cameras,
      index: storage.index,
      retention,
      events,
      auth,
      masks,
      maskedVideo,
      approvals,
      evidence,
      rules,
      notify,
      analytics,
      close: () => {
        closing ??= modules.stopAll();
        return closing;
      },
    };
  } catch (err) {
    await modules.stopAll();
    throw err;
  }
}
