import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { sql } from 'kysely';
import { toCsv } from '../../../src/audit/csv.js';
import { ANONYMOUS_ACTOR, SYSTEM_ACTOR, auditTarget, type AuditInput } from '../../../src/audit/entry.js';
import { AUDIT_CHECKPOINT_KEY_PURPOSE, AuditLog } from '../../../src/audit/log.js';
import { SecretBox } from '../../../src/auth/secrets.js';
import { openDatabase, type Db } from '../../../src/storage/db.js';
import { ManualClock } from '../../../src/time/clock.js';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const DAY_MS = 86_400_000;

const alice = { kind: 'user', name: 'alice' } as const;

function liveStart(camera: string): AuditInput {
  return {
    actor: alice,
    action: 'live.start',
    target: auditTarget.camera(camera),
    details: { stream: 'sub' },
    ip: '192.0.2.1',
  };
}

/** What an attacker with write access to the database file does first. */
async function dropTriggers(db: Db): Promise<void> {
  for (const name of [
    'audit_log_no_update',
    'audit_log_delete_by_retention_only',
    'audit_log_extends_chain',
    'audit_checkpoint_insert',
    'audit_checkpoint_update',
    'audit_checkpoint_no_delete',
  ]) {
    await sql.raw(`DROP TRIGGER ${name}`).execute(db);
  }
}

