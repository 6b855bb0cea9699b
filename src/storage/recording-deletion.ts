import type { Logger } from 'pino';
import { sweepGarbage } from './recovery.js';
import { isHeld } from './retention-plan.js';
import { EVIDENCE_HOLD_KIND } from './evidence-locks.js';
import type { SegmentIndex } from './segment-index.js';

export interface RecordingDeletion {
  /** Segments deleted (every stream of the camera). */
  segmentCount: number;
  byteLength: number;
  /** Segments in the range kept because evidence locks them. */
  keptLockedCount: number;
}

/**
 * Deletes a camera's closed segments (every stream) overlapping [fromMs, toMs), but never one
 * that an evidence lock holds. A segment is deleted whole, so a little before `fromMs` and after
 * `toMs` may go too: for erasing, more is safer than less. The open segment stays.
 */
export async function deleteRecordings(
  index: SegmentIndex,
  storageRoot: string,
  range: { cameraId: string; fromMs: number; toMs: number },
  nowMs: number,
  log: Logger,
): Promise<RecordingDeletion> {
  const evidence = (await index.holds()).filter((h) => h.kind === EVIDENCE_HOLD_KIND);
  const segments = [];
  // Streams are 'main' and 'sub' (the config schema allows no others).
  for (const stream of ['main', 'sub']) {
    const rows = await index.inRange(range.cameraId, stream, range.fromMs, range.toMs);
    segments.push(...rows.filter((s) => s.state === 'closed'));
  }
  const deletable = segments.filter(
    (s) =>
      !isHeld(
        {
          id: s.id,
          cameraId: s.camera_id,
          startTimeMs: s.start_time_ms,
          endTimeMs: s.end_time_ms,
          byteLength: 0,
        },
        evidence,
        nowMs,
      ),
  );
  await index.moveToGarbage(
    deletable.map((s) => s.id),
    'deleted',
    nowMs,
  );
  if (deletable.length > 0) await sweepGarbage(index, storageRoot, log);
  return {
    segmentCount: deletable.length,
    byteLength: deletable.reduce((sum, s) => sum + s.byte_length, 0),
    keptLockedCount: segments.length - deletable.length,
  };
}
