/**
 * Alerts: what a rule produced when its conditions held (GET /api/alerts, the /api/ws 'alert'
 * message, MQTT `<prefix>/alerts/<camera>`, webhooks and Web Push). Times are UTC milliseconds on
 * the recording timeline.
 */

/** The kind of condition that fired: one per rule condition type. */
export type AlertKind =
  'zone-entered' | 'zone-left' | 'intrusion' | 'loitering' | 'line-crossed' | 'crowding' | 'camera-health';

/** One alert as the API returns it. */
export interface AlertView {
  id: number;
  ruleId: string;
  /** The rule's name when the alert fired. */
  ruleName: string;
  cameraId: string;
  /** The event the alert is about; null for alerts about the camera itself (camera-health, crowding). */
  eventId: number | null;
  kind: AlertKind;
  /** In words, e.g. "person crossed Path (A→B)". */
  summary: string;
  timeMs: number;
  /** The event's snapshot, or a camera snapshot for camera alerts: GET, image/jpeg; null if none. */
  snapshotUrl: string | null;
  /** The recording around the alert: GET; null if none. */
  clipUrl: string | null;
  /** Whether the caller has marked it reviewed (per user). */
  reviewed: boolean;
}

/** GET /api/alerts */
export interface AlertsPage {
  /** Newest first (by time, then id). */
  alerts: AlertView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
  /** Alerts the caller has not reviewed, on the cameras they may see (for the nav badge). */
  unreviewedCount: number;
}

/** POST /api/alerts/review */
export interface AlertsReviewed {
  /** How many alerts were newly marked reviewed. */
  reviewedCount: number;
}
