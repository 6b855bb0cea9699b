import type { Logger } from 'pino';
import type { CameraManager } from '../camera/camera-manager.js';
import { detectConfigFor, privacyConfigFor, sceneConfigFor, type AnalyticsConfig } from '../config/index.js';
import type { SceneFact } from '../contract/scene.js';
import type { EventManager } from '../events/event-manager.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { MotionIndex } from '../storage/motion-index.js';
import type { SceneCountStore } from '../storage/scene-counts.js';
import { AnalyticsService } from './pipeline/analytics-service.js';
import type { TamperChange } from './tamper/index.js';

export interface AnalyticsModuleDeps {
  ffmpeg: FfmpegBinary;
  events: EventManager;
  motion: MotionIndex;
  cameras: Pick<CameraManager, 'use'>;
  log: Logger;
  /** Where scene facts go: the bus's `scene` channel. */
  publishScene?: (fact: SceneFact) => void;
  /** Crossings, entries and peak occupancy, per minute. */
  counts?: Pick<SceneCountStore, 'record' | 'occupancy'>;
  /** analytics.detector from the config; default: auto backend, 2 threads, the user's cache folder. */
  detector?: AnalyticsConfig['detector'];
  /** A camera's view was found covered, defocused or moved, or as usual again. */
  onTamper?: (cameraId: string, change: TamperChange) => void;
}

export interface AnalyticsModule {
  service: AnalyticsService;
  stop(): Promise<void>;
}

/**
 * Starts analytics: one shared detector, attached to every camera that has detection on as the
 * camera runtime starts it. Motion periods go to the motion index, tracks to the event manager,
 * boxes to the camera's live viewers.
 */
export function startAnalytics(deps: AnalyticsModuleDeps): AnalyticsModule {
  const { log } = deps;
  const service = new AnalyticsService({
    ffmpeg: deps.ffmpeg,
    events: deps.events,
    log,
    ...(deps.detector ? { detector: deps.detector } : {}),
    ...(deps.onTamper ? { onTamper: deps.onTamper } : {}),
    onSceneFact: (fact) => {
      deps.publishScene?.(fact);
      void deps.counts?.record(fact).catch((err: unknown) => log.error({ err }, 'cannot store a count'));
    },
    onOccupancySample: (cameraId, zoneId, counts, timeMs) =>
      void deps.counts
        ?.occupancy(cameraId, zoneId, counts, timeMs)
        .catch((err: unknown) => log.error({ err }, 'cannot store an occupancy sample')),
    onMotionPeriod: (cameraId, period) =>
      void deps.motion
        .add(cameraId, period)
        .catch((err: unknown) => log.error({ err }, 'cannot store motion')),
  });
  deps.cameras.use({
    cameraStarted: async (camera) => {
      const detect = detectConfigFor(camera.config);
      // The sub stream when there is one: less to decode, and enough pixels for people and cars.
      const analysed = camera.streams.get('sub') ?? camera.streams.get('main');
      if (!detect.enabled || !analysed) return;
      const permanent = privacyConfigFor(camera.config)
        .masks.filter((m) => m.kind === 'permanent')
        .map((m) => m.polygon);
      await service.attach(
        camera.config.id,
        detect,
        analysed,
        (message) => {
          for (const stream of camera.streams.values()) stream.live.detections(message);
        },
        permanent,
        sceneConfigFor(camera.config),
      );
    },
    cameraStopping: (cameraId) => service.detach(cameraId),
    sceneChanged: (camera) => service.setScene(camera.config.id, sceneConfigFor(camera.config)),
  });
  return { service, stop: () => service.close() };
}
