import { Counter, Histogram, type Registry } from 'prom-client';
import type { AnalyticsService } from '../analytics/pipeline/analytics-service.js';
import type { EventBus } from '../events/bus.js';
import { collectedCounter, collectedGauge } from './collected.js';

/** One inference over a few crops takes ~0.2 s per crop on one core; slow machines take seconds. */
const DETECTOR_BUCKETS_S = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2.5, 5, 10];

export interface AnalyticsMetricsSources {
  analytics: Pick<AnalyticsService, 'onInference' | 'queueDepth' | 'counters'>;
  bus: Pick<EventBus, 'on'>;
}

/**
 * Analytics and events: detector latency (observed as each call ends: a histogram cannot be
 * read back later), the detector's queue, frames analysed and skipped per camera, and events
 * opened per camera and label (COCO labels: a bounded set). Returns the function that stops
 * listening.
 */
export function registerAnalyticsMetrics(registry: Registry, sources: AnalyticsMetricsSources): () => void {
  const { analytics } = sources;
  const latency = new Histogram({
    name: 'vigil_detector_latency_seconds',
    help: "Time of one object detector call over a camera's crops (the detector is shared, one call at a time).",
    labelNames: ['camera'],
    buckets: DETECTOR_BUCKETS_S,
    registers: [registry],
  });
  collectedGauge({
    registry,
    name: 'vigil_analytics_queue_depth',
    help: 'Detection jobs waiting for the shared detector (at most one per camera).',
    labelNames: [],
    read: () => [{ labels: {}, value: analytics.queueDepth() }],
  });
  collectedCounter({
    registry,
    name: 'vigil_analytics_frames_analysed_total',
    help: 'Decoded frames that analytics looked at (motion, then objects where something moved).',
    labelNames: ['camera'],
    read: () =>
      analytics.counters().map((c) => ({ labels: { camera: c.cameraId }, value: c.framesAnalysed })),
  });
  collectedCounter({
    registry,
    name: 'vigil_analytics_frames_skipped_total',
    help:
      'Frames analytics passed over: not_recorded (not on the recording timeline, not analysed), ' +
      "detector_busy (motion only: the camera's previous detection was still running).",
    labelNames: ['camera', 'reason'],
    read: () =>
      analytics.counters().flatMap((c) => [
        { labels: { camera: c.cameraId, reason: 'not_recorded' }, value: c.skipped.notRecorded },
        { labels: { camera: c.cameraId, reason: 'detector_busy' }, value: c.skipped.detectorBusy },
      ]),
  });
  collectedCounter({
    registry,
    name: 'vigil_analytics_dropped_fragments_total',
    help: 'Fragments the analytics decoder dropped up to the next keyframe because it fell behind.',
    labelNames: ['camera'],
    read: () =>
      analytics
        .counters()
        .map((c) => ({ labels: { camera: c.cameraId }, value: c.skipped.decoderBehindFragments })),
  });
  const events = new Counter({
    name: 'vigil_events_total',
    help: 'Events opened (an object of a watched label appeared), by camera and label.',
    labelNames: ['camera', 'label'],
    registers: [registry],
  });
  const stopLatency = analytics.onInference((sample) =>
    latency.observe({ camera: sample.cameraId }, sample.durationMs / 1000),
  );
  const stopEvents = sources.bus.on('event', (change) => {
    if (change.type === 'new') events.inc({ camera: change.after.cameraId, label: change.after.label });
  });
  return () => {
    stopLatency();
    stopEvents();
  };
}
