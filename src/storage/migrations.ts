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
};
