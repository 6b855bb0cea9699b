import type { Generated } from 'kysely';

/** Tables as Kysely sees them; the SQL with a comment on every column is in migrations.ts. */
export interface SegmentTable {
  id: Generated<number>;
  camera_id: string;
  stream: string;
  state: 'open' | 'closed';
  timeline_id: number;
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
  crop_region_json: string | null;
  clip_start_ms: number;
  clip_end_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
}

/** One zone an event touched; kept by triggers from events.zones_json (migration 0017). */
export interface EventZoneTable {
  zone: string;
  event_id: number;
}

/** A camera's own event (ONVIF), other than motion: migration 0018. */
export interface CameraEventTable {
  id: Generated<number>;
  camera_id: string;
  kind: string;
  topic: string;
  active: number;
  source_json: string;
  time_ms: number;
}

export interface MotionPeriodTable {
  id: Generated<number>;
  camera_id: string;
  start_time_ms: number;
  end_time_ms: number;
  max_score: number;
}

export interface UserTable {
  id: Generated<number>;
  name: string;
  role: 'admin' | 'operator' | 'viewer' | 'auditor';
  password_hash: string;
  password_changed_at_ms: number;
  totp_secret: string | null;
  totp_last_step: number | null;
  all_cameras: Generated<0 | 1>;
  disabled: Generated<0 | 1>;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface UserCameraTable {
  user_id: number;
  camera_id: string;
}

export interface LoginSessionTable {
  id_hash: string;
  user_id: number;
  created_at_ms: number;
  last_seen_at_ms: number;
  expires_at_ms: number;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokenTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  label: string;
  scopes_json: string;
  created_at_ms: number;
  last_used_at_ms: number | null;
  expires_at_ms: number | null;
  revoked_at_ms: number | null;
}

export interface AuditLogTable {
  seq: number;
  time_ms: number;
  actor_kind: 'user' | 'token' | 'system' | 'anonymous';
  actor: string;
  token_id: number | null;
  action: string;
  target: string | null;
  details_json: string;
  ip: string | null;
  prev_hash: string;
  hash: string;
}

export interface PrivacyLiftTable {
  id: Generated<number>;
  camera_id: string;
  user_id: number;
  user_name: string;
  reason: string;
  started_at_ms: number;
  expires_at_ms: number;
  ended_at_ms: number | null;
  ended_by: string | null;
}

export interface AuditCheckpointTable {
  id: number;
  seq: number;
  hash: string;
  time_ms: number;
  deleted_count: number;
  created_at_ms: number;
  signature: string | null;
}

export interface EvidenceLockTable {
  id: Generated<number>;
  camera_id: string;
  event_id: number | null;
  start_time_ms: number;
  end_time_ms: number;
  reason: string;
  expires_at_ms: number | null;
  created_by: string;
  created_at_ms: number;
  unlocked_by: string | null;
  unlocked_at_ms: number | null;
}

export type ApprovalState = 'pending' | 'approved' | 'refused' | 'cancelled' | 'expired' | 'failed';

export interface ApprovalRequestTable {
  id: Generated<number>;
  kind: string;
  camera_id: string | null;
  params_json: string;
  summary: string;
  reason: string;
  state: ApprovalState;
  requested_by_id: number;
  requested_by: string;
  requested_at_ms: number;
  expires_at_ms: number;
  decided_by: string | null;
  decided_at_ms: number | null;
  decision_reason: string | null;
  result_json: string | null;
}

export interface ExportBundleTable {
  id: Generated<number>;
  camera_id: string;
  stream: string;
  from_ms: number;
  to_ms: number;
  user_id: number | null;
  user_name: string;
  reason: string;
  created_at_ms: number;
  path: string;
  byte_length: number;
  sha256: string;
  manifest_json: string;
  deleted_at_ms: number | null;
}

export interface ExportShareTable {
  id: Generated<number>;
  export_id: number;
  token_hash: string;
  recipient: string;
  created_by: string;
  created_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
  download_count: Generated<number>;
  last_download_at_ms: number | null;
}

export interface RuleTable {
  id: string;
  definition_json: string;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: string;
  alert_id: number;
  body: string;
  attempt_count: Generated<number>;
  state: 'pending' | 'delivered' | 'failed';
  last_status: number | null;
  last_error: string | null;
  next_attempt_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface AlertTable {
  id: Generated<number>;
  rule_id: string;
  rule_name: string;
  camera_id: string;
  event_id: number | null;
  kind: string;
  summary: string;
  time_ms: number;
  snapshot_path: string | null;
  clip_start_ms: number;
  clip_end_ms: number;
  created_at_ms: number;
}

export interface AlertReviewTable {
  alert_id: number;
  user_id: number;
  reviewed_at_ms: number;
}

export interface PushSubscriptionTable {
  id: Generated<number>;
  user_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
  label: string;
  created_at_ms: number;
}

export interface SceneCountTable {
  camera_id: string;
  kind: 'line' | 'zone';
  target_id: string;
  label: string;
  direction: string;
  bucket_start_ms: number;
  count: number;
  max_occupancy: number;
}

export interface DatabaseSchema {
  segments: SegmentTable;
  garbage: GarbageTable;
  retention_holds: RetentionHoldTable;
  cameras: CameraTable;
  events: EventTable;
  event_zones: EventZoneTable;
  motion_periods: MotionPeriodTable;
  camera_events: CameraEventTable;
  users: UserTable;
  user_cameras: UserCameraTable;
  login_sessions: LoginSessionTable;
  api_tokens: ApiTokenTable;
  audit_log: AuditLogTable;
  audit_checkpoint: AuditCheckpointTable;
  privacy_lifts: PrivacyLiftTable;
  evidence_locks: EvidenceLockTable;
  approval_requests: ApprovalRequestTable;
  export_bundles: ExportBundleTable;
  export_shares: ExportShareTable;
  rules: RuleTable;
  alerts: AlertTable;
  alert_reviews: AlertReviewTable;
  webhook_deliveries: WebhookDeliveryTable;
  push_subscriptions: PushSubscriptionTable;
  scene_counts: SceneCountTable;
}
