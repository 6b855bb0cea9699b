/**
 * The one catalogue of errors Vigil reports. Codes are stable: scripts and the UI match on them,
 * and docs/ref/errors.md is checked against this list by a test.
 */
export const errorCatalogue = {
  CONFIG_INVALID: { httpStatus: 400, summary: 'The configuration does not match the schema.' },
  CONFIG_UNREADABLE: { httpStatus: 500, summary: 'The configuration file cannot be read or parsed.' },
  CONFIG_ENV_MISSING: {
    httpStatus: 400,
    summary: 'The configuration names an environment variable that is not set.',
  },
  BODY_TOO_LARGE: { httpStatus: 413, summary: 'The request body exceeds the size limit.' },
  REQUEST_INVALID: {
    httpStatus: 400,
    summary: 'The request is malformed: a parameter or body field is wrong.',
  },
  TIME_INVALID: { httpStatus: 400, summary: 'A time parameter is neither ISO-8601 nor epoch milliseconds.' },
  RANGE_INVALID: { httpStatus: 400, summary: 'A time range is empty, reversed or too long.' },
  CAMERA_NOT_FOUND: { httpStatus: 404, summary: 'No camera has this id.' },
  CAMERA_EXISTS: { httpStatus: 409, summary: 'A camera with this id exists already.' },
  CAMERA_FROM_CONFIG: {
    httpStatus: 409,
    summary: 'The camera is defined in the configuration file; change it there.',
  },
  CAMERA_PASSWORD_REQUIRED: {
    httpStatus: 400,
    summary: "The URL names another scheme, host or port than the stored one: send the camera's password.",
  },
  CAMERA_NETWORK_REFUSED: {
    httpStatus: 400,
    summary: 'The camera host resolves outside security.cameraNetworks (or cannot be resolved to check).',
  },
  PROBE_BUSY: {
    httpStatus: 429,
    summary: 'Two connection tests are running already; retry after the time given.',
  },
  STREAM_NOT_FOUND: { httpStatus: 404, summary: 'The camera has no stream of this name.' },
  ONVIF_UNREACHABLE: {
    httpStatus: 502,
    summary: 'The ONVIF device did not answer, or answered with something other than SOAP.',
  },
  ONVIF_AUTH_FAILED: {
    httpStatus: 400,
    summary:
      'The ONVIF device refused the user name or password (or its clock is too far off for the token).',
  },
  ONVIF_FAULT: { httpStatus: 502, summary: 'The ONVIF device answered the request with a SOAP fault.' },
  ONVIF_NOT_CONFIGURED: {
    httpStatus: 409,
    summary: 'The camera has no ONVIF address (`onvif.url`), or its device has no PTZ service.',
  },
  REDACTION_INVALID: {
    httpStatus: 400,
    summary: 'The redaction options are incomplete or contradict each other.',
  },
  REDACTION_FAILED: {
    httpStatus: 500,
    summary: 'ffmpeg could not decode or re-encode the video being redacted.',
  },
  NO_RECORDINGS: { httpStatus: 404, summary: 'Nothing was recorded in the requested range.' },
  SNAPSHOT_UNAVAILABLE: { httpStatus: 503, summary: 'The stream has not delivered a frame yet.' },
  MASKED_VIDEO_FAILED: {
    httpStatus: 503,
    summary: 'The video with privacy masks could not be made; the unmasked video is never sent instead.',
  },
  SEGMENT_NOT_FOUND: { httpStatus: 404, summary: 'No segment has this id.' },
  MEDIA_CORRUPT: { httpStatus: 500, summary: 'A stored media file is damaged and cannot be read.' },
  RANGE_NOT_SATISFIABLE: { httpStatus: 416, summary: 'The HTTP Range header lies outside the file.' },
  EVENT_NOT_FOUND: {
    httpStatus: 404,
    summary: 'No event has this id (it may have been deleted by retention).',
  },
  RULE_NOT_FOUND: { httpStatus: 404, summary: 'No rule has this id.' },
  RULE_EXISTS: {
    httpStatus: 409,
    summary: 'A rule with this id exists already (in the config file or the database).',
  },
  RULE_FROM_CONFIG: {
    httpStatus: 409,
    summary: 'The rule is defined in the configuration file; change it there.',
  },
  RULE_INVALID: {
    httpStatus: 400,
    summary:
      'The rule names an unknown camera, an empty time range, or a size filter whose minimum is above its maximum.',
  },
  ALERT_NOT_FOUND: { httpStatus: 404, summary: 'No alert has this id.' },
  EVIDENCE_LOCKED: {
    httpStatus: 409,
    summary:
      'Locked evidence covers this: unlock it first (unlocking needs a second person when approvals require it).',
  },
  EVIDENCE_LOCK_NOT_FOUND: { httpStatus: 404, summary: 'No evidence lock has this id.' },
  EVIDENCE_ONLY_LEFT: {
    httpStatus: 507,
    summary:
      'Recording stopped: storage is full and everything this camera could give back is locked evidence.',
  },
  APPROVAL_NOT_FOUND: { httpStatus: 404, summary: 'No approval request has this id.' },
  APPROVAL_NOT_PENDING: {
    httpStatus: 409,
    summary: 'The approval request was already approved, refused, cancelled, or it expired.',
  },
  APPROVAL_SELF: {
    httpStatus: 403,
    summary: 'A request must be approved by another user than the one who made it.',
  },
  SNAPSHOT_NOT_FOUND: { httpStatus: 404, summary: 'The event has no snapshot (yet).' },
  LIFT_NOT_FOUND: { httpStatus: 404, summary: 'No active privacy-mask lift has this id on this camera.' },
  LIFT_ACTIVE: {
    httpStatus: 409,
    summary: 'You have an active lift on this camera already; end it before starting another.',
  },
  NO_LIFTABLE_MASKS: { httpStatus: 409, summary: 'The camera has no liftable privacy masks to lift.' },
  NOT_FOUND: { httpStatus: 404, summary: 'No such route.' },
  PATH_NOT_CANONICAL: {
    httpStatus: 400,
    summary: 'The path is not spelled canonically (escapes, dot segments, //, ;, case); send it plainly.',
  },
  FFMPEG_NOT_FOUND: { httpStatus: 500, summary: 'No ffmpeg binary was found.' },
  STORAGE_UNAVAILABLE: { httpStatus: 500, summary: 'The storage folder cannot be written.' },
  BACKUP_INVALID: {
    httpStatus: 400,
    summary:
      'The backup is incomplete or was changed since it was made (a file is missing or its checksum differs).',
  },
  BACKUP_TOO_NEW: {
    httpStatus: 400,
    summary: 'The backup was made by a newer Vigil whose database this version cannot read; upgrade first.',
  },
  AUTH_REQUIRED: {
    httpStatus: 401,
    summary: 'Sign in first, or send an API token as Authorization: Bearer TOKEN.',
  },
  AUTH_FAILED: { httpStatus: 401, summary: 'The user name, password or one-time code is wrong.' },
  TOTP_REQUIRED: {
    httpStatus: 401,
    summary: 'The password is right; now send the 6-digit code from the authenticator app.',
  },
  LOGIN_THROTTLED: { httpStatus: 429, summary: 'Too many failed sign-ins; wait the time given, then retry.' },
  AUTH_BUSY: {
    httpStatus: 503,
    summary: 'Too many sign-ins are being checked at once; wait the time given (Retry-After), then retry.',
  },
  HOST_NOT_ALLOWED: {
    httpStatus: 403,
    summary:
      "Setup and sign-in answer only to this Vigil's own host names; add the name to server.allowedHosts.",
  },
  TALK_UNAVAILABLE: {
    httpStatus: 502,
    summary: 'The camera has no audio backchannel Vigil can use (ONVIF, G.711), or it refused or dropped it.',
  },
  FORBIDDEN: {
    httpStatus: 403,
    summary: 'Your role or camera grants do not allow this; ask an administrator.',
  },
  CSRF_INVALID: {
    httpStatus: 403,
    summary: 'The request lacks the CSRF token of your session; reload the page and retry.',
  },
  PASSWORD_WEAK: { httpStatus: 400, summary: 'The password is too short, too common or too simple.' },
  USER_NOT_FOUND: { httpStatus: 404, summary: 'No user has this name.' },
  USER_EXISTS: { httpStatus: 409, summary: 'A user with this name exists already.' },
  LAST_ADMIN: {
    httpStatus: 409,
    summary: 'This would leave no enabled administrator; make another user admin first.',
  },
  SETUP_COMPLETE: { httpStatus: 409, summary: 'The first administrator exists already; sign in instead.' },
  TOKEN_NOT_FOUND: { httpStatus: 404, summary: 'No API token has this id.' },
  SECRET_KEY_INVALID: {
    httpStatus: 500,
    summary:
      'The secret key file is unreadable, damaged, or not the one the stored secrets were encrypted with.',
  },
  SIGNING_KEY_INVALID: {
    httpStatus: 500,
    summary: 'The export signing key file is unreadable or damaged; restore it from a backup.',
  },
  EXPORT_NOT_FOUND: { httpStatus: 404, summary: 'No export bundle has this id (or its file was removed).' },
  EXPORT_TOO_LARGE: {
    httpStatus: 413,
    summary: 'The export bundle would exceed its size limit or the free space; export a shorter range.',
  },
  EXPORT_FAILED: { httpStatus: 500, summary: 'Building the export bundle failed; the log has details.' },
  SHARE_NOT_FOUND: {
    httpStatus: 404,
    summary: 'The share link is unknown or its token is wrong; ask the sender for the link again.',
  },
  SHARE_EXPIRED: { httpStatus: 410, summary: 'The share link has expired; ask the sender for a new one.' },
  SHARE_REVOKED: { httpStatus: 410, summary: 'The share link was revoked; ask the sender for a new one.' },
  BUNDLE_INVALID: {
    httpStatus: 400,
    summary: 'The file is not a Vigil export bundle (a zip or folder with manifest, signature, key, video).',
  },
  WEBHOOK_NOT_FOUND: { httpStatus: 404, summary: 'No webhook has this id in notify.webhooks.' },
  PUSH_SUBSCRIPTION_NOT_FOUND: {
    httpStatus: 404,
    summary: 'You have no push subscription with this id (it may have expired at the push service).',
  },
  PUSH_KEY_INVALID: {
    httpStatus: 500,
    summary:
      'The Web Push (VAPID) key file is damaged; restore it from a backup or delete it to make a new one.',
  },
  TLS_INVALID: {
    httpStatus: 500,
    summary: 'TLS cannot start: the certificate or key is unreadable or mismatched, or openssl is missing.',
  },
  INTERNAL: { httpStatus: 500, summary: 'An unexpected error; the log has details.' },
} as const satisfies Record<string, { httpStatus: number; summary: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error a user can act on: a stable code, a message saying what is wrong and how to fix it. */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'VigilError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return errorCatalogue[this.code].httpStatus;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
}
