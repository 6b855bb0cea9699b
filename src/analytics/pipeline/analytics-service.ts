import type { Logger } from 'pino';
import { EMPTY_SCENE, type DetectConfig, type SceneConfig } from '../../config/index.js';
import type { SceneFact } from '../../contract/scene.js';
import type { EventManager } from '../../events/event-manager.js';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import type { IngestFragment } from '../../ingest/fragment.js';
import type { StreamStatus } from '../../ingest/supervisor.js';
import type { LiveDetectionsMessage } from '../../contract/live.js';
import { WorkerDetector, type CenterNetOptions, type Detector } from '../detector/index.js';
import type { TamperChange } from '../tamper/index.js';
import { boxToNormalised, type NormalisedPolygon } from '../geometry.js';
import { SceneWatcher } from '../scene/scene-watcher.js';
import { CameraAnalytics, type CameraAnalyticsStats, type SkippedFrames } from './camera-analytics.js';
import { DetectorScheduler, type InferenceSample } from './detector-scheduler.js';
import { FrameDecoder } from './frame-decoder.js';
import type { MotionPeriod } from './motion-activity.js';

export interface AnalyticsServiceDeps {
  ffmpeg: FfmpegBinary;
  events: EventManager;
  log: Logger;
  onMotionPeriod: (cameraId: string, period: MotionPeriod) => void;
  /** A camera's view was found covered, defocused or moved, or as usual again. */
  onTamper?: (cameraId: string, change: TamperChange) => void;
  /** The object detector; default: CenterNet in a worker thread, loaded when a camera first needs it. */
  createDetector?: () => Promise<Detector>;
  /** Facts about zones and tripwires (published on the bus and counted by the caller). */
  onSceneFact?: (fact: SceneFact) => void;
  /** Who is inside each zone, once a minute while someone is (for the peak occupancy counts). */
  onOccupancySample?: (
    cameraId: string,
    zoneId: string,
    counts: Record<string, number>,
    timeMs: number,
  ) => void;
  /** Options of the default detector (backend, threads, cache folder); ignored with createDetector. */
  detector?: CenterNetOptions;
}

/** What analytics hears from the stream it analyses. */
export interface AnalysedStreamSubscriber {
  fragment(fragment: IngestFragment): void;
  status(status: StreamStatus): void;
}

/**
 * The stream analytics reads, as the camera runtime (src/camera) offers it: analytics registers
 * there for fragments and state changes, after the recorder, and never listens to ingest itself.
 */
export interface AnalysedStream {
  /** Registers for the stream's fragments and state changes; returns the function that unregisters. */
  subscribe(subscriber: AnalysedStreamSubscriber): () => void;
  /** Where a media time of the current ingest session lies on the recording timeline (null: not recorded). */
  wallTimeOf(ingestSessionId: number, ticks: number): number | null;
}

/** Where the boxes of tracked objects go (the camera's live viewers). */
export type TracksListener = (message: LiveDetectionsMessage) => void;

interface Attached {
  analytics: CameraAnalytics;
  scene: SceneWatcher;
  detach: () => void;
}

export interface AnalyticsStatus extends CameraAnalyticsStats {
  detector: string | null;
  error: string | null;
}

/** A camera's analytics totals for /metrics. */
export interface AnalyticsCounters {
  cameraId: string;
  framesAnalysed: number;
  skipped: SkippedFrames;
}

/**
 * Runs analytics for the cameras that have it on, sharing one detector. A camera whose detector
 * cannot load keeps recording; its status says why analytics is off.
 */
export class AnalyticsService {
  private scheduler: Promise<DetectorScheduler> | null = null;
  private detectorName: string | null = null;
  private detectorError: string | null = null;
  private readonly attached = new Map<string, Attached>();
  /** The shared scheduler once loaded, read synchronously by queueDepth(). */
  private loaded: DetectorScheduler | null = null;
  private readonly inferenceListeners = new Set<(sample: InferenceSample) => void>();

  constructor(private readonly deps: AnalyticsServiceDeps) {}

  /** Hears every detector call (for the latency histogram); returns the function that stops it. */
  onInference(listener: (sample: InferenceSample) => void): () => void {
    this.inferenceListeners.add(listener);
    return () => this.inferenceListeners.delete(listener);
  }

  /** Detection jobs waiting for the shared detector; 0 before it is loaded. */
  queueDepth(): number {
    return this.loaded?.queueDepth ?? 0;
  }

  /** Totals of every camera analytics runs on now. */
  counters(): AnalyticsCounters[] {
    return [...this.attached].map(([cameraId, { analytics }]) => ({
      cameraId,
      framesAnalysed: analytics.stats.framesAnalysed,
      skipped: analytics.skipped(),
    }));
  }

