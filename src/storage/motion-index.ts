import type { Db } from './db.js';

export interface MotionPeriodRow {
  startTimeMs: number;
  endTimeMs: number;
  maxScore: number;
}

/** Motion periods per camera: what the timeline shades, and how busy a camera was. */
export class MotionIndex {
  constructor(private readonly db: Db) {}

  async add(cameraId: string, period: MotionPeriodRow): Promise<void> {
    await this.db
      .insertInto('motion_periods')
      .values({
        camera_id: cameraId,
        start_time_ms: period.startTimeMs,
        end_time_ms: Math.max(period.endTimeMs, period.startTimeMs),
        max_score: period.maxScore,
      })
      .execute();
  }

  /** Periods overlapping [fromMs, toMs), oldest first. */
  async inRange(cameraId: string, fromMs: number, toMs: number): Promise<MotionPeriodRow[]> {
    const rows = await this.db
      .selectFrom('motion_periods')
      .select(['start_time_ms', 'end_time_ms', 'max_score'])
      .where('camera_id', '=', cameraId)
      .where('start_time_ms', '<', toMs)
      .where('end_time_ms', '>=', fromMs)
      .orderBy('start_time_ms')
      .limit(10_000)
      .execute();
    return rows.map((r) => ({
      startTimeMs: r.start_time_ms,
      endTimeMs: r.end_time_ms,
      maxScore: r.max_score,
    }));
  }

  /** Forgets a camera's periods that ended before `beforeMs` (its oldest recording). */
  async deleteBefore(cameraId: string, beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('motion_periods')
      .where('camera_id', '=', cameraId)
      .where('end_time_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
