import { stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { scanSegmentFile, type ScannedFile } from '../media/mp4/index.js';
import type { SegmentIndex, SegmentRow } from './segment-index.js';

/** What a scan says about one segment file: the facts its closed index row should hold. */
export interface SegmentFileFacts {
  endTimeMs: number;
  byteLength: number;
  frameCount: number;
  keyframeCount: number;
}

/** Facts for a segment from its scanned file, timed from the row's anchor (start ms ↔ start ticks). */
export function factsFromScan(
  row: Pick<SegmentRow, 'start_time_ms' | 'start_ticks' | 'timescale'>,
  scanned: ScannedFile,
): SegmentFileFacts | null {
  const video = scanned.init.tracks.find((t) => t.kind === 'video');
  if (!video) return null;
  let frameCount = 0;
  let keyframeCount = 0;
  let endTicks: number | null = null;
  for (const fragment of scanned.fragments) {
    const run = fragment.tracks.find((t) => t.trackId === video.trackId);
    if (!run) continue;
    for (const sample of run.samples) {
      frameCount += 1;
      if (sample.isSync) keyframeCount += 1;
      endTicks = sample.decodeTime + sample.durationTicks;
    }
  }
  if (endTicks === null || frameCount === 0) return null;
  const durationMs = Math.max(1, Math.round(((endTicks - row.start_ticks) * 1000) / row.timescale));
  return {
    endTimeMs: row.start_time_ms + durationMs,
    byteLength: scanned.validByteLength,
    frameCount,
    keyframeCount,
  };
}

async function scanOrNull(path: string): Promise<ScannedFile | null> {
  try {
    return await scanSegmentFile(path);
  } catch {
    return null;
  }
}

export type RecoveryOutcome = 'closed' | 'truncated' | 'discarded' | 'missing';

/**
 * Finishes a segment left 'open' by a crash: cuts the torn last fragment off, then closes the
 * row with what the file really holds. A file with nothing playable is discarded with its row.
 */
export async function recoverOpenSegment(
  index: SegmentIndex,
  storageRoot: string,
  row: SegmentRow,
  nowMs: number,
): Promise<RecoveryOutcome> {
  const absolute = join(storageRoot, row.path);
  const scanned = await scanOrNull(absolute);
  const facts = scanned ? factsFromScan(row, scanned) : null;
  if (!scanned || !facts) {
    const missing = scanned === null && !(await exists(absolute));
    await index.moveToGarbage([row.id], missing ? 'missing' : 'unplayable', nowMs);
    return missing ? 'missing' : 'discarded';
  }
  if (scanned.torn) await truncate(absolute, scanned.validByteLength);
  await index.close(row.id, { startTimeMs: row.start_time_ms, ...facts });
  return scanned.torn ? 'truncated' : 'closed';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Unlinks files queued for deletion; a crash mid-way leaves them queued for the next sweep. */
export async function sweepGarbage(index: SegmentIndex, storageRoot: string, log?: Logger): Promise<number> {
  let removed = 0;
  for (const path of await index.garbage()) {
    try {
      await unlink(join(storageRoot, path));
      removed += 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        log?.warn({ path, err: (err as Error).message }, 'cannot delete segment file; will retry');
        continue;
      }
    }
    await index.forgetGarbage(path);
  }
  return removed;
}

/** Start-up recovery: finish every open segment and sweep garbage. */
export async function recoverStorage(index: SegmentIndex, storageRoot: string, nowMs: number, log: Logger) {
  const outcomes: Record<RecoveryOutcome, number> = { closed: 0, truncated: 0, discarded: 0, missing: 0 };
  for (const row of await index.openSegments()) {
    const outcome = await recoverOpenSegment(index, storageRoot, row, nowMs);
    outcomes[outcome] += 1;
    log.info(
      { camera: row.camera_id, stream: row.stream, path: row.path, outcome },
      'recovered open segment',
    );
  }
  const swept = await sweepGarbage(index, storageRoot, log);
  return { ...outcomes, swept };
}