  async attach(
    cameraId: string,
    detect: DetectConfig,
    stream: AnalysedStream,
    onTracks?: TracksListener,
    privacyMasks: readonly NormalisedPolygon[] = [],
    scene: SceneConfig = EMPTY_SCENE,
  ): Promise<void> {
    this.detach(cameraId);
    let scheduler: DetectorScheduler;
    try {
      scheduler = await this.sharedScheduler();
    } catch (err) {
      this.detectorError = `object detection unavailable: ${(err as Error).message}`;
      this.deps.log.error({ camera: cameraId, err: (err as Error).message }, this.detectorError);
      return;
    }
    const log = this.deps.log.child({ camera: cameraId, component: 'analytics' });
    const watcher = this.sceneWatcher(cameraId, scene, log);
    const analytics = new CameraAnalytics({
      cameraId,
      // What a permanent privacy mask covers is not watched: no motion there, no detections.
      detect: { ...detect, masks: [...detect.masks, ...privacyMasks] },
      privacyMasks,
      scene: watcher,
      scheduler,
      events: this.deps.events,
      decoder: (onFrame) => new FrameDecoder({ ffmpeg: this.deps.ffmpeg, fps: detect.fps, log, onFrame }),
      wallTimeOf: (connectionId, ticks) => stream.wallTimeOf(connectionId, ticks),
      onMotionPeriod: (period) => this.deps.onMotionPeriod(cameraId, period),
      ...(this.deps.onTamper
        ? { onTamper: (change: TamperChange) => this.deps.onTamper?.(cameraId, change) }
        : {}),
      ...(onTracks
        ? {
            onTracks: (timeMs, tracks, frame) =>
              onTracks({
                type: 'detections',
                timeMs,
                tracks: tracks.map((t) => ({
                  trackId: t.trackId,
                  label: t.label,
                  score: t.score,
                  box: boxToNormalised(t.box, frame),
                })),
              }),
          }
        : {}),
      log,
    });
    const unsubscribe = stream.subscribe({
      fragment: (fragment) => analytics.push(fragment),
      status: (status) => {
        if (status.state !== 'online' && analytics.stats.lastFrameTimeMs !== null) {
          analytics.streamLost(analytics.stats.lastFrameTimeMs);
        }
      },
    });
    this.attached.set(cameraId, {
      analytics,
      scene: watcher,
      detach: () => {
        unsubscribe();
        analytics.stop();
      },
    });
  }

  /** New zones, lines or object masks for a camera analytics runs on; the camera goes on as it was. */
  setScene(cameraId: string, scene: SceneConfig): void {
    const attached = this.attached.get(cameraId);
    if (!attached) return;
    attached.scene.setScene(scene, attached.analytics.stats.lastFrameTimeMs ?? 0);
  }

  /** Settles when every scene fact found so far on the camera has been handed on (tests). */
  async sceneSettled(cameraId: string): Promise<void> {
    await this.attached.get(cameraId)?.scene.settled();
  }

  detach(cameraId: string): void {
    const attached = this.attached.get(cameraId);
    if (!attached) return;
    attached.detach();
    this.attached.delete(cameraId);
    // Its events end now, not when their tracks go stale.
    this.deps.events.forgetCamera(cameraId);
  }

  status(cameraId: string): AnalyticsStatus | null {
    const attached = this.attached.get(cameraId);
    if (!attached)
      return this.detectorError ? { ...emptyStats(), detector: null, error: this.detectorError } : null;
    return { ...attached.analytics.stats, detector: this.detectorName, error: this.detectorError };
  }

  async close(): Promise<void> {
    for (const id of [...this.attached.keys()]) this.detach(id);
    const scheduler = this.scheduler;
    this.scheduler = null;
    this.loaded = null;
    if (scheduler) await (await scheduler.catch(() => null))?.close();
  }

  private sceneWatcher(cameraId: string, scene: SceneConfig, log: Logger): SceneWatcher {
    const { onSceneFact, onOccupancySample } = this.deps;
    return new SceneWatcher({
      cameraId,
      scene,
      events: this.deps.events,
      onFact: (fact) => onSceneFact?.(fact),
      ...(onOccupancySample
        ? {
            onOccupancySample: (zoneId, counts, timeMs) =>
              onOccupancySample(cameraId, zoneId, counts, timeMs),
          }
        : {}),
      onError: (err) => log.error({ err }, 'cannot report a scene fact'),
    });
  }

  private async createWorkerDetector(): Promise<Detector> {
    const detector = await WorkerDetector.create(this.deps.detector ?? {});
    if (detector.fallbackReason)
      this.deps.log.warn(
        { reason: detector.fallbackReason },
        'onnxruntime could not run the object detector: using tfjs-wasm (about four times slower)',
      );
    if (detector.modelNote) this.deps.log.info({ model: detector.modelNote }, 'object detector model (ONNX)');
    return detector;
  }

  private sharedScheduler(): Promise<DetectorScheduler> {
    this.scheduler ??= (async () => {
      const detector = await (this.deps.createDetector ?? (() => this.createWorkerDetector()))();
      this.detectorName = detector.name;
      this.deps.log.info({ detector: detector.name }, 'object detector loaded');
      this.loaded = new DetectorScheduler(detector, (sample) => {
        for (const listener of this.inferenceListeners) listener(sample);
      });
      return this.loaded;
    })();
    const scheduler = this.scheduler;
    // A failed load is retried by the next camera that needs it.
    scheduler.catch(() => {
      if (this.scheduler === scheduler) this.scheduler = null;
    });
    return scheduler;
  }
}

function emptyStats(): CameraAnalyticsStats {
  return {
    framesDecoded: 0,
    framesAnalysed: 0,
    detectionRuns: 0,
    lastFrameTimeMs: null,
    motionActive: false,
  };
}
