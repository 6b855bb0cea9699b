import type { Logger } from 'pino';
import { tamperConfigFor, type DetectConfig } from '../../config/index.js';
import type { EventManager, TrackObservation } from '../../events/event-manager.js';
import type { IngestFragment } from '../../ingest/fragment.js';
import {
  cropResizeRgb,
  DEFAULT_DETECTION_FILTERS,
  detectionsToFrame,
  filterDetections,
  selectRegions,
  type Detection,
  type DetectionFilters,
} from '../detector/index.js';
import { scaleBox, standsInAny, type FrameSize, type NormalisedPolygon } from '../geometry.js';
import { LumaDownscaler, lumaFromRgb, MotionDetector } from '../motion/index.js';
import { TamperDetector, type TamperChange } from '../tamper/index.js';
import type { SceneWatcher } from '../scene/scene-watcher.js';
import { Tracker, type Track } from '../tracking/index.js';
import type { DetectorScheduler } from './detector-scheduler.js';
import { FrameDecoder, type DecodedFrame } from './frame-decoder.js';
import { MotionActivity, type MotionPeriod } from './motion-activity.js';

/** Motion runs on a plane half the analysis size: 320 px wide for a 640 px frame, < 1 ms a frame. */
const MOTION_SCALE = 2;
/**
 * Tamper detection looks at a frame at most this often: a state must last seconds to count, and
 * two frames a second cost a fifth of five (about 3 ms a frame at 320×240).
 */
export const TAMPER_INTERVAL_MS = 500;
/** A stationary object (a parked car) is looked at again this often; in between it is assumed still there. */
export const STATIONARY_RECHECK_MS = 10_000;

export interface CameraAnalyticsDeps {
  cameraId: string;
  detect: DetectConfig;
  /**
   * Permanent privacy masks: detections standing inside are dropped (motion there is ignored
   * already, the caller merges these into detect.masks).
   */
  privacyMasks?: readonly NormalisedPolygon[];
  scheduler: DetectorScheduler;
  events: EventManager;
  decoder: (onFrame: (frame: DecodedFrame) => void) => FrameDecoder;
  /** Where a frame of an ingest connection lies on the recording timeline (null: not recording it). */
  wallTimeOf: (connectionId: number, ticks: number) => number | null;
  onMotionPeriod: (period: MotionPeriod) => void;
  /** Zones, tripwires and object masks; absent: none. */
  scene?: SceneWatcher;
  /** The confirmed tracks after each detection, boxes normalised (drawn over live view). */
  onTracks?: (timeMs: number, tracks: readonly TrackObservation[], frame: FrameSize) => void;
  /** The view was found covered, defocused or moved, or as usual again (detect.tamper). */
  onTamper?: (change: TamperChange) => void;
  log: Logger;
}

export interface CameraAnalyticsStats {
  framesDecoded: number;
  framesAnalysed: number;
  detectionRuns: number;
  lastFrameTimeMs: number | null;
  motionActive: boolean;
}

/** Frames analytics passed over, by why (for /metrics; the API's stats keep their shape). */
export interface SkippedFrames {
  /** Decoded frames not on the recording timeline (not recorded yet, or of an old connection): not analysed. */
  notRecorded: number;
  /** Frames that got motion only: this camera's previous detection was still waiting or running. */
  detectorBusy: number;
  /** Fragments the decoder dropped up to the next keyframe because it fell behind. */
  decoderBehindFragments: number;
}

/** A confirmed track as the event manager sees it. */
export function observationOf(track: Track): TrackObservation {
  return {
    trackId: track.id,
    label: track.label,
    score: track.score,
    box: track.box,
    confirmed: true,
    stationary: track.stationary,
    predicted: track.detection === null,
    velocity: track.velocity,
  };
}

function filtersFrom(detect: DetectConfig): DetectionFilters {
  return {
    labels: detect.labels,
    defaults: { ...DEFAULT_DETECTION_FILTERS.defaults, minScore: detect.minScore },
    perLabel: { ...DEFAULT_DETECTION_FILTERS.perLabel, ...detect.filters },
  };
}

