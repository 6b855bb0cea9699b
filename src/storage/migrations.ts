import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The admin role's permissions before `metrics.view` (migration 0006), frozen here: a migration
 * must keep meaning what it meant when it was written, whatever src/auth/permissions.ts says later.
 */
export const ADMIN_ROLE_BEFORE_METRICS: readonly string[] = (
  'audit.view cameras.manage cameras.view events.delete events.view export.create live.view ' +
  'playback.view settings.manage system.view users.manage'
).split(' ');

/**
 * Every role's permissions as of migration 0007, frozen for the same reason: a token that held all
 * of its owner's role that day is the token made "without scopes".
 */
const ROLES_AT_WHOLE_ROLE_TOKENS: Readonly<Record<string, readonly string[]>> = {
  admin: [...ADMIN_ROLE_BEFORE_METRICS, 'metrics.view'],
  operator: 'cameras.view live.view playback.view export.create events.view events.delete'.split(' '),
  viewer: ['cameras.view', 'live.view', 'events.view'],
  auditor: ['audit.view'],
};

/**
 * Schema history. Never edit a migration that has shipped; add a new one. Comments on columns
 * live here because SQLite has no COMMENT statement.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One stored media file of one stream. A row is inserted 'open' before its file is created
      // and becomes 'closed' only after the file is fsynced, so the index never points at data
      // that a crash could still take away; open rows are repaired from the file at start.
      await sql`
        CREATE TABLE segments (
          id INTEGER PRIMARY KEY,
          camera_id TEXT NOT NULL,                     -- camera id from the config or the API
          stream TEXT NOT NULL,                        -- 'main' or 'sub'
          state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
          session_id INTEGER NOT NULL,                 -- ingest connection; one decode timeline each
          start_time_ms INTEGER NOT NULL,              -- UTC ms of the first sample
          end_time_ms INTEGER NOT NULL,                -- UTC ms after the last sample (= start while open)
          duration_ms INTEGER NOT NULL CHECK (duration_ms = end_time_ms - start_time_ms),
          byte_length INTEGER NOT NULL CHECK (byte_length >= 0), -- file length, init included
          frame_count INTEGER NOT NULL CHECK (frame_count >= 0),  -- video samples
          keyframe_count INTEGER NOT NULL CHECK (keyframe_count >= 0),
          codec TEXT NOT NULL,                         -- 'h264', 'h265'
          width INTEGER,
          height INTEGER,
          timescale INTEGER NOT NULL CHECK (timescale > 0), -- video track ticks per second
          start_ticks INTEGER NOT NULL,                -- decode time of the first video sample, in ticks
          path TEXT NOT NULL UNIQUE                    -- relative to storage.path
        ) STRICT`.execute(db);
      await sql`CREATE INDEX segments_by_stream_time ON segments (camera_id, stream, start_time_ms)`.execute(
        db,
      );
      await sql`CREATE INDEX segments_by_time ON segments (start_time_ms)`.execute(db);
      // Files whose rows are gone but which may still exist on disk: deleting a segment moves its
      // path here in the same transaction that deletes the row, then unlinks, then forgets it.
      await sql`
        CREATE TABLE garbage (
          path TEXT PRIMARY KEY,                       -- relative to storage.path
          reason TEXT NOT NULL,                        -- 'retention-age', 'retention-quota', 'camera-removed'…
          queued_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      // Time ranges that retention must keep (evidence lock, event retention). NULL camera = all.
      await sql`
        CREATE TABLE retention_holds (
          id INTEGER PRIMARY KEY,
          camera_id TEXT,
          start_time_ms INTEGER NOT NULL,
          end_time_ms INTEGER NOT NULL CHECK (end_time_ms > start_time_ms),
          until_ms INTEGER,                            -- the hold lapses then; NULL = until removed
          kind TEXT NOT NULL,                          -- 'evidence', 'event'…
          reason TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      // Cameras added through the API; cameras in the config file are not stored here.
      await sql`
        CREATE TABLE cameras (
          id TEXT PRIMARY KEY,
          config_json TEXT NOT NULL,                   -- the camera's config object, validated
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
    },
  },
  '0002_events': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One event: a confirmed track of a label the camera watches for, from its first to its last
      // sighting. Rows are inserted when the event opens and updated while it goes on.
      await sql`
        CREATE TABLE events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,        -- never reused: links to a deleted event must not find another
          camera_id TEXT NOT NULL,
          label TEXT NOT NULL,                         -- COCO object label: 'person', 'car'…
          track_id INTEGER NOT NULL,                   -- the tracker's id of the track that opened it
          start_time_ms INTEGER NOT NULL,              -- UTC ms of the first sighting (recording timeline)
          end_time_ms INTEGER,                         -- UTC ms of the last sighting; NULL while ongoing
          max_score REAL NOT NULL,                     -- best detection score 0..1
          box_json TEXT NOT NULL,                      -- box of the snapshot's detection, normalised {x,y,width,height}
          path_json TEXT NOT NULL,                     -- [{timeMs,x,y}] normalised box centres, thinned to a cap
          zones_json TEXT NOT NULL,                    -- zone names the event touched: ["drive"]
          snapshot_path TEXT,                          -- full frame JPEG with the box, relative to storage.path
          crop_path TEXT,                              -- JPEG around the box, relative to storage.path
          snapshot_time_ms INTEGER,                    -- UTC ms of the snapshot's frame
          clip_start_ms INTEGER NOT NULL,              -- start - detect.preCaptureMs
          clip_end_ms INTEGER NOT NULL,                -- end (or last sighting) + detect.postCaptureMs
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      // Newest first, keyset-paginated on (start_time_ms, id), all cameras or one.
      await sql`CREATE INDEX events_by_time ON events (start_time_ms, id)`.execute(db);
      await sql`CREATE INDEX events_by_camera_time ON events (camera_id, start_time_ms, id)`.execute(db);
      // Event retention deletes by end time.
      await sql`CREATE INDEX events_by_end ON events (end_time_ms)`.execute(db);
      // Holds are updated and deleted by what they protect ('event', 'event:<id>').
      await sql`CREATE INDEX retention_holds_by_reason ON retention_holds (kind, reason)`.execute(db);
    },
  },
  '0003_motion': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Stretches of time with motion per camera, for the timeline; written when a stretch ends.
      await sql`
        CREATE TABLE motion_periods (
          id INTEGER PRIMARY KEY,
          camera_id TEXT NOT NULL,
          start_time_ms INTEGER NOT NULL,              -- UTC ms of the first moving frame (recording timeline)
          end_time_ms INTEGER NOT NULL CHECK (end_time_ms >= start_time_ms),
          max_score REAL NOT NULL                      -- largest fraction of the picture that moved in one frame
        ) STRICT`.execute(db);
      await sql`CREATE INDEX motion_periods_by_camera_time ON motion_periods (camera_id, start_time_ms)`.execute(
        db,
      );
    },
  },
  '0004_auth': {
    async up(db: Kysely<unknown>): Promise<void> {
      // People who sign in. Ids are never reused: tokens and the audit log name users.
      await sql`
        CREATE TABLE users (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT NOT NULL UNIQUE COLLATE NOCASE,    -- 'Alice' and 'alice' are one user
          role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'auditor')),
          password_hash TEXT NOT NULL,                 -- argon2id PHC string
          password_changed_at_ms INTEGER NOT NULL,
          totp_secret TEXT,                            -- sealed 'enc:v1:…' base32 secret; NULL = no second factor
          totp_last_step INTEGER,                      -- last accepted TOTP step: no code is accepted twice
          all_cameras INTEGER NOT NULL DEFAULT 1 CHECK (all_cameras IN (0, 1)), -- 0 = only those in user_cameras
          disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      // Per-camera grants of users whose all_cameras is 0.
      await sql`
        CREATE TABLE user_cameras (
          user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          camera_id TEXT NOT NULL,
          PRIMARY KEY (user_id, camera_id)
        ) STRICT, WITHOUT ROWID`.execute(db);
      // Signed-in browsers: sign-in sessions (named login_sessions when "session" also meant an
      // ingest connection; it no longer does, see the glossary and 0005).
      await sql`
        CREATE TABLE login_sessions (
          id_hash TEXT PRIMARY KEY,                    -- SHA-256 hex of the cookie value; the value itself is never stored
          user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          created_at_ms INTEGER NOT NULL,
          last_seen_at_ms INTEGER NOT NULL,            -- updated at most once a minute
          expires_at_ms INTEGER NOT NULL,              -- absolute end, whatever the activity
          ip TEXT,
          user_agent TEXT
        ) STRICT`.execute(db);
      await sql`CREATE INDEX login_sessions_by_user ON login_sessions (user_id)`.execute(db);
      // Bearer tokens for integrations: shown once, stored hashed, revocable.
      await sql`
        CREATE TABLE api_tokens (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          token_hash TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the token
          user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          label TEXT NOT NULL,
          scopes_json TEXT NOT NULL,                   -- ["live.view", …]: at most the owner's role's permissions
          created_at_ms INTEGER NOT NULL,
          last_used_at_ms INTEGER,                     -- updated at most once a minute
          expires_at_ms INTEGER,                       -- NULL = until revoked
          revoked_at_ms INTEGER
        ) STRICT`.execute(db);
      await sql`CREATE INDEX api_tokens_by_user ON api_tokens (user_id)`.execute(db);
      // Append-only, hash-chained audit trail (src/audit/log.ts, docs/design/security.md).
      // AUTOINCREMENT makes sqlite_sequence remember the highest seq ever written, so deleting
      // the newest entries leaves a trace that verify() reports.
      await sql`
        CREATE TABLE audit_log (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,       -- 1, 2, 3… in append order
          time_ms INTEGER NOT NULL,
          actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'token', 'system', 'anonymous')),
          actor TEXT NOT NULL,                         -- user name; 'system'; '-' for anonymous
          token_id INTEGER,                            -- the API token used when actor_kind = 'token'
          action TEXT NOT NULL,                        -- 'login.success', 'playback.view'…
          target TEXT,                                 -- 'camera:front-door', 'user:alice'…
          details_json TEXT NOT NULL,                  -- canonical JSON (sorted keys)
          ip TEXT,
          prev_hash TEXT NOT NULL UNIQUE,              -- hash of the entry before (or of the checkpoint, or 64 zeros)
          hash TEXT NOT NULL UNIQUE                    -- SHA-256 hex of the canonical entry, prev_hash included
        ) STRICT`.execute(db);
      await sql`CREATE INDEX audit_log_by_time ON audit_log (time_ms)`.execute(db);
      await sql`CREATE INDEX audit_log_by_actor ON audit_log (actor, seq)`.execute(db);
      await sql`CREATE INDEX audit_log_by_action ON audit_log (action, seq)`.execute(db);
      // Where the chain starts after retention: the last deleted entry. One row at most.
      await sql`
        CREATE TABLE audit_checkpoint (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          seq INTEGER NOT NULL,                        -- the last entry retention deleted
          hash TEXT NOT NULL,                          -- its hash: the prev_hash of the first kept entry
          time_ms INTEGER NOT NULL,                    -- its time
          deleted_count INTEGER NOT NULL,              -- entries retention deleted so far, in all
          created_at_ms INTEGER NOT NULL,
          signature TEXT                               -- HMAC-SHA-256 under a key derived from the secret key file
        ) STRICT`.execute(db);
      // Defence in depth; verify() is the guarantee. Entries are never changed, deleted only up to
      // the checkpoint (which retention writes first), and each new one must extend the chain.
      await sql`
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed'); END`.execute(db);
      await sql`
        CREATE TRIGGER audit_log_delete_by_retention_only BEFORE DELETE ON audit_log
        WHEN OLD.seq > COALESCE((SELECT seq FROM audit_checkpoint WHERE id = 1), 0)
        BEGIN SELECT RAISE(ABORT, 'audit_log entries can only be deleted by audit retention'); END`.execute(
        db,
      );
      await sql`
        CREATE TRIGGER audit_log_extends_chain BEFORE INSERT ON audit_log
        WHEN NEW.prev_hash IS NOT COALESCE(
            (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1),
            (SELECT hash FROM audit_checkpoint WHERE id = 1),
            '0000000000000000000000000000000000000000000000000000000000000000')
          OR NEW.seq <= COALESCE(
            (SELECT MAX(seq) FROM audit_log), (SELECT seq FROM audit_checkpoint WHERE id = 1), 0)
        BEGIN SELECT RAISE(ABORT, 'audit_log entries must extend the chain: prev_hash or seq is stale'); END`.execute(
        db,
      );
      await sql`
        CREATE TRIGGER audit_checkpoint_insert BEFORE INSERT ON audit_checkpoint
        WHEN NEW.hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'an audit checkpoint must name an existing entry'); END`.execute(db);
      await sql`
        CREATE TRIGGER audit_checkpoint_update BEFORE UPDATE ON audit_checkpoint
        WHEN NEW.seq <= OLD.seq OR NEW.hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'an audit checkpoint only moves forward, to an existing entry'); END`.execute(
        db,
      );
      await sql`
        CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
        BEGIN SELECT RAISE(ABORT, 'the audit checkpoint cannot be deleted'); END`.execute(db);
    },
  },
  '0005_timeline_id': {
    async up(db: Kysely<unknown>): Promise<void> {
      // "Session" now means a signed-in browser only (docs/design/glossary.md). The column keeps
      // its meaning under its proper word: the segment's decode timeline, an ingest connection
      // split where the camera's timestamps jump; segments of one timeline share decode times.
      await sql`ALTER TABLE segments RENAME COLUMN session_id TO timeline_id`.execute(db);
    },
  },
  '0006_metrics_view': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A token made without scopes stores the whole role as it was that day. `metrics.view`
      // joined the admin role later: a token that held all of the admin role before gets it too,
      // or the upgrade would turn it into a narrowed token, refused on the signed-in routes
      // (/api/health, its owner's tokens). A token of another role never held all of these.
      const tokens = await sql<{ id: number; scopes_json: string }>`
        SELECT id, scopes_json FROM api_tokens`.execute(db);
      for (const token of tokens.rows) {
        const scopes = JSON.parse(token.scopes_json) as string[];
        if (!ADMIN_ROLE_BEFORE_METRICS.every((p) => scopes.includes(p)) || scopes.includes('metrics.view'))
          continue;
        const widened = JSON.stringify([...scopes, 'metrics.view'].sort());
        await sql`UPDATE api_tokens SET scopes_json = ${widened} WHERE id = ${token.id}`.execute(db);
      }
    },
  },
  '0007_whole_role_tokens': {
    async up(db: Kysely<unknown>): Promise<void> {
      // scopes_json = 'null' now means "the whole of the owner's role, as it is when used", so a
      // permission added to a role later reaches its unscoped tokens without a migration like
      // 0006. Tokens that held exactly their role's permissions were made without scopes.
      const tokens = await sql<{ id: number; scopes_json: string; role: string }>`
        SELECT t.id, t.scopes_json, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id`.execute(db);
      for (const token of tokens.rows) {
        const scopes = JSON.parse(token.scopes_json) as string[] | null;
        const role = ROLES_AT_WHOLE_ROLE_TOKENS[token.role];
        if (scopes === null || role === undefined) continue;
        if (role.length !== scopes.length || !role.every((p) => scopes.includes(p))) continue;
        await sql`UPDATE api_tokens SET scopes_json = 'null' WHERE id = ${token.id}`.execute(db);
      }
    },
  },
  '0008_privacy_lifts': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A lift: one user sees through one camera's liftable privacy masks for a while, for a reason.
      // Rows are never deleted by the lift's end: they are the record of who looked, with the audit log.
      await sql`
        CREATE TABLE privacy_lifts (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          camera_id TEXT NOT NULL,
          user_id INTEGER NOT NULL,                    -- users.id of who sees through the masks
          user_name TEXT NOT NULL,                     -- their name then, for the list and the audit log
          reason TEXT NOT NULL,                        -- why, as typed (required)
          started_at_ms INTEGER NOT NULL,              -- UTC ms
          expires_at_ms INTEGER NOT NULL,              -- UTC ms: the lift ends by itself here
          ended_at_ms INTEGER,                         -- UTC ms it was ended early; NULL otherwise
          ended_by TEXT                                -- who ended it early (user name); NULL otherwise
        ) STRICT`.execute(db);
      await sql`CREATE INDEX privacy_lifts_by_expiry ON privacy_lifts (expires_at_ms)`.execute(db);
      // The part of the frame an event's crop shows, normalised {x,y,width,height}: privacy masks
      // are mapped into the crop with it. NULL for crops written before this column existed.
      await sql`ALTER TABLE events ADD COLUMN crop_region_json TEXT`.execute(db);
    },
  },
  '0009_evidence_locks': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Evidence: a camera's time range (or an event's clip) kept whatever retention and the disk
      // say. Its recording is protected by a retention hold ('evidence', 'evidence:<id>'); the
      // lock row says who locked it, why and until when, and keeps its event from deletion.
      await sql`
        CREATE TABLE evidence_locks (
          id INTEGER PRIMARY KEY AUTOINCREMENT,        -- never reused: an unlocked lock's id stays its own
          camera_id TEXT NOT NULL,
          event_id INTEGER,                            -- the locked event; NULL for a plain time range
          start_time_ms INTEGER NOT NULL,              -- UTC ms (recording timeline)
          end_time_ms INTEGER NOT NULL CHECK (end_time_ms > start_time_ms),
          reason TEXT NOT NULL,
          expires_at_ms INTEGER,                       -- the lock lapses then; NULL = until unlocked
          created_by TEXT NOT NULL,                    -- user name
          created_at_ms INTEGER NOT NULL,
          unlocked_by TEXT,                            -- who lifted it (the requester of the approved unlock)
          unlocked_at_ms INTEGER                       -- NULL while locked
        ) STRICT`.execute(db);
      await sql`CREATE INDEX evidence_locks_by_camera_time ON evidence_locks (camera_id, start_time_ms)`.execute(
        db,
      );
      await sql`CREATE INDEX evidence_locks_by_event ON evidence_locks (event_id)`.execute(db);
    },
  },
  '0010_approval_requests': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Four-eyes approval: an action one user asked for and a second must approve.
      await sql`
        CREATE TABLE approval_requests (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          kind TEXT NOT NULL,                          -- 'evidence.unlock', 'events.delete'…
          camera_id TEXT,                              -- the camera the action touches; NULL = none
          params_json TEXT NOT NULL,                   -- the action's parameters, as registered
          summary TEXT NOT NULL,                       -- what the action does, in words
          reason TEXT NOT NULL,                        -- why the requester asks
          state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused', 'cancelled', 'expired', 'failed')),
          requested_by_id INTEGER NOT NULL,            -- users.id of the requester
          requested_by TEXT NOT NULL,                  -- their name
          requested_at_ms INTEGER NOT NULL,
          expires_at_ms INTEGER NOT NULL,
          decided_by TEXT,                             -- who approved, refused or cancelled
          decided_at_ms INTEGER,
          decision_reason TEXT,                        -- a refusal's reason, or why executing failed
          result_json TEXT                             -- what the executed action returned
        ) STRICT`.execute(db);
      await sql`CREATE INDEX approval_requests_by_state ON approval_requests (state, requested_at_ms)`.execute(
        db,
      );
    },
  },
  '0011_export_bundles': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Signed export bundles (src/export): one row per bundle built, kept after its file is gone
      // so that the record of who exported what outlives the file.
      await sql`
        CREATE TABLE export_bundles (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          camera_id TEXT NOT NULL,
          stream TEXT NOT NULL,
          from_ms INTEGER NOT NULL,                    -- the range asked for, UTC epoch ms
          to_ms INTEGER NOT NULL,
          user_id INTEGER,                             -- who exported it; NULL once the user is deleted
          user_name TEXT NOT NULL,                     -- their name then (the manifest says the same)
          reason TEXT NOT NULL,                        -- why, as they wrote it
          created_at_ms INTEGER NOT NULL,
          path TEXT NOT NULL,                          -- the zip, relative to storage.path
          byte_length INTEGER NOT NULL,
          sha256 TEXT NOT NULL,                        -- of the zip file
          manifest_json TEXT NOT NULL,                 -- the signed manifest, canonical JSON
          deleted_at_ms INTEGER                        -- the file was removed (NULL: it is there)
        ) STRICT`.execute(db);
      await sql`CREATE INDEX export_bundles_by_time ON export_bundles (created_at_ms)`.execute(db);
      // Share links: one recipient, until a time, revocable. The token itself is shown once.
      await sql`
        CREATE TABLE export_shares (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          export_id INTEGER NOT NULL REFERENCES export_bundles (id) ON DELETE CASCADE,
          token_hash TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the token; the token is never stored
          recipient TEXT NOT NULL,                     -- who the link is for (an address or a name)
          created_by TEXT NOT NULL,                    -- user name of who made it
          created_at_ms INTEGER NOT NULL,
          expires_at_ms INTEGER NOT NULL,
          revoked_at_ms INTEGER,
          download_count INTEGER NOT NULL DEFAULT 0,
          last_download_at_ms INTEGER
        ) STRICT`.execute(db);
      await sql`CREATE INDEX export_shares_by_export ON export_shares (export_id)`.execute(db);
    },
  },
  '0013_event_search': {
    async up(db: Kysely<unknown>): Promise<void> {
      // MAX(end - start) from this index bounds a time-window search (src/events/store.ts).
      await sql`CREATE INDEX events_by_duration ON events (end_time_ms - start_time_ms)`.execute(db);
      // The events page filters by label (a rare one must not walk every newer event).
      await sql`CREATE INDEX events_by_label_time ON events (label, start_time_ms, id)`.execute(db);
    },
  },
  '0014_scene_counts': {
    async up(db: Kysely<unknown>): Promise<void> {
      // What the scene analyser counted, per camera and minute (src/storage/scene-counts.ts);
      // hours and days are summed from minutes when asked, in the site's time zone.
      await sql`
        CREATE TABLE scene_counts (
          camera_id TEXT NOT NULL,
          kind TEXT NOT NULL,                          -- 'line' (crossings) or 'zone' (entries, peak occupancy)
          target_id TEXT NOT NULL,                     -- the line's or zone's id
          label TEXT NOT NULL,                         -- object label, e.g. person
          direction TEXT NOT NULL,                     -- 'a-to-b' or 'b-to-a' for lines; '' for zones
          bucket_start_ms INTEGER NOT NULL,            -- start of the minute, UTC epoch ms
          count INTEGER NOT NULL DEFAULT 0,            -- crossings, or entries into the zone
          max_occupancy INTEGER NOT NULL DEFAULT 0,    -- zones: most objects of the label inside at once
          PRIMARY KEY (camera_id, kind, target_id, label, direction, bucket_start_ms)
        ) STRICT, WITHOUT ROWID`.execute(db);
      await sql`CREATE INDEX scene_counts_by_time ON scene_counts (camera_id, bucket_start_ms)`.execute(db);
    },
  },
  '0015_rules_alerts': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Rules made through the API (rules from the config file are not stored). The definition is
      // the API's RuleDefinition (src/contract/rules.ts) as JSON: it is read and written whole.
      await sql`
        CREATE TABLE rules (
          id TEXT PRIMARY KEY,                         -- the rule id, unique with the config file's
          definition_json TEXT NOT NULL,               -- RuleDefinition as JSON
          created_by TEXT NOT NULL,                    -- user name
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      // One alert: a rule fired. An event that has one is an "alert" in the events list, the others
      // are "detections". Rule and camera are kept by id and name as they were then.
      await sql`
        CREATE TABLE alerts (
          id INTEGER PRIMARY KEY AUTOINCREMENT,        -- never reused
          rule_id TEXT NOT NULL,
          rule_name TEXT NOT NULL,                     -- the rule's name when it fired
          camera_id TEXT NOT NULL,
          event_id INTEGER,                            -- the event it is about; NULL for camera alerts
          kind TEXT NOT NULL,                          -- the condition type (AlertKind)
          summary TEXT NOT NULL,                       -- in words, e.g. 'person crossed Path (A→B)'
          time_ms INTEGER NOT NULL,                    -- UTC ms (recording timeline) the condition held
          snapshot_path TEXT,                          -- a camera snapshot for alerts without event, relative to storage.path
          clip_start_ms INTEGER NOT NULL,              -- the recording around the alert
          clip_end_ms INTEGER NOT NULL,
          created_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      await sql`CREATE INDEX alerts_by_time ON alerts (time_ms, id)`.execute(db);
      await sql`CREATE INDEX alerts_by_event ON alerts (event_id)`.execute(db);
      await sql`CREATE INDEX alerts_by_rule ON alerts (rule_id, time_ms)`.execute(db);
      // Reviewed is per user: one row when a user marked an alert reviewed.
      await sql`
        CREATE TABLE alert_reviews (
          alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
          user_id INTEGER NOT NULL,                    -- users.id
          reviewed_at_ms INTEGER NOT NULL,
          PRIMARY KEY (alert_id, user_id)
        ) STRICT`.execute(db);
    },
  },
  '0016_notify': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One alert sent to one webhook (src/notify/webhooks.ts). A row is written before the first
      // attempt, so a delivery still pending when Vigil stops is attempted again after the start.
      await sql`
        CREATE TABLE webhook_deliveries (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          webhook_id TEXT NOT NULL,                    -- notify.webhooks[].id
          alert_id INTEGER NOT NULL,                   -- alerts.id; 0 for the test button's alerts
          body TEXT NOT NULL,                          -- the exact JSON POSTed, the same at every attempt
          attempt_count INTEGER NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
          state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
          last_status INTEGER,                         -- HTTP status of the last answer; NULL: none came
          last_error TEXT,                             -- what went wrong last, in words
          next_attempt_at_ms INTEGER,                  -- UTC ms the next attempt is due; NULL once final
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      await sql`CREATE INDEX webhook_deliveries_by_state ON webhook_deliveries (state, next_attempt_at_ms)`.execute(
        db,
      );
      // A browser's Web Push subscription (RFC 8030), owned by the user signed in when it was made.
      await sql`
        CREATE TABLE push_subscriptions (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          endpoint TEXT NOT NULL UNIQUE,               -- the push service's URL for this browser (https)
          p256dh TEXT NOT NULL,                        -- the browser's ECDH P-256 public key, base64url
          auth TEXT NOT NULL,                          -- the browser's 16-byte auth secret, base64url
          label TEXT NOT NULL,                         -- what the user calls the browser
          created_at_ms INTEGER NOT NULL
        ) STRICT`.execute(db);
      await sql`CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id)`.execute(db);
    },
  },
  '0017_event_zones': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The zones of each event as rows, so a zone filter finds its events from an index instead
      // of reading zones_json of every newer event (src/events/store.ts). Triggers keep it in step
      // with zones_json whoever writes the event; deleting the event deletes its rows.
      await sql`
        CREATE TABLE event_zones (
          zone TEXT NOT NULL,                          -- a zone name, as in events.zones_json
          event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
          PRIMARY KEY (zone, event_id)
        ) STRICT, WITHOUT ROWID`.execute(db);
      await sql`CREATE INDEX event_zones_by_event ON event_zones (event_id)`.execute(db);
      await sql`
        CREATE TRIGGER event_zones_on_insert AFTER INSERT ON events BEGIN
          INSERT OR IGNORE INTO event_zones (zone, event_id)
            SELECT value, NEW.id FROM json_each(NEW.zones_json) WHERE type = 'text';
        END`.execute(db);
      // Events are saved many times while they last; only a change of zones touches the rows.
      await sql`
        CREATE TRIGGER event_zones_on_update AFTER UPDATE OF zones_json ON events
        WHEN OLD.zones_json IS NOT NEW.zones_json BEGIN
          DELETE FROM event_zones WHERE event_id = NEW.id;
          INSERT OR IGNORE INTO event_zones (zone, event_id)
            SELECT value, NEW.id FROM json_each(NEW.zones_json) WHERE type = 'text';
        END`.execute(db);
      await sql`
        INSERT OR IGNORE INTO event_zones (zone, event_id)
          SELECT value, events.id FROM events, json_each(events.zones_json) WHERE type = 'text'`.execute(db);
    },
  },
  '0018_camera_events': {
    async up(db: Kysely<unknown>): Promise<void> {
      // What a camera reported about itself (ONVIF PullPoint) other than motion, for the timeline.
      await sql`
        CREATE TABLE camera_events (
          id INTEGER PRIMARY KEY,
          camera_id TEXT NOT NULL,
          kind TEXT NOT NULL,                          -- tamper, line-crossing, digital-input, other
          topic TEXT NOT NULL,                         -- the ONVIF topic without prefixes
          active INTEGER NOT NULL CHECK (active IN (0, 1)), -- the condition started (1) or ended (0)
          source_json TEXT NOT NULL,                   -- the event's source items, e.g. {"InputToken":"1"}
          time_ms INTEGER NOT NULL                     -- UTC ms, the camera's time corrected by its clock offset
        ) STRICT`.execute(db);
      await sql`CREATE INDEX camera_events_by_time ON camera_events (camera_id, time_ms)`.execute(db);
    },
  },
};
