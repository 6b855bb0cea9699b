import type { Registry } from 'prom-client';
import type { CameraManager } from '../camera/camera-manager.js';
import { diskSpaceOf, type RetentionRunner } from '../storage/retention.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';
import { collectedCounter, collectedGauge, type Sample } from './collected.js';

export interface StorageMetricsSources {
  storageRoot: string;
  clock: Clock;
  index: Pick<SegmentIndex, 'usageByCamera' | 'get'>;
  retention: Pick<RetentionRunner, 'status'>;
  cameras: Pick<CameraManager, 'list'>;
}

interface CameraUsage {
  usedBytes: number;
  oldestStartTimeMs: number | null;
}

/** What one scrape reads from the disk and the index, once, before the gauges are collected. */
interface StorageSnapshot {
  atMs: number;
  /** Null when the file system cannot be read (the series are then left out). */
  disk: { sizeBytes: number; freeBytes: number } | null;
  cameras: ReadonlyMap<string, CameraUsage>;
}

/**
 * Bytes of recordings per camera as they are on the disk: the index's closed segments plus the
 * segments being written, whose rows say 0 bytes until they close. A segment that closes while
 * this runs is counted once: its row is looked up after the sums, so a segment closed in between
 * is in the sums and no longer open. (One lookup by id per stream: asking for every open row
 * would scan the whole table a second time.)
 */
async function usageOnDisk(sources: StorageMetricsSources): Promise<Map<string, CameraUsage>> {
  const writing = sources.cameras.list().flatMap((camera) =>
    [...camera.streams.values()].map((stream) => ({
      cameraId: camera.config.id,
      segment: stream.recorder.live(),
    })),
  );
  const usage = await sources.index.usageByCamera();
  const rows = await Promise.all(writing.map(({ segment }) => segment && sources.index.get(segment.id)));
  for (const [i, { cameraId, segment }] of writing.entries()) {
    if (segment === null || rows[i]?.state !== 'open') continue;
    const camera = usage.get(cameraId) ?? { usedBytes: 0, oldestStartTimeMs: segment.startTimeMs };
    usage.set(cameraId, { ...camera, usedBytes: camera.usedBytes + segment.byteLength });
  }
  return usage;
}

/**
 * Storage: the file system's size and free space, recordings per camera and how far back they
 * reach (the retention horizon), and what retention did. Reading them needs the disk and the
 * database, so refresh() takes one snapshot per scrape and the gauges read it.
 */
export class StorageMetrics {
  private snapshot: StorageSnapshot = { atMs: 0, disk: null, cameras: new Map() };

  constructor(
    registry: Registry,
    private readonly sources: StorageMetricsSources,
  ) {
    const single = (value: () => number | null) =>
      function* (): Iterable<Sample<never>> {
        const v = value();
        if (v !== null) yield { labels: {}, value: v };
      };
    const perCamera = (value: (usage: CameraUsage, atMs: number) => number | null) => () =>
      [...this.snapshot.cameras].flatMap(([camera, usage]): Array<Sample<'camera'>> => {
        const v = value(usage, this.snapshot.atMs);
        return v === null ? [] : [{ labels: { camera }, value: v }];
      });
    collectedGauge({
      registry,
      name: 'vigil_storage_size_bytes',
      help: 'Size of the file system that holds storage.path.',
      labelNames: [],
      read: single(() => this.snapshot.disk?.sizeBytes ?? null),
    });
    collectedGauge({
      registry,
      name: 'vigil_storage_free_bytes',
      help: 'Space left to Vigil on the file system of storage.path (retention keeps storage.minFreeBytes).',
      labelNames: [],
      read: single(() => this.snapshot.disk?.freeBytes ?? null),
    });
    collectedGauge({
      registry,
      name: 'vigil_storage_used_bytes',
      help: 'Bytes of recordings kept for the camera, the segment being written included.',
      labelNames: ['camera'],
      read: perCamera((usage) => usage.usedBytes),
    });
    collectedGauge({
      registry,
      name: 'vigil_storage_oldest_recording_age_seconds',
      help: "Age of the camera's oldest recording kept: how far back retention lets you look.",
      labelNames: ['camera'],
      read: perCamera((usage, atMs) =>
        usage.oldestStartTimeMs === null ? null : Math.max(0, (atMs - usage.oldestStartTimeMs) / 1000),
      ),
    });
    collectedGauge({
      registry,
      name: 'vigil_storage_shortfall_bytes',
      help: 'Bytes over the storage budget that retention may not delete (held by events); > 0 means recording may stop.',
      labelNames: [],
      read: single(() => sources.retention.status().shortfallBytes),
    });
    collectedCounter({
      registry,
      name: 'vigil_retention_deleted_segments_total',
      help: 'Recording segments deleted by retention (age, budget or free space) since Vigil started.',
      labelNames: [],
      read: single(() => sources.retention.status().deletedSegmentCount),
    });
  }

  /** Reads the disk and the index for the scrape about to be collected. */
  async refresh(): Promise<void> {
    const [disk, cameras] = await Promise.all([
      diskSpaceOf(this.sources.storageRoot).catch(() => null),
      usageOnDisk(this.sources),
    ]);
    this.snapshot = { atMs: this.sources.clock.nowMs(), disk, cameras };
  }
}
