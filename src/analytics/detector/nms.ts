import { intersectionOverMin, iou } from '../geometry.js';
import type { Detection } from './types.js';

export interface NmsOptions {
  /** Two detections of one label overlapping more than this (IoU) are one object. */
  iouThreshold: number;
  /**
   * Also one object when the smaller box lies this much inside the larger (intersection over the
   * smaller area): a person cut at one crop's edge next to the whole person from another crop.
   * 1 turns it off.
   */
  containmentThreshold: number;
}

export const DEFAULT_NMS_OPTIONS: Readonly<NmsOptions> = { iouThreshold: 0.5, containmentThreshold: 0.8 };

/**
 * Greedy non-maximum suppression per label: keep the best-scoring detection, drop those of the
 * same label that overlap it, repeat. Detections of different labels never suppress each other
 * (a person on a bicycle is two objects). Result sorted by score, highest first.
 */
export function nmsPerLabel(
  detections: readonly Detection[],
  options: Partial<NmsOptions> = {},
): Detection[] {
  const { iouThreshold, containmentThreshold } = { ...DEFAULT_NMS_OPTIONS, ...options };
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const candidate of sorted) {
    const duplicate = kept.some(
      (k) =>
        k.label === candidate.label &&
        (iou(k.box, candidate.box) > iouThreshold ||
          intersectionOverMin(k.box, candidate.box) > containmentThreshold),
    );
    if (!duplicate) kept.push(candidate);
  }
  return kept;
}
