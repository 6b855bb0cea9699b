/**
 * Webhook deliveries (GET /api/notify/deliveries, POST /api/notify/webhooks/:id/test) and Web
 * Push subscriptions (/api/push/…), and what a webhook and the service worker receive.
 */
import type { AlertView } from './alerts.js';

/**
 * The alert a webhook receives (docs/ref/webhooks.md), with who sent it. Without `reviewed`, which
 * is one user's mark; `kind` is `test` and `id` 0 for the test button's alert.
 */
export type WebhookAlert = Omit<AlertView, 'kind' | 'reviewed'> & {
  kind: AlertView['kind'] | 'test';
};

export interface WebhookBody extends WebhookAlert {
  vigil: { version: string; site: string };
}

/** A configured webhook (notify.webhooks) as administrators see it: never its secret or full URL. */
export interface WebhookView {
  id: string;
  /** Scheme, host and port of its URL (the path and query may hold a token). */
  origin: string;
  timeoutMs: number;
}

export interface WebhookList {
  webhooks: WebhookView[];
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

/** One alert sent to one webhook, with its attempts so far. */
export interface WebhookDeliveryView {
  id: number;
  webhookId: string;
  /** AlertView.id; 0 for the test button's alert. */
  alertId: number;
  attemptCount: number;
  state: WebhookDeliveryState;
  /** HTTP status of the last answer; null when there was none (timeout, refused connection). */
  lastStatus: number | null;
  /** What went wrong the last time, in words; null after success. */
  lastError: string | null;
  /** When the next attempt is due (pending only). */
  nextAttemptAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface WebhookDeliveryList {
  /** Newest first. */
  deliveries: WebhookDeliveryView[];
}

/** The VAPID public key browsers subscribe with (applicationServerKey). */
export interface PushKeyResponse {
  /** Uncompressed P-256 point, base64url (65 bytes). */
  publicKey: string;
}

/** A browser's push subscription as PushSubscription.toJSON() gives it, with a label. */
export interface PushSubscriptionBody {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** What the user calls this browser or phone, e.g. "Phone". */
  label?: string;
}

export interface PushSubscriptionView {
  id: number;
  endpoint: string;
  label: string;
  createdAtMs: number;
}

export interface PushSubscriptionList {
  subscriptions: PushSubscriptionView[];
}

/** The JSON a push message carries to the service worker (encrypted; no image in it). */
export interface PushPayload {
  title: string;
  body: string;
  cameraId: string;
  alertId: number;
  eventId: number | null;
  timeMs: number;
  /** The page to open on click, relative to Vigil's origin. */
  url: string;
  /** Fetched by the browser with the user's session when shown; null when the alert has none. */
  snapshotUrl: string | null;
}
