import { sql, type Selectable } from 'kysely';
import { VigilError } from '../errors/catalogue.js';
import type { Db } from '../storage/db.js';
import type { AuditCheckpointTable } from '../storage/schema.js';
import type { Clock } from '../time/clock.js';
import {
  ChainWalker,
  GENESIS_START,
  canonicalJson,
  checkpointSignature,
  checkpointSignatureValid,
  entryHash,
  originalSeqOfMovedEntry,
  type AuditProblem,
  type ChainStart,
} from './chain.js';
import {
  SYSTEM_ACTOR,
  actorColumns,
  entryFromRow,
  type AuditEntry,
  type AuditInput,
  type AuditRow,
} from './entry.js';

const DAY_MS = 86_400_000;
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;
export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;
/** Rows read per page while verifying: bounded memory for any log length. */
const VERIFY_PAGE = 1000;
/** Appends retried when another process appended in between (the insert trigger refuses a stale link). */
const APPEND_ATTEMPTS = 8;
/** The triggers of migration 0004_auth; their absence is reported as a warning. */
const PROTECTION_TRIGGERS = [
  'audit_log_no_update',
  'audit_log_delete_by_retention_only',
  'audit_log_extends_chain',
  'audit_checkpoint_update',
  'audit_checkpoint_no_delete',
];

export interface AuditLogOptions {
  clock: Clock;
  /**
   * Signs and checks retention checkpoints (SecretBox.deriveKey('vigil/audit-checkpoint/v1')).
   * Without it checkpoints are unsigned and verify() says it could not check them.
   */
  checkpointKey?: Buffer;
}

export interface AuditQuery {
  /** Entries at or after this time (UTC ms). */
  fromMs?: number;
  /** Entries before this time. */
  toMs?: number;
  /** User name (sessions and that user's tokens), 'system' or '-'. */
  actor?: string;
  /** An action, or its subject: 'login' finds 'login.success', 'login.failure'… */
  action?: string;
  target?: string;
  limit?: number;
  /** From a previous page's nextCursor. */
  cursor?: string;
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[];
  nextCursor: string | null;
}

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  timeMs: number;
  deletedCount: number;
  createdAtMs: number;
  signed: boolean;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries found sound (up to the first problem). */
  checkedCount: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The hash of the last sound entry: record it elsewhere (an anchor) to detect a rewrite later. */
  head: ChainStart;
  checkpoint: AuditCheckpoint | null;
  problem: AuditProblem | null;
  /** Weaker findings that do not break the chain (missing triggers, unchecked checkpoint). */
  warnings: string[];
  /** One line for a person: all is well, or what broke and where. */
  message: string;
}

export interface AuditRetentionResult {
  deletedCount: number;
  checkpoint: AuditCheckpoint | null;
  /** Set when the entries due for deletion failed verification: then nothing was deleted. */
  problem: AuditProblem | null;
}