/**
 * One camera's analytics: frames from the detect stream → motion → regions where something moves
 * or a track is expected → detector (shared) → tracker → event manager. The detector only sees
 * crops around activity, so CPU follows activity, not the number of cameras; frames that arrive
 * while this camera's detection is still running get motion only.
 */
export class CameraAnalytics {
  private readonly decoder: FrameDecoder;
  private readonly tracker: Tracker;
  private readonly filters: DetectionFilters;
  private readonly activity: MotionActivity;
  private motion: {
    detector: MotionDetector;
    downscaler: LumaDownscaler;
    luma: Uint8Array;
    small: Uint8Array;
  } | null = null;
  /** Kept when the stream goes away: the reference view is still the camera's usual one. */
  private tamper: TamperDetector | null = null;
  private lastTamperMs = Number.NEGATIVE_INFINITY;
  private readonly lastCheckedMs = new Map<number, number>();
  private stopped = false;
  private readonly skippedFrames = { notRecorded: 0, detectorBusy: 0 };
  readonly stats: CameraAnalyticsStats = {
    framesDecoded: 0,
    framesAnalysed: 0,
    detectionRuns: 0,
    lastFrameTimeMs: null,
    motionActive: false,
  };

  constructor(private readonly deps: CameraAnalyticsDeps) {
    this.decoder = deps.decoder((frame) => this.onFrame(frame));
    // People vanish behind a sign or each other for a second or two; on vtest, 28 of 29 id
    // switches with 1 s of coasting were such gaps (bench/analytics quality), so tracks coast 2 s.
    this.tracker = new Tracker({
      frameIntervalMs: 1000 / deps.detect.fps,
      maxMisses: Math.round(2 * deps.detect.fps),
    });
    this.filters = filtersFrom(deps.detect);
    this.activity = new MotionActivity({
      onChange: (active, timeMs) => {
        this.stats.motionActive = active;
        deps.events.motion(deps.cameraId, active, timeMs);
      },
      onPeriod: deps.onMotionPeriod,
    });
  }

  push(fragment: IngestFragment): void {
    this.decoder.push(fragment);
  }

  skipped(): SkippedFrames {
    return { ...this.skippedFrames, decoderBehindFragments: this.decoder.droppedFragmentCount };
  }

  /** The stream went away: tracks end now rather than when the event manager finds them stale. */
  streamLost(timeMs: number): void {
    this.deps.scene?.flush(timeMs);
    for (const track of this.tracker.flush())
      this.deps.events.trackEnded(this.deps.cameraId, track.id, timeMs);
    this.activity.stop();
    this.motion = null;
  }

  stop(): void {
    this.stopped = true;
    this.decoder.stop();
    const timeMs = this.stats.lastFrameTimeMs;
    if (timeMs !== null) this.streamLost(timeMs);
  }

  private onFrame(frame: DecodedFrame): void {
    if (this.stopped) return;
    this.stats.framesDecoded += 1;
    const timeMs = this.deps.wallTimeOf(frame.connectionId, frame.ptsTicks);
    if (timeMs === null) {
      this.skippedFrames.notRecorded += 1;
      return;
    }
    this.stats.lastFrameTimeMs = timeMs;
    try {
      this.analyse(frame, timeMs);
    } catch (err) {
      this.deps.log.error({ err, camera: this.deps.cameraId }, 'analytics failed on a frame; continuing');
    }
  }

  private analyse(frame: DecodedFrame, timeMs: number): void {
    const size: FrameSize = { width: frame.width, height: frame.height };
    const motion = this.motionFor(size);
    lumaFromRgb(frame.rgb, frame.width, frame.height, motion.luma);
    motion.downscaler.downscale(
      { data: motion.luma, width: frame.width, height: frame.height },
      motion.small,
    );
    this.watchTamper(motion.small, motion.detector.width, motion.detector.height, timeMs);
    const result = motion.detector.detect(motion.small);
    const plane = { width: motion.detector.width, height: motion.detector.height };
    const motionBoxes = result.recalibrated ? [] : result.boxes.map((b) => scaleBox(b, plane, size));
    this.activity.update(motionBoxes.length > 0, timeMs, result.score);
    this.stats.framesAnalysed += 1;
    if (this.deps.scheduler.busy(this.deps.cameraId)) {
      this.skippedFrames.detectorBusy += 1;
      return;
    }
    const predicted = this.tracker.predict(timeMs);
    const recheck = predicted.filter(({ track }) => this.needsLook(track, timeMs));
    const regions = selectRegions(
      motionBoxes,
      recheck.map((p) => p.box),
      size,
      { inputSize: this.deps.scheduler.detector.inputSize },
    );
    if (regions.length === 0 && predicted.length === 0) return;
    const inputSize = this.deps.scheduler.detector.inputSize;
    const image = { data: frame.rgb, width: frame.width, height: frame.height };
    const crops = regions.map((r) => cropResizeRgb(image, r.box, inputSize, inputSize));
    const examined = new Set(recheck.map((p) => p.track.id));
    const assumed = predicted.filter((p) => !examined.has(p.track.id));
    void this.detectAndTrack(crops, regions, size, frame, timeMs, assumed);
  }

