import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { openDatabase, type Db } from '../../../src/storage/db.js';
import { migrations } from '../../../src/storage/migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A database at the first schema version, as the first release of Vigil left it. */
async function firstVersion(path: string): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  const first = Object.keys(migrations).sort()[0] as string;
  const provider = { getMigrations: async () => ({ [first]: migrations[first]! }) };
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  assert.equal(error, undefined);
  await sql`
    INSERT INTO segments (camera_id, stream, state, session_id, start_time_ms, end_time_ms, duration_ms,
      byte_length, frame_count, keyframe_count, codec, width, height, timescale, start_ticks, path)
    VALUES ('door', 'main', 'closed', 42, 1000, 5000, 4000, 10, 40, 1, 'h264', 640, 480, 90000, 0, 'a.mp4')
  `.execute(db);
  await db.destroy();
}

/** Every table, index and trigger with its SQL, and every table's columns. */
async function schemaOf(db: Db): Promise<unknown> {
  const objects = await sql<{ type: string; name: string; sql: string | null }>`
    SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'kysely_%' ORDER BY type, name
  `.execute(db);
  const columns: Record<string, unknown> = {};
  for (const o of objects.rows.filter((r) => r.type === 'table')) {
    columns[o.name] = (await sql`SELECT * FROM pragma_table_info(${o.name})`.execute(db)).rows;
  }
  return { objects: objects.rows, columns };
}

test('a database of the first version upgrades to the schema a fresh one gets, keeping its rows', async () => {
  const upgradedPath = join(dir, 'upgraded.db');
  await firstVersion(upgradedPath);
  const upgraded = await openDatabase(upgradedPath);
  const fresh = await openDatabase(join(dir, 'fresh.db'));
  try {
    assert.deepEqual(await schemaOf(upgraded), await schemaOf(fresh));
    const row = await upgraded.selectFrom('segments').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.timeline_id, 42);
    assert.equal(row.path, 'a.mp4');
  } finally {
    await upgraded.destroy();
    await fresh.destroy();
  }
});

test('0005 renames segments.session_id to timeline_id', async () => {
  const db = await openDatabase(join(dir, 'columns.db'));
  try {
    const names = (
      await sql<{ name: string }>`SELECT name FROM pragma_table_info('segments')`.execute(db)
    ).rows.map((r) => r.name);
    assert.ok(names.includes('timeline_id'));
    assert.ok(!names.includes('session_id'));
  } finally {
    await db.destroy();
  }
});
