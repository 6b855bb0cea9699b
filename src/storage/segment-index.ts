import { sql, type Selectable } from 'kysely';
import type { Db } from './db.js';
import type { RetentionHold, RetentionSegment } from './retention-plan.js';
import type { SegmentTable } from './schema.js';

export type SegmentRow = Selectable<SegmentTable>;

export interface OpenSegmentInput {
  cameraId: string;
  stream: string;
  timelineId: number;
  startTimeMs: number;
  codec: string;
  width: number | null;
  height: number | null;
  timescale: number;
  startTicks: number;
  path: string;
}

export interface ClosedSegmentFacts {
  startTimeMs: number;
  endTimeMs: number;
  byteLength: number;
  frameCount: number;
  keyframeCount: number;
}

/** The recording index: every segment of every stream, and what retention must keep. */
export class SegmentIndex {
  constructor(private readonly db: Db) {}

  async insertOpen(input: OpenSegmentInput): Promise<number> {
    const row = await this.db
      .insertInto('segments')
      .values({
        camera_id: input.cameraId,
        stream: input.stream,
        state: 'open',
        timeline_id: input.timelineId,
        start_time_ms: input.startTimeMs,
        end_time_ms: input.startTimeMs,
        duration_ms: 0,
        byte_length: 0,
        frame_count: 0,
        keyframe_count: 0,
        codec: input.codec,
        width: input.width,
        height: input.height,
        timescale: input.timescale,
        start_ticks: input.startTicks,
        path: input.path,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Moves an open segment's start (its first segment's timing is still being refined). */
  async moveOpenStart(id: number, startTimeMs: number): Promise<void> {
    await this.db
      .updateTable('segments')
      .set({ start_time_ms: startTimeMs, end_time_ms: startTimeMs, duration_ms: 0 })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .execute();
  }

  /** Marks a segment closed; call only after its file is fsynced. */
  async close(id: number, facts: ClosedSegmentFacts): Promise<void> {
    await this.db
      .updateTable('segments')
      .set({
        state: 'closed',
        start_time_ms: facts.startTimeMs,
        end_time_ms: facts.endTimeMs,
        duration_ms: facts.endTimeMs - facts.startTimeMs,
        byte_length: facts.byteLength,
        frame_count: facts.frameCount,
        keyframe_count: facts.keyframeCount,
      })
      .where('id', '=', id)
      .execute();
  }

  async get(id: number): Promise<SegmentRow | undefined> {
    return this.db.selectFrom('segments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async openSegments(): Promise<SegmentRow[]> {
    return this.db.selectFrom('segments').selectAll().where('state', '=', 'open').orderBy('id').execute();
  }

  async all(): Promise<SegmentRow[]> {
    return this.db.selectFrom('segments').selectAll().orderBy('id').execute();
  }

  /** Segments of a stream overlapping [fromMs, toMs), oldest first. */
  async inRange(cameraId: string, stream: string, fromMs: number, toMs: number): Promise<SegmentRow[]> {
    return this.db
      .selectFrom('segments')
      .selectAll()
      .where('camera_id', '=', cameraId)
      .where('stream', '=', stream)
      .where('start_time_ms', '<', toMs)
      .where('end_time_ms', '>', fromMs)
      .orderBy('start_time_ms')
      .execute();
  }

  async lastEndTimeMs(cameraId: string, stream: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('segments')
      .select((eb) => eb.fn.max('end_time_ms').as('end'))
      .where('camera_id', '=', cameraId)
      .where('stream', '=', stream)
      .executeTakeFirst();
    return row?.end ?? null;
  }

  async oldestStartTimeMs(cameraId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('segments')
      .select((eb) => eb.fn.min('start_time_ms').as('start'))
      .where('camera_id', '=', cameraId)
      .executeTakeFirst();
    return row?.start ?? null;
  }

  /** Bytes and oldest start per camera, for the system page and every /metrics scrape. */
  async usageByCamera(): Promise<Map<string, { usedBytes: number; oldestStartTimeMs: number | null }>> {
    const rows = await this.db
      .selectFrom('segments')
      .select((eb) => [
        'camera_id',
        eb.fn.sum<number>('byte_length').as('bytes'),
        eb.fn.min('start_time_ms').as('start'),
      ])
      // `+camera_id` keeps SQLite from walking segments_by_stream_time for the grouping: that walk
      // reads every row out of order to sum its bytes. Reading the table in order and grouping the
      // few cameras aside is 2.7× faster (140,000 segments: 100 ms → 37 ms, the event loop blocked).
      .groupBy(sql`+camera_id`)
      .execute();
    return new Map(
      rows.map((r) => [r.camera_id, { usedBytes: Number(r.bytes ?? 0), oldestStartTimeMs: r.start ?? null }]),
    );
  }

  async usedBytes(): Promise<number> {
    const row = await this.db
      .selectFrom('segments')
      .select((eb) => eb.fn.sum<number>('byte_length').as('bytes'))
      .executeTakeFirst();
    return Number(row?.bytes ?? 0);
  }

  async retentionCandidates(): Promise<RetentionSegment[]> {
    const rows = await this.db
      .selectFrom('segments')
      .select(['id', 'camera_id', 'start_time_ms', 'end_time_ms', 'byte_length'])
      .where('state', '=', 'closed')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      cameraId: r.camera_id,
      startTimeMs: r.start_time_ms,
      endTimeMs: r.end_time_ms,
      byteLength: r.byte_length,
    }));
  }

