import type { Agent } from 'node:https';
import type { Logger } from 'pino';
import webpush from 'web-push';
import { can } from '../auth/permissions.js';
import { principalFor, type UserRecord } from '../auth/store.js';
import type { AlertView } from '../contract/alerts.js';
import { pushPayload } from './push-payload.js';
import type { PushStore, StoredSubscription } from './push-store.js';
import type { VapidKeys } from './vapid.js';

/** Messages being sent at once, over all subscriptions. */
const CONCURRENCY = 4;
/** Messages waiting beyond those: past this, new ones are dropped (and logged), not queued. */
const MAX_QUEUED = 1000;
/** How long the push service keeps a message for a browser that is offline: an alert goes stale. */
const TTL_S = 3600;
const TIMEOUT_MS = 10_000;

export interface PushSenderOptions {
  store: PushStore;
  keys: VapidKeys;
  /** The VAPID subject (notify.pushContact). */
  contact: string;
  getUser(id: number): Promise<UserRecord | undefined>;
  log: Logger;
  /** TLS settings towards push services (tests trust their own local service). */
  agent?: Agent;
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291), done by the
 * `web-push` package. An alert goes to each subscription whose user may see its camera's events
 * now (camera grants, role, disabled accounts all checked at send time); a subscription the push
 * service calls gone (404, 410) is deleted.
 */
export class PushSender {
  private readonly queue: Array<() => Promise<void>> = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly opts: PushSenderOptions) {}

  get publicKey(): string {
    return this.opts.keys.publicKey;
  }

  /** Sends the alert to everyone allowed to see it; returns once the messages are queued. */
  async push(alert: AlertView): Promise<void> {
    const payload = JSON.stringify(pushPayload(alert));
    const allowed = new Map<number, boolean>();
    for (const subscription of await this.opts.store.all()) {
      let may = allowed.get(subscription.userId);
      if (may === undefined) {
        may = this.userMaySee(await this.opts.getUser(subscription.userId), alert.cameraId);
        allowed.set(subscription.userId, may);
      }
      if (may) this.enqueue(() => this.send(subscription, payload));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await Promise.allSettled([...this.running]);
  }

  private userMaySee(user: UserRecord | undefined, cameraId: string): boolean {
    return user !== undefined && !user.disabled && can(principalFor(user), 'events.view', cameraId);
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.stopped) return;
    if (this.queue.length >= MAX_QUEUED) {
      this.opts.log.warn('push queue full: a notification was dropped');
      return;
    }
    this.queue.push(task);
    this.pump();
  }

  private pump(): void {
    while (this.running.size < CONCURRENCY && this.queue.length > 0) {
      const task = this.queue.shift() as () => Promise<void>;
      const run = task().finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async send(subscription: StoredSubscription, payload: string): Promise<void> {
    try {
      await webpush.sendNotification({ endpoint: subscription.endpoint, keys: subscription.keys }, payload, {
        vapidDetails: { subject: this.opts.contact, ...this.opts.keys },
        TTL: TTL_S,
        urgency: 'high',
        timeout: TIMEOUT_MS,
        ...(this.opts.agent ? { agent: this.opts.agent } : {}),
      });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 410) {
        await this.opts.store.forget(subscription.id);
        this.opts.log.info({ subscriptionId: subscription.id }, 'push subscription expired: deleted');
        return;
      }
      this.opts.log.warn(
        { subscriptionId: subscription.id, status, err: (err as Error).message },
        'a push notification was not delivered',
      );
    }
  }
}
