import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { EvidenceLockTable } from './schema.js';

/** Retention hold kind of evidence locks; the reason names the lock: 'evidence:<id>'. */
export const EVIDENCE_HOLD_KIND = 'evidence';

export function evidenceHoldReason(lockId: number): string {
  return `evidence:${lockId}`;
}

export interface EvidenceLockRecord {
  id: number;
  cameraId: string;
  eventId: number | null;
  startTimeMs: number;
  endTimeMs: number;
  reason: string;
  expiresAtMs: number | null;
  createdBy: string;
  createdAtMs: number;
  unlockedBy: string | null;
  unlockedAtMs: number | null;
}

export type NewEvidenceLock = Omit<EvidenceLockRecord, 'id' | 'unlockedBy' | 'unlockedAtMs'>;

/** Whether a lock still protects its range at `nowMs`: not unlocked and not expired. */
export function isLockActive(lock: EvidenceLockRecord, nowMs: number): boolean {
  return lock.unlockedAtMs === null && (lock.expiresAtMs === null || lock.expiresAtMs > nowMs);
}

function fromRow(row: Selectable<EvidenceLockTable>): EvidenceLockRecord {
  return {
    id: row.id,
    cameraId: row.camera_id,
    eventId: row.event_id,
    startTimeMs: row.start_time_ms,
    endTimeMs: row.end_time_ms,
    reason: row.reason,
    expiresAtMs: row.expires_at_ms,
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    unlockedBy: row.unlocked_by,
    unlockedAtMs: row.unlocked_at_ms,
  };
}

/**
 * Evidence locks in the index database, each with the retention hold that keeps its recording.
 * The row and the hold are written in one transaction, so a crash never leaves a lock that does
 * not protect, nor a hold nobody can lift.
 */
export class EvidenceLockStore {
  constructor(private readonly db: Db) {}

  async insert(lock: NewEvidenceLock): Promise<EvidenceLockRecord> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('evidence_locks')
        .values({
          camera_id: lock.cameraId,
          event_id: lock.eventId,
          start_time_ms: lock.startTimeMs,
          end_time_ms: lock.endTimeMs,
          reason: lock.reason,
          expires_at_ms: lock.expiresAtMs,
          created_by: lock.createdBy,
          created_at_ms: lock.createdAtMs,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('retention_holds')
        .values({
          camera_id: lock.cameraId,
          start_time_ms: lock.startTimeMs,
          end_time_ms: lock.endTimeMs,
          until_ms: lock.expiresAtMs,
          kind: EVIDENCE_HOLD_KIND,
          reason: evidenceHoldReason(row.id),
          created_at_ms: lock.createdAtMs,
        })
        .execute();
      return fromRow(row);
    });
  }

  async get(id: number): Promise<EvidenceLockRecord | undefined> {
    const row = await this.db
      .selectFrom('evidence_locks')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /**
   * Locks overlapping [fromMs, toMs) (all time when absent), of these cameras (null = all),
   * oldest first; at most `limit`.
   */
  async list(query: {
    cameras: ReadonlySet<string> | null;
    cameraId?: string;
    fromMs?: number;
    toMs?: number;
    eventId?: number;
    limit: number;
  }): Promise<EvidenceLockRecord[]> {
    if (query.cameras !== null && query.cameras.size === 0) return [];
    let q = this.db.selectFrom('evidence_locks').selectAll();
    if (query.cameras !== null) q = q.where('camera_id', 'in', [...query.cameras]);
    if (query.cameraId !== undefined) q = q.where('camera_id', '=', query.cameraId);
    if (query.fromMs !== undefined) q = q.where('end_time_ms', '>', query.fromMs);
    if (query.toMs !== undefined) q = q.where('start_time_ms', '<', query.toMs);
    if (query.eventId !== undefined) q = q.where('event_id', '=', query.eventId);
    const rows = await q.orderBy('start_time_ms').orderBy('id').limit(query.limit).execute();
    return rows.map(fromRow);
  }

  /** Whether an active lock keeps this event. */
  async eventLocked(eventId: number, nowMs: number): Promise<boolean> {
    const locks = await this.list({ cameras: null, eventId, limit: 1000 });
    return locks.some((l) => isLockActive(l, nowMs));
  }

  /** Active locks of a camera overlapping [fromMs, toMs). */
  async activeIn(
    cameraId: string,
    fromMs: number,
    toMs: number,
    nowMs: number,
  ): Promise<EvidenceLockRecord[]> {
    const locks = await this.list({ cameras: null, cameraId, fromMs, toMs, limit: 10_000 });
    return locks.filter((l) => isLockActive(l, nowMs));
  }

  /** Marks the lock unlocked and removes its hold, in one transaction. False when already unlocked. */
  async unlock(id: number, by: string, nowMs: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('evidence_locks')
        .set({ unlocked_by: by, unlocked_at_ms: nowMs })
        .where('id', '=', id)
        .where('unlocked_at_ms', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await trx
        .deleteFrom('retention_holds')
        .where('kind', '=', EVIDENCE_HOLD_KIND)
        .where('reason', '=', evidenceHoldReason(id))
        .execute();
      return true;
    });
  }
}
