import { join } from 'node:path';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/index.js';
import { VigilError } from '../errors/catalogue.js';
import type { Clock } from '../time/clock.js';
import { openDatabase, type Db } from './db.js';
import { describeModeChange, ensurePrivateDir, type OnModeTightened } from './file-modes.js';
import { acquireStorageLock } from './lock.js';
import { CameraEventIndex } from './camera-event-index.js';
import { MotionIndex } from './motion-index.js';
import { pruneTimelineMarks } from './timeline-marks.js';
import { SceneCountStore } from './scene-counts.js';
import { recoverStorage } from './recovery.js';
import { RetentionRunner } from './retention.js';
import { SegmentIndex } from './segment-index.js';

const DAY_MS = 86_400_000;

export interface StorageModule {
  /** storage.path */
  root: string;
  db: Db;
  index: SegmentIndex;
  motion: MotionIndex;
  cameraEvents: CameraEventIndex;
  sceneCounts: SceneCountStore;
  /** Logs a file or folder whose permissions were looser than Vigil's and were tightened. */
  onModeTightened: OnModeTightened;
  stop(): Promise<void>;
}

/** Creates storage.path if missing, private to Vigil's user (0700, tightened if looser). */
export function ensureStorageFolder(root: string, onModeTightened: OnModeTightened): void {
  try {
    ensurePrivateDir(root, onModeTightened);
  } catch (err) {
    throw new VigilError(
      'STORAGE_UNAVAILABLE',
      `cannot create storage.path ${root}: ${(err as Error).message}`,
    );
  }
}

/**
 * Opens the storage folder: private (0700, tightened if looser), locked against a second Vigil,
 * its database migrated, and what a crash left (open segments, stray files) repaired.
 */
export async function startStorage(
  settings: VigilConfig['storage'],
  deps: { clock: Clock; log: Logger },
): Promise<StorageModule> {
  const { log } = deps;
  const root = settings.path;
  const onModeTightened: OnModeTightened = (change) =>
    log.warn({ path: change.path }, describeModeChange(change));
  ensureStorageFolder(root, onModeTightened);
  const releaseLock = acquireStorageLock(root);
  let db: Db;
  try {
    db = await openDatabase(join(root, 'index.sqlite'), { onModeTightened });
  } catch (err) {
    releaseLock();
    throw err;
  }
  const stop = async () => {
    try {
      await db.destroy();
    } finally {
      releaseLock();
    }
  };
  try {
    const index = new SegmentIndex(db);
    const recovered = await recoverStorage(index, root, deps.clock.nowMs(), log);
    log.info(recovered, 'storage recovered');
    return {
      root,
      db,
      index,
      motion: new MotionIndex(db),
      cameraEvents: new CameraEventIndex(db),
      sceneCounts: new SceneCountStore(db),
      onModeTightened,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface RetentionModule {
  runner: RetentionRunner;
  stop(): Promise<void>;
}

/**
 * Starts retention: one pass now, then on a timer (and at once when a recorder finds the disk
 * full). How long a camera's recordings are kept is asked per camera at every pass, so cameras
 * added or changed at run time follow.
 */
export async function startRetention(
  storage: Pick<StorageModule, 'root' | 'index' | 'motion' | 'cameraEvents'>,
  settings: {
    storage: VigilConfig['storage'];
    retention: VigilConfig['retention'];
    /** The camera's own retention.continuousDays, undefined to use the default. */
    cameraContinuousDays(cameraId: string): number | undefined;
  },
  deps: { clock: Clock; log: Logger },
): Promise<RetentionModule> {
  const runner = new RetentionRunner(
    storage.index,
    {
      storageRoot: storage.root,
      maxBytes: settings.storage.maxBytes ?? null,
      minFreeBytes: settings.storage.minFreeBytes,
      checkIntervalMs: settings.retention.checkIntervalMs,
      maxAgeMs: (cameraId) =>
        (settings.cameraContinuousDays(cameraId) ?? settings.retention.continuousDays) * DAY_MS,
    },
    deps.clock,
    deps.log.child({ component: 'retention' }),
  );
  runner.onPass(async () => {
    const pruned = await pruneTimelineMarks(storage.index, storage.motion, storage.cameraEvents);
    if (pruned.motionPeriodCount + pruned.cameraEventCount > 0)
      deps.log.info(pruned, 'retention: timeline marks older than the oldest recordings deleted');
  });
  await runner.runNow();
  runner.start();
  return { runner, stop: () => runner.stop() };
}