/** The cursor is opaque to clients; inside it is the seq of the last entry given out. */
function encodeCursor(seq: number): string {
  return Buffer.from(`audit:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^audit:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new VigilError(
      'REQUEST_INVALID',
      "'cursor' is not one this API gave out: pass nextCursor as it came",
      {
        parameter: 'cursor',
      },
    );
  }
  return Number(match[1]);
}

function checkpointView(row: Selectable<AuditCheckpointTable>): AuditCheckpoint {
  return {
    seq: row.seq,
    hash: row.hash,
    timeMs: row.time_ms,
    deletedCount: row.deleted_count,
    createdAtMs: row.created_at_ms,
    signed: row.signature !== null,
  };
}

function isWriteConflict(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || code.startsWith('SQLITE_BUSY'));
}

/**
 * The audit trail: append-only and hash-chained, in the index database (see
 * docs/design/security.md). Appends are serialised in this process by a queue and across
 * processes (the CLI next to the server) by the insert trigger, which refuses an entry whose
 * prev_hash is not the current head; the append then retries on the new head.
 */
export class AuditLog {
  private readonly clock: Clock;
  private readonly checkpointKey: Buffer | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    options: AuditLogOptions,
  ) {
    this.clock = options.clock;
    this.checkpointKey = options.checkpointKey;
  }

  /** Appends one entry and returns it as stored. */
  append(input: AuditInput): Promise<AuditEntry> {
    return this.serialised(() => this.appendNow(input));
  }

  /** Newest first, filtered, keyset-paginated on seq. */
  async query(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_AUDIT_LIMIT), MAX_AUDIT_LIMIT);
    let select = this.db.selectFrom('audit_log').selectAll();
    if (query.fromMs !== undefined) select = select.where('time_ms', '>=', query.fromMs);
    if (query.toMs !== undefined) select = select.where('time_ms', '<', query.toMs);
    if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
    if (query.target !== undefined) select = select.where('target', '=', query.target);
    const action = query.action;
    if (action !== undefined) {
      // A subject filter: 'login' matches 'login' and 'login.*'. LIKE's own wildcards in the input are escaped.
      const pattern = `${action.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`;
      select = select.where((eb) =>
        eb.or([eb('action', '=', action), sql<boolean>`action LIKE ${pattern} ESCAPE '\\'`]),
      );
    }
    if (query.cursor !== undefined) select = select.where('seq', '<', decodeCursor(query.cursor));
    const rows = await select
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
    const entries = rows.slice(0, limit).map(entryFromRow);
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null };
  }

  /** The newest entry's seq and hash (the head), e.g. to publish as an anchor. */
  async head(): Promise<ChainStart> {
    const row = await this.db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { seq: row.seq, hash: row.hash } : await this.chainStart();
  }

  async checkpoint(): Promise<AuditCheckpoint | null> {
    const row = await this.db
      .selectFrom('audit_checkpoint')
      .selectAll()
      .where('id', '=', 1)
      .executeTakeFirst();
    return row ? checkpointView(row) : null;
  }

  /**
   * Walks the whole chain from the checkpoint (or the first entry) and reports the first broken
   * link: an edited entry (hash mismatch), deleted entries (a gap in seq), reordered or forged
   * entries (prev_hash mismatch), deleted newest entries (seq below the highest ever written), a
   * checkpoint whose signature fails, or an anchor (a head recorded earlier) that no longer matches.
   */
  async verify(options: { anchor?: ChainStart } = {}): Promise<AuditVerification> {
    const warnings = await this.missingTriggerWarnings();
    const checkpointRow = await this.db
      .selectFrom('audit_checkpoint')
      .selectAll()
      .where('id', '=', 1)
      .executeTakeFirst();
    const checkpoint = checkpointRow ? checkpointView(checkpointRow) : null;
    const start = checkpointRow ? { seq: checkpointRow.seq, hash: checkpointRow.hash } : GENESIS_START;
    const walker = new ChainWalker(start);
    const result = (problem: AuditProblem | null, firstSeq: number | null): AuditVerification => ({
      ok: problem === null,
      checkedCount: walker.checkedCount,
      firstSeq,
      lastSeq: walker.head.seq > start.seq ? walker.head.seq : null,
      head: walker.head,
      checkpoint,
      problem,
      warnings,
      message: problem
        ? `the audit log was tampered with: ${problem.message}`
        : `the audit log is intact: ${walker.checkedCount} entries` +
          (checkpoint
            ? ` after checkpoint ${checkpoint.seq} (${checkpoint.deletedCount} older entries deleted by retention)`
            : ''),
    });

    if (checkpointRow) {
      if (this.checkpointKey) {
        if (!checkpointSignatureValid(checkpointRow, checkpointRow.signature, this.checkpointKey)) {
          const problem: AuditProblem = {
            kind: 'checkpoint',
            seq: checkpointRow.seq,
            message:
              `the retention checkpoint (entry ${checkpointRow.seq}) is not signed by this installation's key: ` +
              'it was altered, possibly to hide deleted entries',
          };
          return result(problem, null);
        }
      } else {
        warnings.push('the retention checkpoint was not checked: no key was given to verify its signature');
      }
    }

    let firstSeq: number | null = null;
    let afterSeq = start.seq;
    for (;;) {
      const rows = await this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(VERIFY_PAGE)
        .execute();
      for (const row of rows) {
        firstSeq ??= row.seq;
        const problem = walker.push(row);
        if (problem) return result(this.refine(problem, row), firstSeq);
        if (options.anchor && row.seq === options.anchor.seq && row.hash !== options.anchor.hash) {
          return result(
            {
              kind: 'anchor',
              seq: row.seq,
              message:
                `entry ${row.seq} is not the one recorded in the anchor: the log was rewritten from there on ` +
                '(every hash recomputed)',
            },
            firstSeq,
          );
        }
      }
      if (rows.length < VERIFY_PAGE) break;
      afterSeq = rows.at(-1)!.seq;
    }
    // Entries below the checkpoint still present would mean retention did not finish; harmless, not checked.
    const highest = await this.highestSeqEverWritten();
    const last = walker.head.seq;
    const anchorSeq = options.anchor?.seq ?? 0;
    const missingTo = Math.max(highest, anchorSeq);
    if (missingTo > last) {
      return result(
        {
          kind: 'truncated',
          fromSeq: last + 1,
          toSeq: missingTo,
          message: `${last + 1 === missingTo ? `entry ${missingTo} was` : `entries ${last + 1} to ${missingTo} were`} deleted from the end of the log (it once reached entry ${missingTo})`,
        },
        firstSeq,
      );
    }
    return result(null, firstSeq);
  }

  /**
   * Deletes entries older than retentionDays without breaking verification: the entries due go
   * only after they verify, and the last of them becomes the checkpoint (its seq and hash,
   * signed), where the chain starts from then on. The deletion itself is audited. Only a prefix
   * of the log is deleted, so an entry with a clock-stepped older time after a newer one stays.
   */
  applyRetention(retentionDays: number = DEFAULT_AUDIT_RETENTION_DAYS): Promise<AuditRetentionResult> {
    return this.serialised(async () => {
      const nowMs = this.clock.nowMs();
      const cutoffMs = nowMs - retentionDays * DAY_MS;
      const start = await this.chainStart();
      const keep = await this.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.min<number | null>('seq').as('seq'))
        .where('time_ms', '>=', cutoffMs)
        .executeTakeFirst();
      const last = await this.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.max<number | null>('seq').as('seq'))
        .executeTakeFirst();
      const firstKept = keep?.seq ?? null;
      const throughSeq = firstKept !== null ? firstKept - 1 : (last?.seq ?? start.seq);
      const previous = await this.checkpoint();
      if (throughSeq <= start.seq) return { deletedCount: 0, checkpoint: previous, problem: null };

      const problem = await this.verifyRange(start, throughSeq);
      if (problem) return { deletedCount: 0, checkpoint: previous, problem };

      const lastDeleted = await this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '=', throughSeq)
        .executeTakeFirstOrThrow();
      const deletedCount = await this.db.transaction().execute(async (trx) => {
        const count = await trx
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('seq', '<=', throughSeq)
          .executeTakeFirstOrThrow();
        const fields = {
          seq: throughSeq,
          hash: lastDeleted.hash,
          time_ms: lastDeleted.time_ms,
          deleted_count: (previous?.deletedCount ?? 0) + Number(count.n),
        };
        const signature = this.checkpointKey ? checkpointSignature(fields, this.checkpointKey) : null;
        const row = { ...fields, created_at_ms: nowMs, signature };
        // The triggers allow deleting entries only up to the checkpoint: it is written first.
        if (previous) await trx.updateTable('audit_checkpoint').set(row).where('id', '=', 1).execute();
        else
          await trx
            .insertInto('audit_checkpoint')
            .values({ id: 1, ...row })
            .execute();
        await trx.deleteFrom('audit_log').where('seq', '<=', throughSeq).execute();
        return Number(count.n);
      });
      await this.appendNow({
        actor: SYSTEM_ACTOR,
        action: 'audit.retention',
        details: { throughSeq, deletedCount, retentionDays, cutoffMs },
      });
      return { deletedCount, checkpoint: await this.checkpoint(), problem: null };
    });
  }

  // ---- internals ----

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(input: AuditInput): Promise<AuditEntry> {
    const detailsJson = canonicalJson(input.details ?? {});
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const head = await this.headIn(trx);
          const seq = Math.max(head.seq, await this.highestSeqEverWritten(trx)) + 1;
          const unhashed = {
            seq,
            time_ms: this.clock.nowMs(),
            ...actorColumns(input.actor),
            action: input.action,
            target: input.target ?? null,
            details_json: detailsJson,
            ip: input.ip ?? null,
            prev_hash: head.hash,
          };
          const row: AuditRow = { ...unhashed, hash: entryHash(unhashed) };
          await trx.insertInto('audit_log').values(row).execute();
          return entryFromRow(row);
        });
      } catch (err) {
        if (attempt >= APPEND_ATTEMPTS || !isWriteConflict(err)) throw err;
      }
    }
  }

  private async headIn(db: Db): Promise<ChainStart> {
    const row = await db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { seq: row.seq, hash: row.hash } : await this.chainStart(db);
  }

  /** The checkpoint, or the genesis. */
  private async chainStart(db: Db = this.db): Promise<ChainStart> {
    const row = await db
      .selectFrom('audit_checkpoint')
      .select(['seq', 'hash'])
      .where('id', '=', 1)
      .executeTakeFirst();
    return row ?? GENESIS_START;
  }

  /**
   * SQLite's AUTOINCREMENT counter: the highest seq ever inserted, which deleting the newest rows
   * does not lower. New entries continue above it, so a deleted tail stays visible as a gap.
   */
  private async highestSeqEverWritten(db: Db = this.db): Promise<number> {
    const result = await sql<{
      seq: number;
    }>`SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'`.execute(db);
    return Number(result.rows[0]?.seq ?? 0);
  }

  private async verifyRange(start: ChainStart, throughSeq: number): Promise<AuditProblem | null> {
    const walker = new ChainWalker(start);
    let afterSeq = start.seq;
    while (afterSeq < throughSeq) {
      const rows = await this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', afterSeq)
        .where('seq', '<=', throughSeq)
        .orderBy('seq')
        .limit(VERIFY_PAGE)
        .execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        const problem = walker.push(row);
        if (problem) return this.refine(problem, row);
      }
      afterSeq = rows.at(-1)!.seq;
    }
    if (walker.head.seq !== throughSeq) {
      return {
        kind: 'deleted',
        fromSeq: walker.head.seq + 1,
        toSeq: throughSeq,
        message: `entries ${walker.head.seq + 1} to ${throughSeq} were deleted`,
      };
    }
    return null;
  }

  /** Tells an entry moved to another position apart from an edited one. */
  private refine(problem: AuditProblem, row: AuditRow): AuditProblem {
    if (problem.kind !== 'edited') return problem;
    const originalSeq = originalSeqOfMovedEntry(row);
    if (originalSeq === null) return problem;
    return {
      kind: 'reordered',
      seq: row.seq,
      originalSeq,
      message:
        `entry ${row.seq} holds the entry written as number ${originalSeq}: ` +
        'entries were reordered, or renumbered to hide a deletion',
    };
  }

  private async missingTriggerWarnings(): Promise<string[]> {
    const rows = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'trigger'`.execute(
      this.db,
    );
    const present = new Set(rows.rows.map((r) => r.name));
    const missing = PROTECTION_TRIGGERS.filter((name) => !present.has(name));
    return missing.length > 0
      ? [
          `the database triggers that protect the audit log are missing (${missing.join(', ')}): someone removed them`,
        ]
      : [];
  }
}

/** The purpose string of the checkpoint signing key: pass secretBox.deriveKey(AUDIT_CHECKPOINT_KEY_PURPOSE). */
export const AUDIT_CHECKPOINT_KEY_PURPOSE = 'vigil/audit-checkpoint/v1';
