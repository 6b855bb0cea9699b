/**
 * Alerts: an event that matched a rule and is put in front of a person. The rules engine makes
 * them; webhooks and Web Push deliver them (docs/ref/webhooks.md).
 */

/** One alert as rules hand it to delivery, and as a webhook receives it (plus `vigil`). */
export interface AlertView {
  /** Unique per alert: receivers de-duplicate retried deliveries on it. */
  id: string;
  ruleId: string;
  ruleName: string;
  cameraId: string;
  /** The event that matched, when the rule matched one. */
  eventId: number | null;
  /** What happened, e.g. `zone.enter`, `line.cross`, `camera.offline`, `test`. */
  kind: string;
  /** One line for a person, e.g. "Person entered Driveway on Front door". */
  summary: string;
  timeMs: number;
  /** A path on this Vigil (`/api/events/…/snapshot.jpg`): needs a session or token with `events.view`. */
  snapshotUrl: string | null;
  clipUrl: string | null;
}
