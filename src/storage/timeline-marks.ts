import type { CameraEventIndex } from './camera-event-index.js';
import type { MotionIndex } from './motion-index.js';
import type { SegmentIndex } from './segment-index.js';

/**
 * Motion periods and a camera's own events mark the playback timeline: older than a camera's
 * oldest recording they mark nothing, so they go when retention has taken that recording. A
 * camera with no recording left keeps them (it may not record at all, or not yet again).
 */
export async function pruneTimelineMarks(
  index: Pick<SegmentIndex, 'usageByCamera'>,
  motion: Pick<MotionIndex, 'deleteBefore'>,
  cameraEvents: Pick<CameraEventIndex, 'deleteBefore'>,
): Promise<{ motionPeriodCount: number; cameraEventCount: number }> {
  let motionPeriodCount = 0;
  let cameraEventCount = 0;
  for (const [cameraId, { oldestStartTimeMs }] of await index.usageByCamera()) {
    if (oldestStartTimeMs === null) continue;
    motionPeriodCount += await motion.deleteBefore(cameraId, oldestStartTimeMs);
    cameraEventCount += await cameraEvents.deleteBefore(cameraId, oldestStartTimeMs);
  }
  return { motionPeriodCount, cameraEventCount };
}
