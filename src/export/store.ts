import type { Selectable } from 'kysely';
import type { Db } from '../storage/db.js';
import type { ExportBundleTable, ExportShareTable } from '../storage/schema.js';

/** An export bundle as the API lists it. */
export interface ExportRecord {
  id: number;
  cameraId: string;
  stream: string;
  fromMs: number;
  toMs: number;
  userId: number | null;
  userName: string;
  reason: string;
  createdAtMs: number;
  /** Relative to storage.path. */
  path: string;
  byteLength: number;
  sha256: string;
  deletedAtMs: number | null;
}

export interface ShareRecord {
  id: number;
  exportId: number;
  recipient: string;
  createdBy: string;
  createdAtMs: number;
  expiresAtMs: number;
  revokedAtMs: number | null;
  downloadCount: number;
  lastDownloadAtMs: number | null;
}

function exportFromRow(row: Selectable<ExportBundleTable>): ExportRecord {
  return {
    id: row.id,
    cameraId: row.camera_id,
    stream: row.stream,
    fromMs: row.from_ms,
    toMs: row.to_ms,
    userId: row.user_id,
    userName: row.user_name,
    reason: row.reason,
    createdAtMs: row.created_at_ms,
    path: row.path,
    byteLength: row.byte_length,
    sha256: row.sha256,
    deletedAtMs: row.deleted_at_ms,
  };
}

function shareFromRow(row: Selectable<ExportShareTable>): ShareRecord {
  return {
    id: row.id,
    exportId: row.export_id,
    recipient: row.recipient,
    createdBy: row.created_by,
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
    revokedAtMs: row.revoked_at_ms,
    downloadCount: row.download_count,
    lastDownloadAtMs: row.last_download_at_ms,
  };
}

/** The export_bundles and export_shares tables. */
export class ExportStore {
  constructor(private readonly db: Db) {}

  async insertExport(
    record: Omit<ExportRecord, 'id' | 'deletedAtMs'> & { manifestJson: string },
  ): Promise<ExportRecord> {
    const row = await this.db
      .insertInto('export_bundles')
      .values({
        camera_id: record.cameraId,
        stream: record.stream,
        from_ms: record.fromMs,
        to_ms: record.toMs,
        user_id: record.userId,
        user_name: record.userName,
        reason: record.reason,
        created_at_ms: record.createdAtMs,
        path: record.path,
        byte_length: record.byteLength,
        sha256: record.sha256,
        manifest_json: record.manifestJson,
        deleted_at_ms: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return exportFromRow(row);
  }

  async getExport(id: number): Promise<ExportRecord | undefined> {
    const row = await this.db
      .selectFrom('export_bundles')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? exportFromRow(row) : undefined;
  }

  /** Newest first. */
  async listExports(limit: number): Promise<ExportRecord[]> {
    const rows = await this.db
      .selectFrom('export_bundles')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(exportFromRow);
  }

  /**
   * Bundles made before `createdBeforeMs` whose file is still there and which no share link still
   * valid at `nowMs` points to.
   */
  async expiredExports(createdBeforeMs: number, nowMs: number): Promise<ExportRecord[]> {
    const rows = await this.db
      .selectFrom('export_bundles')
      .selectAll()
      .where('deleted_at_ms', 'is', null)
      .where('created_at_ms', '<', createdBeforeMs)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('export_shares')
              .select('export_shares.id')
              .whereRef('export_shares.export_id', '=', 'export_bundles.id')
              .where('export_shares.revoked_at_ms', 'is', null)
              .where('export_shares.expires_at_ms', '>', nowMs),
          ),
        ),
      )
      .orderBy('id')
      .execute();
    return rows.map(exportFromRow);
  }

  /** Marks the bundle file gone and ends its share links, in one transaction. */
  async markDeleted(id: number, nowMs: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('export_bundles').set({ deleted_at_ms: nowMs }).where('id', '=', id).execute();
      await trx
        .updateTable('export_shares')
        .set({ revoked_at_ms: nowMs })
        .where('export_id', '=', id)
        .where('revoked_at_ms', 'is', null)
        .execute();
    });
  }

  async insertShare(
    share: Omit<ShareRecord, 'id' | 'downloadCount' | 'lastDownloadAtMs' | 'revokedAtMs'> & {
      tokenHash: string;
    },
  ): Promise<ShareRecord> {
    const row = await this.db
      .insertInto('export_shares')
      .values({
        export_id: share.exportId,
        token_hash: share.tokenHash,
        recipient: share.recipient,
        created_by: share.createdBy,
        created_at_ms: share.createdAtMs,
        expires_at_ms: share.expiresAtMs,
        revoked_at_ms: null,
        last_download_at_ms: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return shareFromRow(row);
  }

  async shareByTokenHash(tokenHash: string): Promise<ShareRecord | undefined> {
    const row = await this.db
      .selectFrom('export_shares')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ? shareFromRow(row) : undefined;
  }

  async sharesOf(exportId: number): Promise<ShareRecord[]> {
    const rows = await this.db
      .selectFrom('export_shares')
      .selectAll()
      .where('export_id', '=', exportId)
      .orderBy('id')
      .execute();
    return rows.map(shareFromRow);
  }

  async revokeShare(exportId: number, shareId: number, nowMs: number): Promise<ShareRecord | undefined> {
    const row = await this.db
      .updateTable('export_shares')
      .set({ revoked_at_ms: nowMs })
      .where('id', '=', shareId)
      .where('export_id', '=', exportId)
      .where('revoked_at_ms', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return row ? shareFromRow(row) : undefined;
  }

  async countDownload(shareId: number, nowMs: number): Promise<void> {
    await this.db
      .updateTable('export_shares')
      .set((eb) => ({ download_count: eb('download_count', '+', 1), last_download_at_ms: nowMs }))
      .where('id', '=', shareId)
      .execute();
  }
}
