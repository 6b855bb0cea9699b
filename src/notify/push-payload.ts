import type { AlertView } from '../contract/alerts.js';
import type { PushPayload } from '../contract/notify.js';

/** Push services take about 4 KB of payload; a summary is cut well before that. */
const MAX_TEXT = 500;

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/**
 * What the service worker gets for an alert: words and links, no image. The snapshot is a path
 * the browser fetches with the user's own session when it shows the notification, so the picture
 * never passes through the push service and stays behind the user's camera grants.
 */
export function pushPayload(alert: AlertView): PushPayload {
  const url =
    alert.eventId !== null
      ? `/#/events/${alert.eventId}`
      : `/#/events?camera=${encodeURIComponent(alert.cameraId)}`;
  return {
    title: cut(alert.ruleName),
    body: cut(alert.summary),
    cameraId: alert.cameraId,
    alertId: alert.id,
    eventId: alert.eventId,
    timeMs: alert.timeMs,
    url,
    snapshotUrl: alert.snapshotUrl,
  };
}
