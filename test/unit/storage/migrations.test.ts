import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { openDatabase, type Db } from '../../../src/storage/db.js';
import { ADMIN_ROLE_BEFORE_METRICS, migrations } from '../../../src/storage/migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));

after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Rows as each schema version stored them, inserted right after that version's migration, and
 * how each must read at the newest version. Every earlier release left a database with some of
 * these; an upgrade must keep them all.
 */
const seeds: Record<string, { insert: string[]; check(db: Db): Promise<void> }> = {
  '0001_initial': {
    insert: [
      `INSERT INTO segments (camera_id, stream, state, session_id, start_time_ms, end_time_ms, duration_ms,
        byte_length, frame_count, keyframe_count, codec, width, height, timescale, start_ticks, path)
       VALUES ('door', 'main', 'closed', 42, 1000, 5000, 4000, 10, 40, 1, 'h264', 640, 480, 90000, 0, 'a.mp4')`,
      `INSERT INTO garbage (path, reason, queued_at_ms) VALUES ('old.mp4', 'retention-age', 7)`,
      `INSERT INTO retention_holds (camera_id, start_time_ms, end_time_ms, until_ms, kind, reason, created_at_ms)
       VALUES ('door', 1000, 2000, NULL, 'evidence', 'case 12', 3)`,
      `INSERT INTO cameras (id, config_json, created_at_ms, updated_at_ms) VALUES ('yard', '{"id":"yard"}', 1, 2)`,
    ],
    check: async (db) => {
      const segment = await db.selectFrom('segments').selectAll().executeTakeFirstOrThrow();
      assert.equal(segment.timeline_id, 42);
      assert.equal(segment.path, 'a.mp4');
      assert.deepEqual(await db.selectFrom('garbage').select('path').execute(), [{ path: 'old.mp4' }]);
      const hold = await db.selectFrom('retention_holds').selectAll().executeTakeFirstOrThrow();
      assert.equal(hold.reason, 'case 12');
      const camera = await db.selectFrom('cameras').selectAll().executeTakeFirstOrThrow();
      assert.equal(camera.config_json, '{"id":"yard"}');
    },
  },
  '0002_events': {
    insert: [
      `INSERT INTO events (camera_id, label, track_id, start_time_ms, end_time_ms, max_score, box_json, path_json,
        zones_json, snapshot_path, crop_path, snapshot_time_ms, clip_start_ms, clip_end_ms, created_at_ms,
        updated_at_ms)
       VALUES ('door', 'person', 3, 1000, 4000, 0.9, '{}', '[]', '[]', NULL, NULL, NULL, 0, 5000, 1, 2)`,
    ],
    check: async (db) => {
      const event = await db.selectFrom('events').selectAll().executeTakeFirstOrThrow();
      assert.equal(event.label, 'person');
      assert.equal(event.max_score, 0.9);
    },
  },
  '0003_motion': {
    insert: [
      `INSERT INTO motion_periods (camera_id, start_time_ms, end_time_ms, max_score) VALUES ('door', 10, 20, 0.25)`,
    ],
    check: async (db) => {
      const period = await db.selectFrom('motion_periods').selectAll().executeTakeFirstOrThrow();
      assert.equal(period.max_score, 0.25);
    },
  },
  '0004_auth': {
    insert: [
      `INSERT INTO users (name, role, password_hash, password_changed_at_ms, all_cameras, created_at_ms, updated_at_ms)
       VALUES ('Alice', 'operator', '$argon2id$x', 1, 0, 1, 1)`,
      `INSERT INTO user_cameras (user_id, camera_id) VALUES (1, 'door')`,
      `INSERT INTO login_sessions (id_hash, user_id, created_at_ms, last_seen_at_ms, expires_at_ms)
       VALUES ('s1', 1, 1, 1, 99)`,
      `INSERT INTO api_tokens (token_hash, user_id, label, scopes_json, created_at_ms) VALUES ('t1', 1, 'nvr', '[]', 1)`,
      `INSERT INTO audit_log (seq, time_ms, actor_kind, actor, action, details_json, prev_hash, hash)
       VALUES (1, 1, 'system', 'system', 'setup', '{}', '${'0'.repeat(64)}', '${'a'.repeat(64)}')`,
    ],
    check: async (db) => {
      const user = await db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
      assert.equal(user.name, 'Alice');
      assert.equal(user.all_cameras, 0);
      assert.equal((await db.selectFrom('user_cameras').selectAll().execute()).length, 1);
      assert.equal((await db.selectFrom('login_sessions').selectAll().execute()).length, 1);
      assert.equal(
        (await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', 't1').execute()).length,
        1,
      );
      const entry = await db.selectFrom('audit_log').selectAll().executeTakeFirstOrThrow();
      assert.equal(entry.hash, 'a'.repeat(64));
    },
  },
  '0005_timeline_id': {
    insert: [
      `INSERT INTO users (name, role, password_hash, password_changed_at_ms, all_cameras, created_at_ms, updated_at_ms)
       VALUES ('Root', 'admin', '$argon2id$x', 1, 1, 1, 1)`,
      // Made without scopes: the whole admin role of its day.
      `INSERT INTO api_tokens (token_hash, user_id, label, scopes_json, created_at_ms) VALUES ('t2', 2, 'all',
       '${JSON.stringify(ADMIN_ROLE_BEFORE_METRICS)}', 1)`,
      `INSERT INTO api_tokens (token_hash, user_id, label, scopes_json, created_at_ms)
       VALUES ('t3', 2, 'uptime', '["system.view"]', 1)`,
    ],
    check: async (db) => {
      assert.equal(await scopesOf(db, 't2'), null, 'still the whole role, now whatever it holds');
      assert.deepEqual(await scopesOf(db, 't3'), ['system.view'], 'a narrowed token stays narrow');
      assert.deepEqual(await scopesOf(db, 't1'), []);
    },
  },
  '0006_metrics_view': {
    insert: [
      `INSERT INTO users (name, role, password_hash, password_changed_at_ms, all_cameras, created_at_ms, updated_at_ms)
       VALUES ('Vera', 'viewer', '$argon2id$x', 1, 1, 1, 1)`,
      // Alice (operator) and Vera (viewer): one token each with the whole role, one narrowed.
      `INSERT INTO api_tokens (token_hash, user_id, label, scopes_json, created_at_ms) VALUES ('t4', 1, 'ops',
       '["cameras.view","events.delete","events.view","export.create","live.view","playback.view"]', 1)`,
      `INSERT INTO api_tokens (token_hash, user_id, label, scopes_json, created_at_ms) VALUES ('t5', 3, 'wall',
       '["cameras.view","events.view","live.view"]', 1)`,
      `INSERT INTO api_tokens (token_hash, user_id, label, scopes_json, created_at_ms) VALUES ('t6', 3, 'list',
       '["cameras.view"]', 1)`,
    ],
    check: async (db) => {
      assert.equal(await scopesOf(db, 't4'), null, 'an operator token with the whole role follows the role');
      assert.equal(await scopesOf(db, 't5'), null);
      assert.deepEqual(await scopesOf(db, 't6'), ['cameras.view'], 'a narrowed token stays narrow');
    },
  },
  '0007_whole_role_tokens': {
    insert: [
      `INSERT INTO events (camera_id, label, track_id, start_time_ms, end_time_ms, max_score, box_json, path_json,
        zones_json, snapshot_path, crop_path, snapshot_time_ms, clip_start_ms, clip_end_ms, created_at_ms,
        updated_at_ms)
       VALUES ('door', 'truck', 4, 10000, 70000, 0.8, '{}', '[]', '[]', NULL, NULL, NULL, 5000, 75000, 1, 2)`,
      `INSERT INTO events (camera_id, label, track_id, start_time_ms, end_time_ms, max_score, box_json, path_json,
        zones_json, snapshot_path, crop_path, snapshot_time_ms, clip_start_ms, clip_end_ms, created_at_ms,
        updated_at_ms)
       VALUES ('door', 'car', 4, 6000, 9000, 0.7, '{}', '[]', '[]', 'e/2-frame.jpg', 'e/2-crop.jpg', 8000, 0, 9000, 1, 2)`,
    ],
    check: async (db) => {
      const longest = await sql<{
        ms: number;
      }>`SELECT MAX(end_time_ms - start_time_ms) AS ms FROM events`.execute(db);
      assert.equal(longest.rows[0]?.ms, 60000, 'the duration index covers the events stored before it');
      // 0008: an event from before crop regions were stored has none (its crop is not sent while masks exist).
      const event = await db
        .selectFrom('events')
        .selectAll()
        .where('label', '=', 'car')
        .executeTakeFirstOrThrow();
      assert.equal(event.crop_path, 'e/2-crop.jpg');
      assert.equal(event.crop_region_json, null);
    },
  },
  '0008_privacy_lifts': {
    insert: [
      `INSERT INTO privacy_lifts (camera_id, user_id, user_name, reason, started_at_ms, expires_at_ms)
       VALUES ('door', 2, 'Root', 'incident 7 on the pavement', 100, 3600100)`,
    ],
    check: async (db) => {
      const lift = await db.selectFrom('privacy_lifts').selectAll().executeTakeFirstOrThrow();
      assert.equal(lift.reason, 'incident 7 on the pavement');
    },
  },
  '0009_evidence_locks': {
    insert: [
      `INSERT INTO evidence_locks (camera_id, event_id, start_time_ms, end_time_ms, reason, expires_at_ms,
        created_by, created_at_ms) VALUES ('door', 1, 1000, 2000, 'case 12', NULL, 'Alice', 5)`,
    ],
    check: async (db) => {
      const lock = await db.selectFrom('evidence_locks').selectAll().executeTakeFirstOrThrow();
      assert.equal(lock.reason, 'case 12');
      assert.equal(lock.unlocked_at_ms, null);
    },
  },
  '0010_approval_requests': {
    insert: [
      `INSERT INTO approval_requests (kind, camera_id, params_json, summary, reason, state, requested_by_id,
        requested_by, requested_at_ms, expires_at_ms) VALUES ('evidence.unlock', 'door', '{"lockId":1}',
        'unlock', 'case closed', 'pending', 1, 'Alice', 5, 10)`,
    ],
    check: async (db) => {
      const request = await db.selectFrom('approval_requests').selectAll().executeTakeFirstOrThrow();
      assert.equal(request.state, 'pending');
      assert.equal(request.params_json, '{"lockId":1}');
    },
  },
  '0011_export_bundles': {
    insert: [
      `INSERT INTO export_bundles (camera_id, stream, from_ms, to_ms, user_id, user_name, reason, created_at_ms,
       path, byte_length, sha256, manifest_json) VALUES ('door', 'main', 0, 1000, 1, 'Alice', 'claim', 5,
       'exports/door.zip', 10, '${'b'.repeat(64)}', '{}')`,
      `INSERT INTO export_shares (export_id, token_hash, recipient, created_by, created_at_ms, expires_at_ms)
       VALUES (1, 'h1', 'someone', 'Alice', 5, 99)`,
    ],
    check: async (db) => {
      const bundle = await db.selectFrom('export_bundles').selectAll().executeTakeFirstOrThrow();
      assert.equal(bundle.reason, 'claim');
      const share = await db.selectFrom('export_shares').selectAll().executeTakeFirstOrThrow();
      assert.equal(share.download_count, 0);
    },
  },
  '0013_event_search': {
    insert: [
      `INSERT INTO events (camera_id, label, track_id, start_time_ms, end_time_ms, max_score, box_json, path_json,
        zones_json, snapshot_path, crop_path, snapshot_time_ms, clip_start_ms, clip_end_ms, created_at_ms,
        updated_at_ms)
       VALUES ('yard', 'dog', 9, 90000, 95000, 0.7, '{}', '[]', '["Lawn"]', NULL, NULL, NULL, 85000, 99000, 1, 2)`,
    ],
    check: async (db) => {
      const dog = await db
        .selectFrom('events')
        .selectAll()
        .where('label', '=', 'dog')
        .executeTakeFirstOrThrow();
      assert.equal(dog.zones_json, '["Lawn"]');
    },
  },
  '0014_scene_counts': {
    insert: [
      `INSERT INTO scene_counts (camera_id, kind, target_id, label, direction, bucket_start_ms, count, max_occupancy)
       VALUES ('yard', 'line', 'path', 'person', 'a-to-b', 60000, 3, 0)`,
    ],
    check: async (db) => {
      const row = await db.selectFrom('scene_counts').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([row.target_id, row.direction, row.count], ['path', 'a-to-b', 3]);
    },
  },
  '0015_rules_alerts': {
    insert: [
      `INSERT INTO rules (id, definition_json, created_by, created_at_ms, updated_at_ms)
       VALUES ('night-gate', '{"name":"Gate at night"}', 'admin', 1, 2)`,
      `INSERT INTO alerts (rule_id, rule_name, camera_id, event_id, kind, summary, time_ms, snapshot_path,
        clip_start_ms, clip_end_ms, created_at_ms)
       VALUES ('night-gate', 'Gate at night', 'yard', NULL, 'zone-entered', 'person entered Gate', 5000, NULL,
        0, 9000, 5001)`,
      `INSERT INTO alert_reviews (alert_id, user_id, reviewed_at_ms) VALUES (1, 1, 6000)`,
    ],
    check: async (db) => {
      const rule = await db.selectFrom('rules').selectAll().executeTakeFirstOrThrow();
      assert.equal(rule.id, 'night-gate');
      const alert = await db.selectFrom('alerts').selectAll().executeTakeFirstOrThrow();
      assert.equal(alert.summary, 'person entered Gate');
      const review = await db.selectFrom('alert_reviews').selectAll().executeTakeFirstOrThrow();
      assert.equal(review.reviewed_at_ms, 6000);
    },
  },
  '0016_notify': {
    insert: [
      `INSERT INTO webhook_deliveries (webhook_id, alert_id, body, attempt_count, state, last_status, last_error,
        next_attempt_at_ms, created_at_ms, updated_at_ms)
       VALUES ('office', 1, '{"id":1}', 2, 'pending', 503, 'HTTP 503', 9000, 5002, 7000)`,
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, label, created_at_ms)
       VALUES (1, 'https://push.example/abc', 'BPk', 'au', 'Phone', 5003)`,
    ],
    check: async (db) => {
      const delivery = await db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([delivery.state, delivery.attempt_count], ['pending', 2]);
      const push = await db.selectFrom('push_subscriptions').selectAll().executeTakeFirstOrThrow();
      assert.equal(push.label, 'Phone');
      // 0017: the zones of events stored before it are rows of event_zones, and stay in step.
      const zonesOf = async (id: number) =>
        (await db.selectFrom('event_zones').select('zone').where('event_id', '=', id).execute()).map(
          (r) => r.zone,
        );
      const dog = await db
        .selectFrom('events')
        .select('id')
        .where('label', '=', 'dog')
        .executeTakeFirstOrThrow();
      assert.deepEqual(await zonesOf(dog.id), ['Lawn']);
      await db
        .updateTable('events')
        .set({ zones_json: '["Lawn","Pond"]' })
        .where('id', '=', dog.id)
        .execute();
      assert.deepEqual((await zonesOf(dog.id)).sort(), ['Lawn', 'Pond']);
      await db.deleteFrom('events').where('id', '=', dog.id).execute();
      assert.deepEqual(await zonesOf(dog.id), []);
    },
  },
  '0017_event_zones': {
    insert: [
      `INSERT INTO events (camera_id, label, track_id, start_time_ms, end_time_ms, max_score, box_json, path_json,
        zones_json, snapshot_path, crop_path, snapshot_time_ms, clip_start_ms, clip_end_ms, created_at_ms,
        updated_at_ms)
       VALUES ('yard', 'cat', 10, 96000, 97000, 0.6, '{}', '[]', '["Shed"]', NULL, NULL, NULL, 91000, 99000, 1, 2)`,
    ],
    check: async (db) => {
      const rows = await db
        .selectFrom('event_zones')
        .innerJoin('events', 'events.id', 'event_zones.event_id')
        .select(['event_zones.zone', 'events.label'])
        .where('events.label', '=', 'cat')
        .execute();
      assert.deepEqual(rows, [{ zone: 'Shed', label: 'cat' }]);
    },
  },
};

async function scopesOf(db: Db, hash: string): Promise<string[] | null> {
  const row = await db
    .selectFrom('api_tokens')
    .select('scopes_json')
    .where('token_hash', '=', hash)
    .executeTakeFirstOrThrow();
  return JSON.parse(row.scopes_json) as string[] | null;
}

const versions = Object.keys(migrations).sort();

/** A database as the release whose newest migration is `version` left it, with rows in every table. */
async function databaseAt(path: string, version: string): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  for (const name of versions.slice(0, versions.indexOf(version) + 1)) {
    const provider = {
      getMigrations: async () =>
        Object.fromEntries(versions.slice(0, versions.indexOf(name) + 1).map((v) => [v, migrations[v]!])),
    };
    const { error } = await new Migrator({ db, provider }).migrateToLatest();
    assert.equal(error, undefined);
    for (const statement of seeds[name]?.insert ?? []) await sql.raw(statement).execute(db);
  }
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

test('every migration but the newest has rows to upgrade in this test', () => {
  // A new migration means a new seed here: the release before it may have left such rows.
  assert.deepEqual(Object.keys(seeds).sort(), versions.slice(0, -1));
});

for (const version of versions.slice(0, -1)) {
  test(`a database left at ${version} upgrades to the schema a fresh one gets, keeping its rows`, async () => {
    const upgradedPath = join(dir, `upgraded-${version}.db`);
    await databaseAt(upgradedPath, version);
    const upgraded = await openDatabase(upgradedPath);
    const fresh = await openDatabase(join(dir, `fresh-${version}.db`));
    try {
      assert.deepEqual(await schemaOf(upgraded), await schemaOf(fresh));
      for (const name of versions.slice(0, versions.indexOf(version) + 1)) await seeds[name]?.check(upgraded);
    } finally {
      await upgraded.destroy();
      await fresh.destroy();
    }
  });
}

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
