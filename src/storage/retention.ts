import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from '../time/clock.js';
import { sweepGarbage } from './recovery.js';
import { planRetention, type DeletionReason } from './retention-plan.js';
import type { SegmentIndex } from './segment-index.js';
import { SPACE_RESERVE_BYTES, SpaceReserve } from './space-reserve.js';

export interface RetentionSettings {
  storageRoot: string;
  maxBytes: number | null;
  minFreeBytes: number;
  checkIntervalMs: number;
  maxAgeMs(cameraId: string): number;
}

export interface RetentionStatus {
  lastRunAtMs: number | null;
  deletedSegmentCount: number;
  /** > 0 when holds keep the disk over budget: recording may stop for lack of space. */
  shortfallBytes: number;
  freeBytes: number | null;
  usedBytes: number | null;
  /** Cameras stopped because all they could give back is held (evidence): see planRetention. */
  evidenceOnlyCameras: string[];
}

/** Left free when the space reserve is made again, so that making it does not fill the disk. */
const RESERVE_MARGIN_BYTES = 1024 * 1024;

/** The size of the file system holding `path`, and the space on it left to Vigil (root's reserve excluded). */
export async function diskSpaceOf(path: string): Promise<{ sizeBytes: number; freeBytes: number }> {
  const fs = await statfs(path);
  return { sizeBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
}

export async function freeBytesOf(path: string): Promise<number> {
  return (await diskSpaceOf(path)).freeBytes;
}

/** Applies the retention plan continuously: on a timer and at once when a disk fills. */
export class RetentionRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly state: RetentionStatus = {
    lastRunAtMs: null,
    deletedSegmentCount: 0,
    shortfallBytes: 0,
    freeBytes: null,
    usedBytes: null,
    evidenceOnlyCameras: [],
  };
  private readonly evidenceOnlyListeners: Array<(cameraIds: ReadonlySet<string>) => void> = [];
  private readonly passListeners: Array<() => Promise<void>> = [];

  constructor(
    private readonly index: SegmentIndex,
    private readonly settings: RetentionSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Tests substitute the free space to exercise the floor without filling a disk. */
    private readonly freeBytes: (path: string) => Promise<number> = freeBytesOf,
  ) {
    this.reserve = new SpaceReserve(settings.storageRoot);
  }

  private readonly reserve: SpaceReserve;

  start(): void {
    this.timer = setInterval(() => void this.runNow(), this.settings.checkIntervalMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    return this.running ?? Promise.resolve();
  }

  status(): RetentionStatus {
    return { ...this.state, evidenceOnlyCameras: [...this.state.evidenceOnlyCameras] };
  }

  /**
   * Told after every pass whose set of evidence-only cameras differs from the last: the cameras
   * that must stop recording (the others may record again).
   */
  onEvidenceOnlyChange(listener: (cameraIds: ReadonlySet<string>) => void): void {
    this.evidenceOnlyListeners.push(listener);
  }

  /** Run after every pass: what follows the recordings (timeline marks) goes with them. */
  onPass(listener: () => Promise<void>): void {
    this.passListeners.push(listener);
  }

  /** One pass; concurrent calls share the pass under way. */
  runNow(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'retention pass failed'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const nowMs = this.clock.nowMs();
    const reserved = await this.restoreReserve();
    const [segments, holds, usedBytes, freeBytes] = await Promise.all([
      this.index.retentionCandidates(),
      this.index.holds(),
      this.index.usedBytes(),
      this.freeBytes(this.settings.storageRoot),
    ]);
    const plan = planRetention({
      nowMs,
      segments,
      holds,
      maxAgeMs: (id) => this.settings.maxAgeMs(id),
      maxBytes: this.settings.maxBytes,
      usedBytes,
      freeBytes,
      // Without its reserve, the floor includes room to make it again.
      minFreeBytes: this.settings.minFreeBytes + (reserved ? 0 : SPACE_RESERVE_BYTES),
      stoppedCameras: new Set(this.state.evidenceOnlyCameras),
    });
    // Below the floor the disk may be full to the last block: the database needs the reserve's
    // room to record the deletions.
    if (
      plan.deletions.length > 0 &&
      freeBytes < this.settings.minFreeBytes &&
      reserved &&
      (await this.reserve.release())
    ) {
      this.log.warn({ freeBytes }, 'disk nearly full: released the space reserve for the index');
    }
    const byReason = new Map<DeletionReason, number[]>();
    for (const d of plan.deletions) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.id]);
    for (const [reason, ids] of byReason) {
      await this.index.moveToGarbage(ids, `retention-${reason}`, nowMs);
      this.log.info({ reason, segmentCount: ids.length }, 'retention deleted segments');
    }
    if (plan.deletions.length > 0) await sweepGarbage(this.index, this.settings.storageRoot, this.log);
    await this.restoreReserve();
    if (plan.shortfallBytes > 0 && this.state.shortfallBytes === 0) {
      this.log.warn({ shortfallBytes: plan.shortfallBytes }, 'storage over budget and the rest is protected');
    }
    this.reportEvidenceOnly(plan.evidenceOnlyCameras);
    this.state.lastRunAtMs = nowMs;
    this.state.deletedSegmentCount += plan.deletions.length;
    this.state.shortfallBytes = plan.shortfallBytes;
    this.state.freeBytes = freeBytes;
    this.state.usedBytes = usedBytes;
    for (const listener of this.passListeners) {
      await listener().catch((err: unknown) =>
        this.log.error({ err: (err as Error).message }, 'after the retention pass'),
      );
    }
  }

  private reportEvidenceOnly(cameraIds: string[]): void {
    const before = this.state.evidenceOnlyCameras;
    this.state.evidenceOnlyCameras = cameraIds;
    if (before.join('\n') === cameraIds.join('\n')) return;
    for (const id of cameraIds.filter((c) => !before.includes(c))) {
      this.log.error(
        { camera: id, code: 'EVIDENCE_ONLY_LEFT' },
        "storage full and all of this camera's recordings are locked evidence: recording stopped",
      );
    }
    for (const id of before.filter((c) => !cameraIds.includes(c))) {
      this.log.info({ camera: id }, 'space for this camera again: recording resumes');
    }
    const set = new Set(cameraIds);
    for (const listener of this.evidenceOnlyListeners) listener(set);
  }

  /**
   * The reserve comes back as soon as there is room for it (and a little more), even below the
   * floor of free space: when something else fills the disk, the floor may never be reached
   * again, and without the reserve the next full disk would stop retention, and so recording,
   * for good. The next pass deletes recordings to make up the floor, the reserve counting as used.
   * Returns whether the reserve is in place.
   */
  private async restoreReserve(): Promise<boolean> {
    if (await this.reserve.present()) return true;
    const freeBytes = await this.freeBytes(this.settings.storageRoot);
    if (freeBytes < SPACE_RESERVE_BYTES + RESERVE_MARGIN_BYTES) return false;
    try {
      await this.reserve.ensure();
      return true;
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'could not make the space reserve; retrying at the next pass',
      );
      return false;
    }
  }
}
