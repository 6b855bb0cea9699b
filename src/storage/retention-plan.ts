/**
 * Which segments retention deletes now. Pure: the retention loop gathers the inputs (index rows,
 * holds, disk usage) and applies the plan.
 *
 * Order: first everything past its camera's age limit, then the oldest segments of all cameras
 * until the byte budget and the free-space floor are met. A segment overlapping an active hold
 * (evidence lock, event retention) is never deleted, whatever the pressure.
 */

export interface RetentionSegment {
  id: number;
  cameraId: string;
  startTimeMs: number;
  endTimeMs: number;
  byteLength: number;
}

export interface RetentionHold {
  /** null holds every camera. */
  cameraId: string | null;
  startTimeMs: number;
  endTimeMs: number;
  /** The hold lapses at this time; null = until removed. */
  untilMs: number | null;
  /** What holds it: 'evidence', 'event'… (absent where it does not matter). */
  kind?: string;
}

export interface RetentionInput {
  nowMs: number;
  /** Closed segments; any order. */
  segments: readonly RetentionSegment[];
  holds: readonly RetentionHold[];
  maxAgeMs(cameraId: string): number;
  /** Budget for all recordings; null = no budget. */
  maxBytes: number | null;
  /** Bytes of all recordings, open segments included. */
  usedBytes: number;
  /** Free bytes on the storage file system. */
  freeBytes: number;
  minFreeBytes: number;
  /** Cameras stopped by the previous pass (evidence only): they resume only with room to spare. */
  stoppedCameras?: ReadonlySet<string>;
}

/**
 * A stopped camera records again when the budget has this fraction free and the free space is
 * twice the floor: with less, another camera's next segment brings the pressure back and the
 * camera would start and stop every few seconds.
 */
export const RESUME_BUDGET_FRACTION = 0.1;

export type DeletionReason = 'age' | 'quota' | 'free-space';

export interface RetentionPlan {
  deletions: Array<{ id: number; reason: DeletionReason }>;
  /** Bytes still needed after deleting everything allowed: > 0 means holds keep the disk full. */
  shortfallBytes: number;
  /**
   * Cameras that must stop recording: storage is under pressure (this pass deletes for the
   * budget or the floor, or cannot meet them) and every recording the camera has is held, so it
   * has nothing of its own to give back. Recording on would take space from other cameras'
   * history or, once that is gone, from evidence.
   */
  evidenceOnlyCameras: string[];
}

export function isHeld(segment: RetentionSegment, holds: readonly RetentionHold[], nowMs: number): boolean {
  return holds.some(
    (hold) =>
      (hold.untilMs === null || hold.untilMs > nowMs) &&
      (hold.cameraId === null || hold.cameraId === segment.cameraId) &&
      hold.startTimeMs < segment.endTimeMs &&
      segment.startTimeMs < hold.endTimeMs,
  );
}

export function planRetention(input: RetentionInput): RetentionPlan {
  const deletions: RetentionPlan['deletions'] = [];
  const unheld = input.segments
    .filter((s) => !isHeld(s, input.holds, input.nowMs))
    .sort((a, b) => a.startTimeMs - b.startTimeMs || a.id - b.id);
  let freedBytes = 0;
  const remaining: RetentionSegment[] = [];
  for (const segment of unheld) {
    if (segment.endTimeMs <= input.nowMs - input.maxAgeMs(segment.cameraId)) {
      deletions.push({ id: segment.id, reason: 'age' });
      freedBytes += segment.byteLength;
    } else {
      remaining.push(segment);
    }
  }
  const overBudget = () => (input.maxBytes === null ? 0 : input.usedBytes - freedBytes - input.maxBytes);
  const underFloor = () => input.minFreeBytes - (input.freeBytes + freedBytes);
  for (const segment of remaining) {
    const quota = overBudget();
    const floor = underFloor();
    if (quota <= 0 && floor <= 0) break;
    deletions.push({ id: segment.id, reason: quota > 0 ? 'quota' : 'free-space' });
    freedBytes += segment.byteLength;
  }
  const shortfallBytes = Math.max(0, overBudget(), underFloor());
  const underPressure = shortfallBytes > 0 || deletions.some((d) => d.reason !== 'age');
  const roomToResume =
    (input.maxBytes === null ||
      input.usedBytes - freedBytes <= input.maxBytes * (1 - RESUME_BUDGET_FRACTION)) &&
    input.freeBytes + freedBytes >= 2 * input.minFreeBytes;
  const onlyHeld = camerasWithOnlyHeld(input.segments, unheld);
  const stopped = input.stoppedCameras ?? new Set<string>();
  return {
    deletions,
    shortfallBytes,
    evidenceOnlyCameras: onlyHeld.filter((id) => underPressure || (stopped.has(id) && !roomToResume)),
  };
}

/** Cameras with recordings, all of them held; sorted. */
function camerasWithOnlyHeld(
  segments: readonly RetentionSegment[],
  unheld: readonly RetentionSegment[],
): string[] {
  const withUnheld = new Set(unheld.map((s) => s.cameraId));
  return [...new Set(segments.map((s) => s.cameraId))].filter((id) => !withUnheld.has(id)).sort();
}
