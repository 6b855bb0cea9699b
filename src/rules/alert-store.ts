import { sql, type Selectable } from 'kysely';
import type { AlertKind, AlertView } from '../contract/alerts.js';
import { VigilError } from '../errors/catalogue.js';
import { decodeCursor, encodeCursor } from '../events/store.js';
import type { Db } from '../storage/db.js';
import type { AlertTable } from '../storage/schema.js';

export const DEFAULT_ALERT_LIMIT = 50;
export const MAX_ALERT_LIMIT = 500;
/** Rows per insert: three parameters each stay far below SQLite's limit on parameters. */
const REVIEW_BATCH = 500;

/** An alert as stored. */
export interface AlertRecord {
  id: number;
  ruleId: string;
  ruleName: string;
  cameraId: string;
  eventId: number | null;
  kind: AlertKind;
  summary: string;
  timeMs: number;
  /** A camera snapshot for alerts without an event, relative to storage.path. */
  snapshotPath: string | null;
  clipStartMs: number;
  clipEndMs: number;
  createdAtMs: number;
}

export type NewAlert = Omit<AlertRecord, 'id'>;

export interface AlertQuery {
  /** Whose reviewed state to read and filter on. */
  userId: number;
  cameraId?: string;
  /** Only these cameras (the caller's grants); empty: none. */
  cameraIds?: readonly string[];
  ruleId?: string;
  reviewed?: boolean;
  fromMs?: number;
  toMs?: number;
  limit?: number;
  cursor?: string;
}

type AlertRow = Selectable<AlertTable> & { reviewed: number };

function fromRow(row: Selectable<AlertTable>): AlertRecord {
  return {
    id: row.id,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    cameraId: row.camera_id,
    eventId: row.event_id,
    kind: row.kind as AlertKind,
    summary: row.summary,
    timeMs: row.time_ms,
    snapshotPath: row.snapshot_path,
    clipStartMs: row.clip_start_ms,
    clipEndMs: row.clip_end_ms,
    createdAtMs: row.created_at_ms,
  };
}

/** The API's view: the event's snapshot and clip when there is an event, else the alert's own. */
export function alertView(alert: AlertRecord, reviewed: boolean): AlertView {
  const event = alert.eventId === null ? null : `/api/events/${alert.eventId}`;
  return {
    id: alert.id,
    ruleId: alert.ruleId,
    ruleName: alert.ruleName,
    cameraId: alert.cameraId,
    eventId: alert.eventId,
    kind: alert.kind,
    summary: alert.summary,
    timeMs: alert.timeMs,
    snapshotUrl: event
      ? `${event}/snapshot.jpg`
      : alert.snapshotPath === null
        ? null
        : `/api/alerts/${alert.id}/snapshot.jpg`,
    clipUrl: event
      ? `${event}/clip.mp4`
      : `/api/cameras/${alert.cameraId}/export.mp4?from=${alert.clipStartMs}&to=${alert.clipEndMs}`,
    reviewed,
  };
}

/** Alerts and who reviewed them, in the index database. */
export class AlertStore {
  constructor(private readonly db: Db) {}

