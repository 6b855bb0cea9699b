import { boxArea, type FrameSize } from '../geometry.js';
import type { Detection } from './types.js';

/**
 * Limits a detection must meet to be kept, named as in the config's `detect.filters`: areas are
 * fractions of the frame, aspect is width / height.
 */
export interface LabelFilter {
  minScore: number;
  minAreaFraction: number;
  maxAreaFraction: number;
  minAspect: number;
  maxAspect: number;
}

export interface DetectionFilters {
  /** Labels to keep; everything else the model reports is dropped (chairs, cups, …). */
  labels: readonly string[];
  /** Limits for every kept label… */
  defaults: LabelFilter;
  /** …overridden per label. */
  perLabel: Readonly<Record<string, Partial<LabelFilter>>>;
}

/**
 * Defaults measured on the project's footage with the CenterNet model: walking people score
 * 0.5–0.75 on full 1280×960 frames and higher in crops, while the waving tree in tree-sub.mp4
 * scores at most 0.22 (person) among these labels (see docs/design/analytics.md).
 */
export const DEFAULT_DETECTION_FILTERS: Readonly<DetectionFilters> = {
  labels: ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck', 'cat', 'dog'],
  defaults: { minScore: 0.45, minAreaFraction: 0.0002, maxAreaFraction: 0.9, minAspect: 0.05, maxAspect: 20 },
  perLabel: {
    // A standing or walking person is taller than wide; one lying down is rare on a camera and
    // a wide "person" box is nearly always a false positive (a bench, a shadow).
    person: { maxAspect: 2 },
  },
};

export function filterFor(label: string, filters: DetectionFilters): LabelFilter {
  return { ...filters.defaults, ...filters.perLabel[label] };
}

/** Keep the detections (boxes in `frame` pixels) that pass the filters. */
export function filterDetections(
  detections: readonly Detection[],
  frame: FrameSize,
  filters: DetectionFilters = DEFAULT_DETECTION_FILTERS,
): Detection[] {
  const frameArea = frame.width * frame.height;
  return detections.filter((detection) => {
    if (!filters.labels.includes(detection.label)) return false;
    const limits = filterFor(detection.label, filters);
    if (detection.score < limits.minScore) return false;
    const area = boxArea(detection.box) / frameArea;
    if (area < limits.minAreaFraction || area > limits.maxAreaFraction) return false;
    if (detection.box.height <= 0) return false;
    const aspect = detection.box.width / detection.box.height;
    return aspect >= limits.minAspect && aspect <= limits.maxAspect;
  });
}
