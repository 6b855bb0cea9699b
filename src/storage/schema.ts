import type { Generated } from 'kysely';

/** Tables as Kysely sees them; the SQL with a comment on every column is in migrations.ts. */
export interface SegmentTable {
  id: Generated<number>;
  camera_id: string;
  stream: string;
  state: 'open' | 'closed';
  session_id: number;
  start_time_ms: number;
  end_time_ms: number;
  duration_ms: number;
  byte_length: number;
  frame_count: number;
  keyframe_count: number;
  codec: string;
  width: number | null;
  height: number | null;
  timescale: number;
  start_ticks: number;
  path: string;
}

export interface GarbageTable {
  path: string;
  reason: string;
  queued_at_ms: number;
}

export interface RetentionHoldTable {
  id: Generated<number>;
  camera_id: string | null;
  start_time_ms: number;
  end_time_ms: number;
  until_ms: number | null;
  kind: string;
  reason: string;
  created_at_ms: number;
}

export interface CameraTable {
  id: string;
  config_json: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface EventTable {
  id: Generated<number>;
  camera_id: string;
  label: string;
  track_id: number;
  start_time_ms: number;
  end_time_ms: number | null;
  max_score: number;
  box_json: string;
  path_json: string;
  zones_json: string;
  snapshot_path: string | null;
  crop_path: string | null;
  snapshot_time_ms: number | null;
  clip_start_ms: number;
  clip_end_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface MotionPeriodTable {
  id: Generated<number>;
  camera_id: string;
  start_time_ms: number;
  end_time_ms: number;
  max_score: number;
}

export interface DatabaseSchema {
  segments: SegmentTable;
  garbage: GarbageTable;
  retention_holds: RetentionHoldTable;
  cameras: CameraTable;
  events: EventTable;
  motion_periods: MotionPeriodTable;
}