  async insert(alert: NewAlert): Promise<AlertRecord> {
    const row = await this.db
      .insertInto('alerts')
      .values({
        rule_id: alert.ruleId,
        rule_name: alert.ruleName,
        camera_id: alert.cameraId,
        event_id: alert.eventId,
        kind: alert.kind,
        summary: alert.summary,
        time_ms: alert.timeMs,
        snapshot_path: alert.snapshotPath,
        clip_start_ms: alert.clipStartMs,
        clip_end_ms: alert.clipEndMs,
        created_at_ms: alert.createdAtMs,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ...alert, id: row.id };
  }

  async setSnapshot(id: number, path: string): Promise<void> {
    await this.db.updateTable('alerts').set({ snapshot_path: path }).where('id', '=', id).execute();
  }

  async get(id: number): Promise<AlertRecord | undefined> {
    const row = await this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async require(id: number): Promise<AlertRecord> {
    const alert = await this.get(id);
    if (!alert) throw new VigilError('ALERT_NOT_FOUND', `no alert ${id}; GET /api/alerts lists them`);
    return alert;
  }

  /** Newest first by (timeMs, id), keyset-paginated so pages stay stable while alerts arrive. */
  async query(
    query: AlertQuery,
  ): Promise<{ alerts: Array<AlertRecord & { reviewed: boolean }>; nextCursor: string | null }> {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_ALERT_LIMIT), MAX_ALERT_LIMIT);
    if (query.cameraIds !== undefined && query.cameraIds.length === 0)
      return { alerts: [], nextCursor: null };
    let select = this.visible(query)
      .selectAll('alerts')
      .select(sql<number>`alert_reviews.alert_id IS NOT NULL`.as('reviewed'));
    if (query.ruleId !== undefined) select = select.where('alerts.rule_id', '=', query.ruleId);
    if (query.reviewed !== undefined) {
      select = select.where('alert_reviews.alert_id', query.reviewed ? 'is not' : 'is', null);
    }
    if (query.fromMs !== undefined) select = select.where('alerts.time_ms', '>=', query.fromMs);
    if (query.toMs !== undefined) select = select.where('alerts.time_ms', '<', query.toMs);
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      select = select.where((eb) =>
        eb.or([
          eb('alerts.time_ms', '<', after.startTimeMs),
          eb.and([eb('alerts.time_ms', '=', after.startTimeMs), eb('alerts.id', '<', after.id)]),
        ]),
      );
    }
    const rows = (await select
      .orderBy('alerts.time_ms', 'desc')
      .orderBy('alerts.id', 'desc')
      .limit(limit + 1)
      .execute()) as AlertRow[];
    const alerts = rows.slice(0, limit).map((row) => ({ ...fromRow(row), reviewed: Boolean(row.reviewed) }));
    const last = alerts.at(-1);
    return { alerts, nextCursor: rows.length > limit && last ? encodeCursor(last.timeMs, last.id) : null };
  }

  /** Alerts on the cameras the user may see that they have not reviewed. */
  async unreviewedCount(userId: number, cameraIds: readonly string[] | undefined): Promise<number> {
    if (cameraIds !== undefined && cameraIds.length === 0) return 0;
    const row = await this.visible({ userId, ...(cameraIds !== undefined ? { cameraIds } : {}) })
      .where('alert_reviews.alert_id', 'is', null)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Marks alerts reviewed for one user; alerts already reviewed stay as they were. `ids` absent:
   * every alert the query's cameras allow, up to now. Returns how many were newly marked.
   */
  async review(
    userId: number,
    nowMs: number,
    scope: { ids?: readonly number[]; cameraIds?: readonly string[]; cameraId?: string },
  ): Promise<number> {
    if (scope.ids !== undefined && scope.ids.length === 0) return 0;
    if (scope.cameraIds !== undefined && scope.cameraIds.length === 0) return 0;
    let select = this.visible({ userId, ...scope })
      .where('alert_reviews.alert_id', 'is', null)
      .select(['alerts.id']);
    if (scope.ids !== undefined) select = select.where('alerts.id', 'in', [...scope.ids]);
    const ids = (await select.execute()).map((r) => r.id);
    if (ids.length === 0) return 0;
    // The rows just read were unreviewed; a concurrent review of the same alert is ignored.
    for (let i = 0; i < ids.length; i += REVIEW_BATCH) {
      await this.db
        .insertInto('alert_reviews')
        .values(
          ids
            .slice(i, i + REVIEW_BATCH)
            .map((id) => ({ alert_id: id, user_id: userId, reviewed_at_ms: nowMs })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    return ids.length;
  }

  /**
   * Deletes alerts older than cutoffMs (their reviews go with them), at most `batch`; returns the
   * snapshot files of those deleted, for the caller to remove.
   */
  async deleteBefore(
    cutoffMs: number,
    batch = 500,
  ): Promise<{ deletedCount: number; snapshotPaths: string[] }> {
    const rows = await this.db
      .selectFrom('alerts')
      .select(['id', 'snapshot_path'])
      .where('time_ms', '<', cutoffMs)
      .orderBy('time_ms')
      .limit(batch)
      .execute();
    if (rows.length === 0) return { deletedCount: 0, snapshotPaths: [] };
    const ids = rows.map((r) => r.id);
    await this.db.deleteFrom('alert_reviews').where('alert_id', 'in', ids).execute();
    await this.db.deleteFrom('alerts').where('id', 'in', ids).execute();
    return {
      deletedCount: ids.length,
      snapshotPaths: rows.map((r) => r.snapshot_path).filter((p): p is string => p !== null),
    };
  }

  /** Alerts joined with this user's reviews, narrowed to the cameras. */
  private visible(query: Pick<AlertQuery, 'userId' | 'cameraId' | 'cameraIds'>) {
    let select = this.db
      .selectFrom('alerts')
      .leftJoin('alert_reviews', (join) =>
        join.onRef('alert_reviews.alert_id', '=', 'alerts.id').on('alert_reviews.user_id', '=', query.userId),
      );
    if (query.cameraId !== undefined) select = select.where('alerts.camera_id', '=', query.cameraId);
    if (query.cameraIds !== undefined) select = select.where('alerts.camera_id', 'in', [...query.cameraIds]);
    return select;
  }
}
