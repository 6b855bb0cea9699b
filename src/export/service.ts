import type { Principal } from '../auth/permissions.js';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, rm, statfs } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { auditTarget, SYSTEM_ACTOR, type AuditInput, type AuditRequester } from '../audit/entry.js';
import type { SigningKey } from '../auth/signing-key.js';
import { hashSecret } from '../auth/tokens.js';
import { VigilError } from '../errors/catalogue.js';
import type { PlaybackService } from '../recording/playback.js';
import type { Db } from '../storage/db.js';
import type { Clock } from '../time/clock.js';
import type { VideoTransform } from '../media/video-transform.js';
import { buildBundle, removeStaleWork } from './bundle.js';
import { manifestBytes } from './manifest.js';
import { readBundle } from './read-bundle.js';
import { ExportStore, type ExportRecord, type ShareRecord } from './store.js';
import { verifyBundleParts, type Verdict } from './verify.js';
import { MAX_ZIP_BYTES } from './zip.js';

/** The folder under storage.path that holds bundles (and their work folders while they are built). */
export const EXPORTS_DIR = 'exports';
const SHARE_TOKEN_PREFIX = 'vgs_';
// Hex: API paths are lower case (request-target.ts), and the token travels in the path.
const SHARE_TOKEN_PATTERN = /^vgs_[0-9a-f]{64}$/;
/** A share link lives at most this long: a link is a copy of the video outside anyone's control. */
export const MAX_SHARE_LIFETIME_MS = 30 * 24 * 3_600_000;
const LIST_LIMIT = 200;

export interface ExportServiceDeps {
  db: Db;
  playback: Pick<PlaybackService, 'segments' | 'exportMp4' | 'absolute'>;
  storageRoot: string;
  key: SigningKey;
  clock: Clock;
  log: Logger;
  vigilVersion: string;
  /** storage.minFreeBytes: a bundle never eats into the recording reserve. */
  minFreeBytes: number;
  /** retention.exportsDays in ms: how long a bundle stays after it is made (longer while shared). */
  keepForMs: number;
  /** How often bundles past that are removed (retention.checkIntervalMs). */
  checkIntervalMs: number;
  record(input: AuditInput): void;
  /**
   * The transforms every bundle of this camera gets for this caller (their privacy masks), after
   * the ones the request asks for; none at all: the video is an exact copy of the recording.
   */
  transformsFor?: (
    principal: Principal,
    cameraId: string,
    stream: string,
  ) => Promise<VideoTransform[]> | VideoTransform[];
}

export interface CreateExportInput {
  camera: { id: string; name: string };
  stream: string;
  fromMs: number;
  toMs: number;
  reason: string;
  exportedBy: { userId: number; name: string };
  /** Who asks: the privacy masks hidden from them are burnt into the video. */
  principal: Principal;
  /** Transforms the request asks for (face redaction), applied before the caller's masks. */
  transforms?: VideoTransform[];
  requester: AuditRequester;
}

/**
 * Signed export bundles: built on the storage volume one at a time, recorded in the database,
 * downloaded by users or through share links, every step audited.
 */
export class ExportService {
  readonly store: ExportStore;
  readonly exportsDir: string;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(private readonly deps: ExportServiceDeps) {
    this.store = new ExportStore(deps.db);
    this.exportsDir = join(deps.storageRoot, EXPORTS_DIR);
  }

