import type { Selectable } from 'kysely';
import type { Db } from '../storage/db.js';
import type { PrivacyLiftTable } from '../storage/schema.js';

/** A lift as stored: one user sees through one camera's liftable masks until expiresAtMs. */
export interface LiftRecord {
  id: number;
  cameraId: string;
  userId: number;
  userName: string;
  reason: string;
  startedAtMs: number;
  expiresAtMs: number;
  /** When it ended, early or by expiry; null while it has not been closed. */
  endedAtMs: number | null;
  /** Who ended it early; null when it expired or has not ended. */
  endedBy: string | null;
}

export type NewLift = Omit<LiftRecord, 'id' | 'endedAtMs' | 'endedBy'>;

function fromRow(row: Selectable<PrivacyLiftTable>): LiftRecord {
  return {
    id: row.id,
    cameraId: row.camera_id,
    userId: row.user_id,
    userName: row.user_name,
    reason: row.reason,
    startedAtMs: row.started_at_ms,
    expiresAtMs: row.expires_at_ms,
    endedAtMs: row.ended_at_ms,
    endedBy: row.ended_by,
  };
}

/** The privacy_lifts table (migration 0008). Rows are kept: they record who looked, and why. */
export class LiftStore {
  constructor(private readonly db: Db) {}

  async insert(lift: NewLift): Promise<LiftRecord> {
    const row = await this.db
      .insertInto('privacy_lifts')
      .values({
        camera_id: lift.cameraId,
        user_id: lift.userId,
        user_name: lift.userName,
        reason: lift.reason,
        started_at_ms: lift.startedAtMs,
        expires_at_ms: lift.expiresAtMs,
        ended_at_ms: null,
        ended_by: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return fromRow(row);
  }

  /** Lifts not closed yet, expired or not (the service closes the expired ones). */
  async open(): Promise<LiftRecord[]> {
    const rows = await this.db
      .selectFrom('privacy_lifts')
      .selectAll()
      .where('ended_at_ms', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map(fromRow);
  }

  /** Closes a lift; false when it was closed already. */
  async close(id: number, endedAtMs: number, endedBy: string | null): Promise<boolean> {
    const result = await this.db
      .updateTable('privacy_lifts')
      .set({ ended_at_ms: endedAtMs, ended_by: endedBy })
      .where('id', '=', id)
      .where('ended_at_ms', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