  /** Moving tracks are looked at every frame; stationary ones every STATIONARY_RECHECK_MS. */
  private needsLook(track: Track, timeMs: number): boolean {
    if (!track.stationary) return true;
    const last = this.lastCheckedMs.get(track.id) ?? 0;
    if (timeMs - last < STATIONARY_RECHECK_MS) return false;
    this.lastCheckedMs.set(track.id, timeMs);
    return true;
  }

  private async detectAndTrack(
    crops: ReturnType<typeof cropResizeRgb>[],
    regions: ReturnType<typeof selectRegions>,
    size: FrameSize,
    frame: DecodedFrame,
    timeMs: number,
    assumed: ReturnType<Tracker['predict']>,
  ): Promise<void> {
    let detections: Detection[] = [];
    if (crops.length > 0) {
      const perRegion = await this.deps.scheduler.detect(this.deps.cameraId, crops);
      if (perRegion === null || this.stopped) return;
      this.stats.detectionRuns += 1;
      const inputSize = this.deps.scheduler.detector.inputSize;
      const privacyMasks = this.deps.privacyMasks ?? [];
      detections = filterDetections(
        detectionsToFrame(perRegion, regions, inputSize, size),
        size,
        this.filters,
      ).filter((d) => !standsInAny(d.box, size, privacyMasks) && !this.deps.scene?.masked(d.box, size));
    }
    // Stationary tracks not looked at this time are carried as they were, so a parked car is
    // not ended for want of a look.
    for (const { track, box } of assumed) detections.push({ box, label: track.label, score: track.score });
    const update = this.tracker.update(detections, timeMs);
    for (const track of update.ended) this.lastCheckedMs.delete(track.id);
    const observations = update.active.map(observationOf);
    this.deps.events.observe(
      this.deps.cameraId,
      { data: frame.rgb, width: frame.width, height: frame.height, timeMs },
      observations,
    );
    // Before trackEnded: the facts of an ending track still find its event.
    this.deps.scene?.frame(timeMs, observations, size);
    for (const track of update.ended) this.deps.events.trackEnded(this.deps.cameraId, track.id, timeMs);
    this.deps.onTracks?.(timeMs, observations, size);
  }

  /** Tamper detection reads the motion plane (half the analysis size): no decoding of its own. */
  private watchTamper(plane: Uint8Array, width: number, height: number, timeMs: number): void {
    const settings = tamperConfigFor(this.deps.detect);
    if (!settings.enabled || !this.deps.onTamper || timeMs - this.lastTamperMs < TAMPER_INTERVAL_MS) return;
    this.lastTamperMs = timeMs;
    if (this.tamper?.width !== width || this.tamper.height !== height) {
      this.tamper = new TamperDetector(width, height, settings);
    }
    const change = this.tamper.update(plane, timeMs);
    if (change) this.deps.onTamper(change);
  }

  private motionFor(size: FrameSize) {
    const width = Math.floor(size.width / MOTION_SCALE);
    const height = Math.floor(size.height / MOTION_SCALE);
    if (this.motion?.detector.width !== width || this.motion.detector.height !== height) {
      this.motion = {
        detector: new MotionDetector(width, height, { masks: this.deps.detect.masks }),
        downscaler: new LumaDownscaler(size.width, size.height, width, height),
        luma: new Uint8Array(size.width * size.height),
        small: new Uint8Array(width * height),
      };
    }
    return this.motion;
  }
}
