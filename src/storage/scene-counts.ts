import { sql } from 'kysely';
import type { CountBucketSize, SceneCounts, SceneFact } from '../contract/scene.js';
import { bucketStart } from '../time/zone-buckets.js';
import type { Db } from './db.js';

const MINUTE_MS = 60_000;
/** Every IANA zone's offset is a multiple of 15 minutes, so hours and days are unions of these blocks. */
const BLOCK_MS = 15 * MINUTE_MS;

interface Row {
  kind: 'line' | 'zone';
  target_id: string;
  label: string;
  direction: string;
  start_ms: number;
  count: number;
  max_occupancy: number;
}

/**
 * Counts of the scene analyser per camera and minute: crossings per line, direction and label;
 * entries and peak occupancy per zone and label. Read back per minute, hour or day.
 */
export class SceneCountStore {
  constructor(private readonly db: Db) {}

  /** Counts a fact: a crossing, or an entry into a zone (occupancy facts update the peak). */
  async record(fact: SceneFact): Promise<void> {
    if (fact.type === 'line-crossed')
      await this.add(fact.cameraId, 'line', fact.lineId, fact.object.label, fact.direction, fact.timeMs);
    else if (fact.type === 'zone-entered')
      await this.add(fact.cameraId, 'zone', fact.zoneId, fact.object.label, '', fact.timeMs);
    else if (fact.type === 'zone-occupancy')
      await this.occupancy(fact.cameraId, fact.zoneId, fact.counts, fact.timeMs);
  }

  /** So many objects of each label are inside the zone at `timeMs`: the minute's peak is at least that. */
  async occupancy(
    cameraId: string,
    zoneId: string,
    counts: Record<string, number>,
    timeMs: number,
  ): Promise<void> {
    for (const [label, inside] of Object.entries(counts)) {
      if (inside <= 0) continue;
      await this.db
        .insertInto('scene_counts')
        .values({ ...this.key(cameraId, 'zone', zoneId, label, '', timeMs), count: 0, max_occupancy: inside })
        .onConflict((oc) =>
          oc
            .columns(['camera_id', 'kind', 'target_id', 'label', 'direction', 'bucket_start_ms'])
            .doUpdateSet({ max_occupancy: sql`MAX(max_occupancy, excluded.max_occupancy)` }),
        )
        .execute();
    }
  }

  /**
   * Counts of minutes in [fromMs, toMs), summed per bucket; hours and days begin in `timeZone`.
   * Buckets without anything are left out.
   */
  async counts(
    cameraId: string,
    fromMs: number,
    toMs: number,
    bucket: CountBucketSize,
    timeZone: string,
  ): Promise<SceneCounts> {
    const rows = await this.rows(cameraId, fromMs, toMs, bucket === 'minute' ? MINUTE_MS : BLOCK_MS);
    const starts = new Map<number, number>();
    const startOf = (blockMs: number) => {
      let start = starts.get(blockMs);
      if (start === undefined) {
        start = bucketStart(blockMs, bucket, timeZone);
        starts.set(blockMs, start);
      }
      return start;
    };
    const lines = new Map<string, SceneCounts['lines'][number]>();
    const zones = new Map<string, SceneCounts['zones'][number]>();
    for (const row of rows) {
      const startTimeMs = startOf(row.start_ms);
      if (row.kind === 'line') {
        const key = JSON.stringify([row.target_id, row.label, row.direction]);
        let series = lines.get(key);
        if (!series) {
          series = {
            lineId: row.target_id,
            label: row.label,
            direction: row.direction === 'b-to-a' ? 'b-to-a' : 'a-to-b',
            buckets: [],
          };
          lines.set(key, series);
        }
        const last = series.buckets.at(-1);
        if (last?.startTimeMs === startTimeMs) last.count += row.count;
        else series.buckets.push({ startTimeMs, count: row.count });
      } else {
        const key = JSON.stringify([row.target_id, row.label]);
        let series = zones.get(key);
        if (!series) {
          series = { zoneId: row.target_id, label: row.label, buckets: [] };
          zones.set(key, series);
        }
        const last = series.buckets.at(-1);
        if (last?.startTimeMs === startTimeMs) {
          last.entries += row.count;
          last.maxOccupancy = Math.max(last.maxOccupancy, row.max_occupancy);
        } else series.buckets.push({ startTimeMs, entries: row.count, maxOccupancy: row.max_occupancy });
      }
    }
    return { cameraId, bucket, fromMs, toMs, lines: [...lines.values()], zones: [...zones.values()] };
  }

  /** Minute rows summed into blocks of `blockMs`, ordered by series then time. */
  private async rows(cameraId: string, fromMs: number, toMs: number, blockMs: number): Promise<Row[]> {
    // Inlined: a bound JS number may reach SQLite as a REAL, and this division must be an integer one.
    const start = sql<number>`(bucket_start_ms / ${sql.lit(blockMs)}) * ${sql.lit(blockMs)}`;
    return this.db
      .selectFrom('scene_counts')
      .select([
        'kind',
        'target_id',
        'label',
        'direction',
        start.as('start_ms'),
        sql<number>`SUM(count)`.as('count'),
        sql<number>`MAX(max_occupancy)`.as('max_occupancy'),
      ])
      .where('camera_id', '=', cameraId)
      .where('bucket_start_ms', '>=', Math.floor(fromMs / MINUTE_MS) * MINUTE_MS)
      .where('bucket_start_ms', '<', toMs)
      .groupBy(['kind', 'target_id', 'label', 'direction', start])
      .orderBy('kind')
      .orderBy('target_id')
      .orderBy('label')
      .orderBy('direction')
      .orderBy('start_ms')
      .execute();
  }

  private async add(
    cameraId: string,
    kind: 'line' | 'zone',
    targetId: string,
    label: string,
    direction: string,
    timeMs: number,
  ): Promise<void> {
    await this.db
      .insertInto('scene_counts')
      .values({ ...this.key(cameraId, kind, targetId, label, direction, timeMs), count: 1, max_occupancy: 0 })
      .onConflict((oc) =>
        oc
          .columns(['camera_id', 'kind', 'target_id', 'label', 'direction', 'bucket_start_ms'])
          .doUpdateSet({ count: sql`count + 1` }),
      )
      .execute();
  }

  private key(
    cameraId: string,
    kind: 'line' | 'zone',
    targetId: string,
    label: string,
    direction: string,
    timeMs: number,
  ) {
    return {
      camera_id: cameraId,
      kind,
      target_id: targetId,
      label,
      direction,
      bucket_start_ms: Math.floor(timeMs / MINUTE_MS) * MINUTE_MS,
    };
  }
}
