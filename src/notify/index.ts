import type { Agent } from 'node:https';
import type { Logger } from 'pino';
import type { UserRecord } from '../auth/store.js';
import type { NotifyConfig } from '../config/index.js';
import type { AlertView } from '../contract/alerts.js';
import type { Db } from '../storage/db.js';
import type { Clock } from '../time/clock.js';
import { DeliveryStore } from './delivery-store.js';
import { PushSender } from './push.js';
import { PushStore } from './push-store.js';
import { loadOrCreateVapidKeys, vapidKeyPath } from './vapid.js';
import { WebhookSender } from './webhooks.js';

/** What the rules engine calls when a rule's action is `webhook` or `push`: returns at once, never throws. */
export interface AlertDelivery {
  webhook(webhookId: string, alert: AlertView): void;
  push(alert: AlertView): void;
}

export interface NotifyServices extends AlertDelivery {
  webhooks: WebhookSender;
  deliveries: DeliveryStore;
  pushSender: PushSender;
  subscriptions: PushStore;
  stop(): Promise<void>;
  /** The same as stop(), under the name the brief's AlertDelivery users know. */
  close(): Promise<void>;
}

export interface StartNotifyOptions {
  db: Db;
  storageRoot: string;
  config: NotifyConfig;
  /** site.name and Vigil's version: `vigil` in every webhook body. */
  site: string;
  version: string;
  clock: Clock;
  log: Logger;
  getUser(id: number): Promise<UserRecord | undefined>;
  /** The first webhook retry's wait (tests shorten it). */
  webhookRetryBaseMs?: number;
  /** TLS settings towards push services (tests trust their own local one). */
  pushAgent?: Agent;
}

/**
 * Alert delivery: webhooks (signed POSTs with retries and a delivery log that outlives a restart)
 * and Web Push to the browsers users enabled. The VAPID keys are made at the first start.
 */
export async function startNotify(options: StartNotifyOptions): Promise<NotifyServices> {
  const log = options.log.child({ component: 'notify' });
  const vapid = await loadOrCreateVapidKeys(vapidKeyPath(options.storageRoot));
  if (vapid.created) log.info('created the Web Push (VAPID) keys: back them up with the secret key');
  if (vapid.permissionsTightened) log.warn('the Web Push key file was readable by others; it is now 0600');
  const deliveries = new DeliveryStore(options.db);
  const webhooks = new WebhookSender({
    webhooks: options.config.webhooks,
    store: deliveries,
    clock: options.clock,
    log,
    version: options.version,
    site: options.site,
    ...(options.webhookRetryBaseMs !== undefined ? { retryBaseMs: options.webhookRetryBaseMs } : {}),
  });
  await webhooks.start();
  const subscriptions = new PushStore(options.db);
  const pushSender = new PushSender({
    store: subscriptions,
    keys: vapid.keys,
    contact: options.config.pushContact,
    getUser: options.getUser,
    log,
    ...(options.pushAgent ? { agent: options.pushAgent } : {}),
  });
  const stop = async () => {
    await webhooks.stop();
    await pushSender.stop();
  };
  return {
    webhooks,
    deliveries,
    pushSender,
    subscriptions,
    webhook: (webhookId, alert) => {
      webhooks
        .enqueue(webhookId, alert)
        .catch((err: unknown) =>
          log.error({ err, webhookId, alertId: alert.id }, 'webhook delivery not queued'),
        );
    },
    push: (alert) => {
      pushSender.push(alert).catch((err: unknown) => log.error({ err, alertId: alert.id }, 'push not sent'));
    },
    stop,
    close: stop,
  };
}