describe('audit log', () => {
  let dir: string;
  let path: string;
  let db: Db;
  let clock: ManualClock;
  let key: Buffer;
  let log: AuditLog;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
    path = join(dir, 'index.sqlite');
    db = await openDatabase(path);
    clock = new ManualClock(T0);
    key = new SecretBox(randomBytes(32)).deriveKey(AUDIT_CHECKPOINT_KEY_PURPOSE);
    log = new AuditLog(db, { clock, checkpointKey: key });
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fill(count: number, stepMs = 1000): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await log.append(liveStart(`cam${i % 3}`));
      clock.advance(stepMs);
    }
  }

  test('entries are chained from the genesis and verify', async () => {
    const first = await log.append({
      actor: SYSTEM_ACTOR,
      action: 'setup.first-admin',
      target: auditTarget.user('root'),
    });
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, '0'.repeat(64));
    const second = await log.append({
      actor: ANONYMOUS_ACTOR,
      action: 'login.failure',
      details: { reason: 'unknown-user' },
      ip: '::1',
    });
    assert.equal(second.prevHash, first.hash);
    assert.deepEqual(second.actor, { kind: 'anonymous' });
    const third = await log.append({
      actor: { kind: 'token', name: 'alice', tokenId: 4 },
      action: 'export.create',
      details: { toMs: 2, fromMs: 1 },
    });
    assert.equal(third.detailsJson, '{"fromMs":1,"toMs":2}', 'canonical details');
    assert.deepEqual(third.actor, { kind: 'token', name: 'alice', tokenId: 4 });
    const result = await log.verify();
    assert.equal(result.ok, true, result.message);
    assert.equal(result.checkedCount, 3);
    assert.deepEqual([result.firstSeq, result.lastSeq], [1, 3]);
    assert.deepEqual(result.head, { seq: 3, hash: third.hash });
    assert.deepEqual(await log.head(), result.head);
    assert.deepEqual(result.warnings, []);
    assert.match(result.message, /intact: 3 entries/);
  });

  test('an empty log verifies', async () => {
    const result = await log.verify();
    assert.equal(result.ok, true);
    assert.equal(result.checkedCount, 0);
    assert.equal(result.lastSeq, null);
  });

  test('concurrent appends never share a prev_hash', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => log.append(liveStart(`cam${i}`))));
    const rows = await db.selectFrom('audit_log').select(['seq', 'prev_hash']).orderBy('seq').execute();
    assert.equal(rows.length, 60);
    assert.equal(new Set(rows.map((r) => r.prev_hash)).size, 60);
    assert.equal((await log.verify()).ok, true);
  });

  test('two processes (two connections) appending at once keep one chain', async () => {
    const otherDb = await openDatabase(path);
    try {
      const other = new AuditLog(otherDb, { clock, checkpointKey: key });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? log : other).append(liveStart(`cam${i}`))),
      );
      const result = await log.verify();
      assert.equal(result.ok, true, result.message);
      assert.equal(result.checkedCount, 40);
    } finally {
      await otherDb.destroy();
    }
  });

  test('triggers refuse changing or deleting entries, and appending a stale link', async () => {
    await fill(3);
    await assert.rejects(
      sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`.execute(db),
      /append-only/,
    );
    await assert.rejects(
      sql`DELETE FROM audit_log WHERE seq = 2`.execute(db),
      /only be deleted by audit retention/,
    );
    await assert.rejects(
      sql`INSERT INTO audit_log (seq, time_ms, actor_kind, actor, action, details_json, prev_hash, hash)
          VALUES (4, 0, 'system', 'system', 'x', '{}', ${'0'.repeat(64)}, ${'1'.repeat(64)})`.execute(db),
      /must extend the chain/,
    );
    await assert.rejects(
      sql`INSERT INTO audit_checkpoint (id, seq, hash, time_ms, deleted_count, created_at_ms) VALUES (1, 2, 'x', 0, 2, 0)`.execute(
        db,
      ),
      /must name an existing entry/,
    );
    assert.equal((await log.verify()).ok, true);
  });

  test('verify finds an edited entry', async () => {
    await fill(10);
    await dropTriggers(db);
    await sql`UPDATE audit_log SET details_json = '{"stream":"main"}' WHERE seq = 6`.execute(db);
    const result = await log.verify();
    assert.equal(result.ok, false);
    assert.deepEqual(result.problem, {
      kind: 'edited',
      seq: 6,
      message:
        'entry 6 was edited: its contents no longer match its hash (or it was renumbered after other entries were deleted)',
    });
    assert.equal(result.checkedCount, 5);
    assert.match(result.message, /^the audit log was tampered with: entry 6 was edited/);
    assert.match(result.warnings[0]!, /triggers that protect the audit log are missing/);
  });

  test('verify finds deleted entries, in the middle and at the end', async () => {
    await fill(10);
    await dropTriggers(db);
    await sql`DELETE FROM audit_log WHERE seq IN (4, 5, 6)`.execute(db);
    const middle = await log.verify();
    assert.equal(middle.problem?.kind, 'deleted');
    assert.ok(
      middle.problem?.kind === 'deleted' && middle.problem.fromSeq === 4 && middle.problem.toSeq === 6,
    );
    assert.match(middle.message, /entries 4 to 6 were deleted: the log goes from entry 3 to entry 7/);

    const fresh = await openFresh();
    await fresh.fill(10);
    await dropTriggers(fresh.db);
    await sql`DELETE FROM audit_log WHERE seq >= 9`.execute(fresh.db);
    const tail = await fresh.log.verify();
    assert.equal(tail.problem?.kind, 'truncated');
    assert.match(
      tail.message,
      /entries 9 to 10 were deleted from the end of the log \(it once reached entry 10\)/,
    );
    // Appending afterwards does not paper over it: new entries continue above the old end.
    const next = await fresh.log.append(liveStart('cam1'));
    assert.equal(next.seq, 11);
    const after = await fresh.log.verify();
    assert.equal(after.problem?.kind, 'deleted');
    assert.match(after.message, /entries 9 to 10 were deleted/);
    await fresh.close();
  });

  test('verify finds reordered entries and says where each came from', async () => {
    await fill(10);
    await dropTriggers(db);
    // Swap entries 5 and 6.
    await sql`UPDATE audit_log SET seq = -5 WHERE seq = 5`.execute(db);
    await sql`UPDATE audit_log SET seq = 5 WHERE seq = 6`.execute(db);
    await sql`UPDATE audit_log SET seq = 6 WHERE seq = -5`.execute(db);
    const result = await log.verify();
    assert.deepEqual(result.problem, {
      kind: 'reordered',
      seq: 5,
      originalSeq: 6,
      message:
        'entry 5 holds the entry written as number 6: entries were reordered, or renumbered to hide a deletion',
    });
  });

  test('verify finds a deletion hidden by renumbering', async () => {
    await fill(8);
    await dropTriggers(db);
    await sql`DELETE FROM audit_log WHERE seq = 3`.execute(db);
    await sql`UPDATE audit_log SET seq = seq - 1 WHERE seq > 3`.execute(db);
    const result = await log.verify();
    assert.equal(result.problem?.kind, 'reordered');
    assert.ok(
      result.problem?.kind === 'reordered' && result.problem.seq === 3 && result.problem.originalSeq === 4,
    );
  });

  test('verify finds a rewritten chain through an anchor recorded earlier', async () => {
    await fill(5);
    const anchor = await log.head();
    await dropTriggers(db);
    // Rewrite entry 3 and recompute every hash after it: the chain itself is consistent again.
    const rows = await db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
    const { entryHash } = await import('../../../src/audit/chain.js');
    let prev = rows[1]!.hash;
    for (const row of rows.slice(2)) {
      const unhashed = { ...row, actor: row.seq === 3 ? 'nobody' : row.actor, prev_hash: prev };
      const hash = entryHash(unhashed);
      await db
        .updateTable('audit_log')
        .set({ actor: unhashed.actor, prev_hash: prev, hash })
        .where('seq', '=', row.seq)
        .execute();
      prev = hash;
    }
    assert.equal((await log.verify()).ok, true, 'without an anchor a full rewrite is consistent');
    const result = await log.verify({ anchor });
    assert.equal(result.problem?.kind, 'anchor');
    assert.match(result.message, /entry 5 is not the one recorded in the anchor/);
    // An anchor beyond the end means the end was cut.
    const beyond = await log.verify({ anchor: { seq: 9, hash: 'x' } });
    assert.equal(beyond.problem?.kind, 'truncated');
  });

  test('retention deletes old entries behind a signed checkpoint; verify still passes and still detects tampering', async () => {
    await fill(10, DAY_MS); // days 0..9
    clock.set(T0 + 9 * DAY_MS + 1000);
    const result = await log.applyRetention(5); // older than day 4.x go: entries 1..5 (days 0..4)
    assert.equal(result.problem, null);
    assert.equal(result.deletedCount, 5);
    assert.equal(result.checkpoint?.seq, 5);
    assert.equal(result.checkpoint?.deletedCount, 5);
    assert.equal(result.checkpoint?.signed, true);
    const remaining = await db.selectFrom('audit_log').select('seq').orderBy('seq').execute();
    assert.deepEqual(
      remaining.map((r) => r.seq),
      [6, 7, 8, 9, 10, 11],
    );
    const retentionEntry = (await log.query({ action: 'audit' })).entries[0]!;
    assert.equal(retentionEntry.action, 'audit.retention');
    assert.deepEqual(retentionEntry.details, {
      cutoffMs: T0 + 4 * DAY_MS + 1000,
      deletedCount: 5,
      retentionDays: 5,
      throughSeq: 5,
    });

    const ok = await log.verify();
    assert.equal(ok.ok, true, ok.message);
    assert.equal(ok.firstSeq, 6);
    assert.match(ok.message, /6 entries after checkpoint 5 \(5 older entries deleted by retention\)/);

    // Nothing more to delete: a no-op.
    assert.equal((await log.applyRetention(5)).deletedCount, 0);
    // Deleting past the checkpoint by hand is refused by the trigger.
    await assert.rejects(
      sql`DELETE FROM audit_log WHERE seq = 6`.execute(db),
      /only be deleted by audit retention/,
    );
    await assert.rejects(sql`DELETE FROM audit_checkpoint`.execute(db), /cannot be deleted/);
    await assert.rejects(sql`UPDATE audit_checkpoint SET seq = 3`.execute(db), /only moves forward/);

    // Tampering after retention is still found.
    await dropTriggers(db);
    await sql`UPDATE audit_log SET ip = '203.0.113.66' WHERE seq = 7`.execute(db);
    const edited = await log.verify();
    assert.equal(edited.problem?.kind, 'edited');
    assert.ok(edited.problem?.kind === 'edited' && edited.problem.seq === 7);
  });

  test('the first kept entry must link to the checkpoint; a moved checkpoint fails its signature', async () => {
    await fill(10, DAY_MS);
    clock.set(T0 + 9 * DAY_MS + 1000);
    await log.applyRetention(5);
    await dropTriggers(db);
    // Hide entries 6 and 7 by moving the checkpoint forward over them.
    const row8 = await db.selectFrom('audit_log').selectAll().where('seq', '=', 7).executeTakeFirstOrThrow();
    await sql`DELETE FROM audit_log WHERE seq IN (6, 7)`.execute(db);
    await db.updateTable('audit_checkpoint').set({ seq: 7, hash: row8.hash }).execute();
    const result = await log.verify();
    assert.equal(result.problem?.kind, 'checkpoint');
    assert.match(result.message, /not signed by this installation's key/);
    // Without the key the move is not detectable by the chain: verify says so.
    const keyless = await new AuditLog(db, { clock }).verify();
    assert.equal(keyless.ok, true);
    assert.ok(keyless.warnings.some((w) => /checkpoint was not checked/.test(w)));
  });

  test('retention refuses to delete entries that fail verification, so the evidence stays', async () => {
    await fill(10, DAY_MS);
    await dropTriggers(db);
    await sql`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`.execute(db);
    clock.set(T0 + 9 * DAY_MS + 1000);
    const result = await log.applyRetention(5);
    assert.equal(result.deletedCount, 0);
    assert.equal(result.problem?.kind, 'edited');
    assert.equal(
      await db.selectFrom('audit_log').select('seq').where('seq', '=', 2).executeTakeFirst().then(Boolean),
      true,
    );
  });

  test('retention of everything keeps the chain going from the checkpoint', async () => {
    await fill(4, DAY_MS);
    clock.set(T0 + 400 * DAY_MS);
    const result = await log.applyRetention(365);
    assert.equal(result.deletedCount, 4);
    const next = await log.append(liveStart('cam1'));
    assert.equal(next.seq, 6, 'after the retention entry (5)');
    const ok = await log.verify();
    assert.equal(ok.ok, true, ok.message);
    assert.equal(ok.checkedCount, 2);
    clock.advance(400 * DAY_MS);
    assert.equal((await log.applyRetention(365)).checkpoint?.deletedCount, 6);
    assert.equal((await log.verify()).ok, true);
  });

  test('query: newest first, filters, pages; CSV of a page', async () => {
    await log.append({ actor: alice, action: 'login.success', ip: '192.0.2.1' });
    clock.advance(1000);
    await log.append({
      actor: { kind: 'user', name: 'bob' },
      action: 'login.failure',
      details: { reason: 'wrong-password' },
    });
    clock.advance(1000);
    await fill(20);
    await log.append({
      actor: alice,
      action: 'playback.view',
      target: auditTarget.camera('cam1'),
      details: { fromMs: 1, toMs: 2 },
    });

    const page1 = await log.query({ limit: 10 });
    assert.equal(page1.entries.length, 10);
    assert.equal(page1.entries[0]!.action, 'playback.view');
    assert.ok(page1.nextCursor);
    const page2 = await log.query({ limit: 10, cursor: page1.nextCursor! });
    const page3 = await log.query({ limit: 10, cursor: page2.nextCursor! });
    assert.equal(page3.entries.length, 3);
    assert.equal(page3.nextCursor, null);
    const seqs = [...page1.entries, ...page2.entries, ...page3.entries].map((e) => e.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: 23 }, (_, i) => 23 - i),
    );

    assert.deepEqual(
      (await log.query({ action: 'login' })).entries.map((e) => e.action),
      ['login.failure', 'login.success'],
    );
    assert.equal((await log.query({ action: 'login.failure' })).entries.length, 1);
    assert.equal((await log.query({ action: 'log' })).entries.length, 0, 'whole subjects only');
    assert.equal((await log.query({ action: 'login_%' })).entries.length, 0, 'LIKE wildcards are literal');
    assert.equal((await log.query({ actor: 'bob' })).entries.length, 1);
    assert.equal((await log.query({ target: 'camera:cam1' })).entries.length, 8);
    const window = await log.query({ fromMs: T0 + 2000, toMs: T0 + 5000 });
    assert.deepEqual(
      window.entries.map((e) => e.timeMs),
      [T0 + 4000, T0 + 3000, T0 + 2000],
    );
    await assert.rejects(log.query({ cursor: 'bogus' }), /'cursor' is not one this API gave out/);

    const csv = toCsv((await log.query({ actor: 'bob' })).entries);
    assert.match(csv, /^seq,time,/);
    assert.match(
      csv,
      /\r\n2,2026-11-26T10:00:01\.000Z,\d+,user,bob,,login\.failure,,,"{""reason"":""wrong-password""}",[0-9a-f]{64},[0-9a-f]{64}\r\n$/,
    );
  });

  async function openFresh(): Promise<{
    db: Db;
    log: AuditLog;
    fill(count: number): Promise<void>;
    close(): Promise<void>;
  }> {
    const otherDb = await openDatabase(join(dir, 'fresh.sqlite'));
    const otherLog = new AuditLog(otherDb, { clock, checkpointKey: key });
    return {
      db: otherDb,
      log: otherLog,
      fill: async (count) => {
        for (let i = 0; i < count; i += 1) await otherLog.append(liveStart(`cam${i % 3}`));
      },
      close: () => otherDb.destroy(),
    };
  }
});