  /** Removes work folders a crash left behind, and starts removing bundles past retention.exportsDays. */
  async start(): Promise<void> {
    await removeStaleWork(this.exportsDir);
    await this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.deps.checkIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /**
   * Removes the bundles made more than retention.exportsDays ago that no valid share link points
   * to; returns how many. Concurrent calls share one pass; a failure is logged and retried next time.
   */
  sweep(): Promise<number> {
    this.sweeping ??= this.removeExpired()
      .catch((err: unknown) => {
        this.deps.log.error({ err }, 'export retention pass failed');
        return 0;
      })
      .finally(() => {
        this.sweeping = null;
      });
    return this.sweeping;
  }

  private async removeExpired(): Promise<number> {
    const nowMs = this.deps.clock.nowMs();
    const expired = await this.store.expiredExports(nowMs - this.deps.keepForMs, nowMs);
    for (const record of expired) await this.remove(record, null);
    if (expired.length > 0)
      this.deps.log.info({ exportCount: expired.length }, 'export retention removed bundles');
    return expired.length;
  }

  /**
   * Removes a bundle's file and ends its share links; the row stays (who exported what, when and
   * why, and the hash a copy elsewhere can be checked against). `requester` null: retention did it.
   */
  async remove(record: ExportRecord, requester: AuditRequester | null): Promise<void> {
    if (record.deletedAtMs !== null) throw this.gone(record);
    await rm(join(this.deps.storageRoot, record.path), { force: true });
    await this.store.markDeleted(record.id, this.deps.clock.nowMs());
    this.deps.record({
      ...(requester ?? { actor: SYSTEM_ACTOR, ip: null }),
      action: 'export.delete',
      target: auditTarget.export(record.id),
      details: { cause: requester ? 'user' : 'retention', cameraId: record.cameraId, sha256: record.sha256 },
    });
  }

  private gone(record: ExportRecord): VigilError {
    return new VigilError(
      'EXPORT_NOT_FOUND',
      `the bundle of export ${record.id} was deleted at ${new Date(record.deletedAtMs ?? 0).toISOString()}`,
    );
  }

  get publicKey(): SigningKey['view'] {
    return this.deps.key.view;
  }

  /** Builds a bundle (after any build already running: they compete for the disk with recording). */
  create(input: CreateExportInput): Promise<ExportRecord> {
    const run = this.queue.then(() => this.build(input));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async build(input: CreateExportInput): Promise<ExportRecord> {
    const { camera, stream, fromMs, toMs } = input;
    const reason = input.reason.trim();
    if (reason === '')
      throw new VigilError('REQUEST_INVALID', 'an export needs a reason: say why it is made');
    const { playback } = this.deps;
    const mp4 = await playback.exportMp4(camera.id, stream, fromMs, toMs);
    const segments = await playback.segments(camera.id, stream, fromMs, toMs);
    const transforms = [
      ...(input.transforms ?? []),
      ...((await this.deps.transformsFor?.(input.principal, camera.id, stream)) ?? []),
    ];
    let built;
    try {
      built = await buildBundle({
        exportsDir: this.exportsDir,
        camera,
        stream,
        fromMs,
        toMs,
        segments: segments.map((s) => ({ ...s, absolutePath: playback.absolute(s) })),
        copyByteLength: mp4.byteLength,
        writeCopy: async (outPath) => {
          await pipeline(
            mp4.createReadStream(0, mp4.byteLength - 1),
            createWriteStream(outPath, { flags: 'wx', mode: 0o600 }),
          );
          return { sourceTracks: mp4.tracks.map((t) => `${t.kind}:${t.codec}`), durationMs: mp4.durationMs };
        },
        transforms,
        exportedBy: input.exportedBy,
        reason,
        nowMs: this.deps.clock.nowMs(),
        vigilVersion: this.deps.vigilVersion,
        key: this.deps.key,
        minFreeBytes: this.deps.minFreeBytes,
      });
    } catch (err) {
      if (err instanceof VigilError) throw err;
      this.deps.log.error({ err, cameraId: camera.id }, 'building an export bundle failed');
      throw new VigilError('EXPORT_FAILED', `building the bundle failed: ${(err as Error).message}`);
    }
    const record = await this.store.insertExport({
      cameraId: camera.id,
      stream,
      fromMs,
      toMs,
      userId: input.exportedBy.userId,
      userName: input.exportedBy.name,
      reason,
      createdAtMs: built.manifest.createdAtMs,
      path: relative(this.deps.storageRoot, join(this.exportsDir, built.fileName)),
      byteLength: built.byteLength,
      sha256: built.sha256,
      manifestJson: manifestBytes(built.manifest).toString('utf8'),
    });
    this.deps.record({
      ...input.requester,
      action: 'export.bundle',
      target: auditTarget.export(record.id),
      details: {
        cameraId: camera.id,
        stream,
        fromMs,
        toMs,
        reason,
        sha256: record.sha256,
        transforms: built.manifest.transforms,
      },
    });
    return record;
  }

  async get(id: number): Promise<ExportRecord> {
    const record = await this.store.getExport(id);
    if (!record) throw new VigilError('EXPORT_NOT_FOUND', `there is no export ${id}`);
    return record;
  }

  list(): Promise<ExportRecord[]> {
    return this.store.listExports(LIST_LIMIT);
  }

  /** The bundle file of an export, checked to be there. */
  async bundlePath(record: ExportRecord): Promise<string> {
    if (record.deletedAtMs !== null) throw this.gone(record);
    const path = join(this.deps.storageRoot, record.path);
    try {
      await access(path);
    } catch {
      throw new VigilError('EXPORT_NOT_FOUND', `the bundle file of export ${record.id} is gone`);
    }
    return path;
  }

  /** Records a download by a user (the route checked who may). */
  auditDownload(record: ExportRecord, requester: AuditRequester): void {
    this.deps.record({
      ...requester,
      action: 'export.download',
      target: auditTarget.export(record.id),
      details: { cameraId: record.cameraId, sha256: record.sha256 },
    });
  }

  /** A new share link's token (shown once; only its hash is kept). */
  async createShare(
    record: ExportRecord,
    input: { recipient: string; expiresInMs: number; createdBy: string; requester: AuditRequester },
  ): Promise<{ share: ShareRecord; token: string }> {
    const recipient = input.recipient.trim();
    if (recipient === '' || recipient.length > 200) {
      throw new VigilError('REQUEST_INVALID', 'a share link needs a recipient (1 to 200 characters)');
    }
    if (!(input.expiresInMs > 0 && input.expiresInMs <= MAX_SHARE_LIFETIME_MS)) {
      throw new VigilError(
        'REQUEST_INVALID',
        `expiresInMs must be between 1 and ${MAX_SHARE_LIFETIME_MS} (30 days)`,
      );
    }
    await this.bundlePath(record);
    const token = SHARE_TOKEN_PREFIX + randomBytes(32).toString('hex');
    const nowMs = this.deps.clock.nowMs();
    const share = await this.store.insertShare({
      exportId: record.id,
      tokenHash: hashSecret(token),
      recipient,
      createdBy: input.createdBy,
      createdAtMs: nowMs,
      expiresAtMs: nowMs + input.expiresInMs,
    });
    this.deps.record({
      ...input.requester,
      action: 'export.share',
      target: auditTarget.export(record.id),
      details: { shareId: share.id, recipient, expiresAtMs: share.expiresAtMs },
    });
    return { share, token };
  }

  async revokeShare(record: ExportRecord, shareId: number, requester: AuditRequester): Promise<ShareRecord> {
    const share = await this.store.revokeShare(record.id, shareId, this.deps.clock.nowMs());
    if (!share)
      throw new VigilError('SHARE_NOT_FOUND', `export ${record.id} has no active share link ${shareId}`);
    this.deps.record({
      ...requester,
      action: 'export.share.revoke',
      target: auditTarget.export(record.id),
      details: { shareId, recipient: share.recipient },
    });
    return share;
  }

  /**
   * The export a share token opens, and its file; counts and audits the download. An unknown
   * token and a wrong one are the same answer: nothing tells a guesser how close they came.
   */
  async openShare(
    token: string,
    ip: string | null,
  ): Promise<{ record: ExportRecord; path: string; share: ShareRecord }> {
    const share = SHARE_TOKEN_PATTERN.test(token)
      ? await this.store.shareByTokenHash(hashSecret(token))
      : undefined;
    if (!share) throw new VigilError('SHARE_NOT_FOUND', 'this share link is not valid');
    if (share.revokedAtMs !== null) {
      throw new VigilError(
        'SHARE_REVOKED',
        'this share link was revoked by its sender; ask them for a new one',
      );
    }
    const nowMs = this.deps.clock.nowMs();
    if (nowMs >= share.expiresAtMs) {
      throw new VigilError(
        'SHARE_EXPIRED',
        `this share link expired at ${new Date(share.expiresAtMs).toISOString()}; ask its sender for a new one`,
        { expiresAtMs: share.expiresAtMs },
      );
    }
    const record = await this.get(share.exportId);
    const path = await this.bundlePath(record);
    await this.store.countDownload(share.id, nowMs);
    this.deps.record({
      actor: { kind: 'anonymous' },
      ip,
      action: 'export.share.download',
      target: auditTarget.export(record.id),
      details: { shareId: share.id, recipient: share.recipient, sha256: record.sha256 },
    });
    return { record, path, share };
  }

  /**
   * The largest bundle an upload to verify may be: what fits above storage.minFreeBytes, and at
   * most what a bundle can be. Uploads land on the storage volume; recording must not run out.
   */
  async uploadLimitBytes(): Promise<number> {
    const fs = await statfs(this.deps.storageRoot);
    return Math.max(0, Math.min(MAX_ZIP_BYTES, fs.bavail * fs.bsize - this.deps.minFreeBytes));
  }

  /** Verifies an uploaded bundle against this installation's key. */
  async verifyFile(path: string): Promise<Verdict> {
    return verifyBundleParts(await readBundle(path), { installation: this.deps.key.publicKey });
  }
}