  async holds(): Promise<RetentionHold[]> {
    const rows = await this.db.selectFrom('retention_holds').selectAll().execute();
    return rows.map((r) => ({
      cameraId: r.camera_id,
      startTimeMs: r.start_time_ms,
      endTimeMs: r.end_time_ms,
      untilMs: r.until_ms,
      kind: r.kind,
    }));
  }

  /** Protects a range from retention (evidence lock, event retention). Returns the hold id. */
  async addHold(
    hold: RetentionHold & { kind: string; reason: string; createdAtMs: number },
  ): Promise<number> {
    const row = await this.db
      .insertInto('retention_holds')
      .values({
        camera_id: hold.cameraId,
        start_time_ms: hold.startTimeMs,
        end_time_ms: hold.endTimeMs,
        until_ms: hold.untilMs,
        kind: hold.kind,
        reason: hold.reason,
        created_at_ms: hold.createdAtMs,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Moves the holds of one kind and reason (e.g. 'event', 'event:12') to a new range; returns how many. */
  async updateHolds(
    kind: string,
    reason: string,
    range: { startTimeMs: number; endTimeMs: number; untilMs: number | null },
  ): Promise<number> {
    const result = await this.db
      .updateTable('retention_holds')
      .set({ start_time_ms: range.startTimeMs, end_time_ms: range.endTimeMs, until_ms: range.untilMs })
      .where('kind', '=', kind)
      .where('reason', '=', reason)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Removes the holds of one kind and reason; returns how many. */
  async deleteHolds(kind: string, reason: string): Promise<number> {
    const result = await this.db
      .deleteFrom('retention_holds')
      .where('kind', '=', kind)
      .where('reason', '=', reason)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Removes segment rows and queues their files in one transaction, so a crash leaves either the
   * row (and the file) or a garbage entry that the next sweep unlinks: never an orphan.
   */
  async moveToGarbage(ids: readonly number[], reason: string, nowMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('segments').select('path').where('id', 'in', ids).execute();
      if (rows.length === 0) return [];
      await trx
        .insertInto('garbage')
        .values(rows.map((r) => ({ path: r.path, reason, queued_at_ms: nowMs })))
        .onConflict((oc) => oc.column('path').doNothing())
        .execute();
      await trx.deleteFrom('segments').where('id', 'in', ids).execute();
      return rows.map((r) => r.path);
    });
  }

  async garbage(): Promise<string[]> {
    const rows = await this.db.selectFrom('garbage').select('path').execute();
    return rows.map((r) => r.path);
  }

  async forgetGarbage(path: string): Promise<void> {
    await this.db.deleteFrom('garbage').where('path', '=', path).execute();
  }

  async deleteRow(id: number): Promise<void> {
    await this.db.deleteFrom('segments').where('id', '=', id).execute();
  }
}
