/**
 * What the audit log records. Dotted names, subject first, so a filter on 'login' finds
 * 'login.success', 'login.failure' and 'login.lockout'.
 */
export const AUDIT_ACTIONS = [
  'setup.first-admin', // the first administrator was created (first run)
  'login.success',
  'login.failure', // details.reason: 'wrong-password', 'unknown-user', 'disabled', 'totp-invalid', 'totp-replayed'
  'login.lockout', // throttling reached its cap for an account or an address
  'logout',
  'logout.everywhere',
  'user.create',
  'user.update', // role, disabled, camera grants: details.before / details.after
  'user.delete',
  'user.password',
  'user.totp.enable',
  'user.totp.disable',
  'token.create',
  'token.revoke',
  'config.change',
  'camera.create',
  'camera.update',
  'camera.delete',
  'rule.create', // target rule; details.rule (the definition)
  'rule.update', // target rule; details.rule
  'rule.delete', // target rule
  'live.start', // target camera; details.stream, details.via (mse, webrtc or hls)
  'live.stop', // details.durationMs
  'talk.start', // target camera; details.codec (what the camera asked for)
  'talk.stop', // target camera; details.durationMs, details.reason
  'playback.view', // target camera; details.fromMs, details.toMs, details.stream
  'export.create', // target camera; details.fromMs, details.toMs (details.eventId for an event clip)
  'export.bundle', // a signed export bundle was built: target export; details: camera, range, reason, sha256
  'export.download', // a bundle was downloaded by a user: target export
  'export.share', // a share link was made: target export; details.recipient, details.expiresAtMs
  'export.share.revoke', // target export; details.shareId, details.recipient
  'export.delete', // a bundle file removed: target export; details.cause (user | retention), details.sha256
  'export.share.download', // a bundle fetched through a share link (no account): details.recipient, ip
  'snapshot.view', // target camera; details.stream (a live picture) or details.eventId (an event's)
  'event.delete', // target event; details.cameraId
  'privacy.lift.start', // target camera; details.liftId, details.reason, details.durationMs, details.expiresAtMs
  'privacy.lift.end', // ended early; details.liftId, details.user (whose lift), details.remainingMs
  'privacy.lift.expire', // its time ran out (actor system); details.liftId, details.user, details.expiresAtMs
  'evidence.lock', // target evidence lock; details.cameraId, fromMs, toMs, eventId, reason, expiresAtMs
  'evidence.unlock', // target evidence lock; details.cameraId, requestedBy (the approved requester)
  'recordings.delete', // target camera; details.fromMs, toMs, segmentCount, keptLockedCount
  'approval.request', // target approval; details.kind, cameraId, reason, summary
  'approval.approve', // target approval; details.kind, requestedBy, outcome ('executed' or 'failed')
  'approval.refuse', // target approval; details.kind, requestedBy, reason
  'approval.cancel', // target approval; details.kind
  'approval.expire', // target approval; details.kind, requestedBy (the system expired it)
  'ptz.move', // target camera; details.pan, tilt, zoom (the first move of a few minutes: merged per user and camera)
  'ptz.home', // target camera
  'ptz.preset.goto', // target camera; details.preset
  'ptz.preset.set', // target camera; details.preset, details.name
  'ptz.preset.remove', // target camera; details.preset
  'audit.export', // someone exported the audit log (details: the filter)
  'audit.retention', // retention deleted old entries (details: throughSeq, deletedCount)
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Who did it. 'anonymous' is a request with no valid identity, e.g. a sign-in with an unknown
 * user name: the typed name is not recorded, because people type their password into the name
 * field, and the log must not keep passwords.
 */
export type AuditActor =
  | { kind: 'user'; name: string }
  | { kind: 'token'; name: string; tokenId: number }
  | { kind: 'system' }
  | { kind: 'anonymous' };

export const SYSTEM_ACTOR: AuditActor = { kind: 'system' };
export const ANONYMOUS_ACTOR: AuditActor = { kind: 'anonymous' };

/**
 * What the log needs of a signed-in caller (auth's Principal has these fields): declared here so
 * that the audit log depends on nothing above it.
 */
export interface AuditedCaller {
  name: string;
  via: 'session' | 'token';
  tokenId: number | null;
}

/** The actor of a request's principal. */
export function actorOf(principal: AuditedCaller): AuditActor {
  return principal.via === 'token' && principal.tokenId !== null
    ? { kind: 'token', name: principal.name, tokenId: principal.tokenId }
    : { kind: 'user', name: principal.name };
}

/** Target strings: kind, colon, id. */
export const auditTarget = {
  camera: (cameraId: string): string => `camera:${cameraId}`,
  user: (name: string): string => `user:${name}`,
  token: (tokenId: number): string => `token:${tokenId}`,
  event: (eventId: number): string => `event:${eventId}`,
  export: (exportId: number): string => `export:${exportId}`,
  config: (path: string): string => `config:${path}`,
  evidence: (lockId: number): string => `evidence:${lockId}`,
  approval: (requestId: number): string => `approval:${requestId}`,
  rule: (ruleId: string): string => `rule:${ruleId}`,
};

/** Who asked for a change, as the audit log records them: the actor and their address. */
export interface AuditRequester {
  actor: AuditActor;
  ip: string | null;
}

/** One entry as appended. */
export interface AuditInput {
  actor: AuditActor;
  action: AuditAction;
  target?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
}

/** One stored entry. */
export interface AuditEntry {
  seq: number;
  timeMs: number;
  actor: AuditActor;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  /** The details exactly as stored and hashed. */
  detailsJson: string;
  ip: string | null;
  prevHash: string;
  hash: string;
}

/** The stored columns of an entry (the hash's input, plus the hash). */
export interface AuditRow {
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

export function actorColumns(actor: AuditActor): Pick<AuditRow, 'actor_kind' | 'actor' | 'token_id'> {
  switch (actor.kind) {
    case 'user':
      return { actor_kind: 'user', actor: actor.name, token_id: null };
    case 'token':
      return { actor_kind: 'token', actor: actor.name, token_id: actor.tokenId };
    case 'system':
      return { actor_kind: 'system', actor: 'system', token_id: null };
    case 'anonymous':
      return { actor_kind: 'anonymous', actor: '-', token_id: null };
  }
}

export function entryFromRow(row: AuditRow): AuditEntry {
  const actor: AuditActor =
    row.actor_kind === 'user'
      ? { kind: 'user', name: row.actor }
      : row.actor_kind === 'token'
        ? { kind: 'token', name: row.actor, tokenId: row.token_id ?? 0 }
        : row.actor_kind === 'system'
          ? SYSTEM_ACTOR
          : ANONYMOUS_ACTOR;
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(row.details_json) as Record<string, unknown>;
  } catch {
    // An edited entry may hold anything; verify() reports it, reading must not fail on it.
    details = { unreadable: row.details_json };
  }
  return {
    seq: row.seq,
    timeMs: row.time_ms,
    actor,
    action: row.action,
    target: row.target,
    details,
    detailsJson: row.details_json,
    ip: row.ip,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
