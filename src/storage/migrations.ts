import { sql, type Kysely, type Migration } from 'kysely';

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
};
