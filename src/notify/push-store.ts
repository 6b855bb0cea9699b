import type { PushSubscriptionBody, PushSubscriptionView } from '../contract/notify.js';
import { VigilError } from '../errors/catalogue.js';
import type { Db } from '../storage/db.js';

/**
 * Browsers one user may have notified: more than anyone carries, few enough that a script
 * subscribing endpoints in a loop cannot make every alert cost thousands of requests.
 */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

/** A subscription as the sender needs it. */
export interface StoredSubscription {
  id: number;
  userId: number;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

function invalid(message: string): VigilError {
  return new VigilError(
    'REQUEST_INVALID',
    `${message}; send PushSubscription.toJSON() as the browser gives it`,
  );
}

/**
 * What a browser sends is checked before it is kept: the endpoint is where Vigil will POST, so
 * only https URLs (every browser's push service) are taken, and the keys must be a P-256 point
 * and a 16-byte secret, or encryption would fail at every alert.
 */
export function checkSubscription(body: PushSubscriptionBody): void {
  let url: URL;
  try {
    url = new URL(body.endpoint);
  } catch {
    throw invalid('the endpoint is not a URL');
  }
  if (url.protocol !== 'https:') throw invalid('the endpoint must be an https:// URL of a push service');
  if (url.username !== '' || url.password !== '')
    throw invalid('the endpoint may not carry a user or password');
  const p256dh = Buffer.from(body.keys.p256dh, 'base64url');
  if (p256dh.length !== 65 || p256dh[0] !== 0x04)
    throw invalid('keys.p256dh is not an uncompressed P-256 point');
  if (Buffer.from(body.keys.auth, 'base64url').length !== 16) throw invalid('keys.auth is not 16 bytes');
}

/** Browsers' push subscriptions (push_subscriptions), each owned by one user. */
export class PushStore {
  constructor(private readonly db: Db) {}

  /**
   * Keeps the subscription for the user. The same endpoint again (the browser subscribed anew,
   * or another person signed in on it) replaces the old row: a browser gets an alert once, and
   * only for whoever enabled notifications on it last. Past MAX_SUBSCRIPTIONS_PER_USER the user's
   * oldest subscription goes (likely a browser long gone).
   */
  async subscribe(userId: number, body: PushSubscriptionBody, nowMs: number): Promise<PushSubscriptionView> {
    checkSubscription(body);
    const label = (body.label ?? '').trim().slice(0, 100) || 'Browser';
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('push_subscriptions').where('endpoint', '=', body.endpoint).execute();
      const row = await trx
        .insertInto('push_subscriptions')
        .values({
          user_id: userId,
          endpoint: body.endpoint,
          p256dh: body.keys.p256dh,
          auth: body.keys.auth,
          label,
          created_at_ms: nowMs,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const kept = trx
        .selectFrom('push_subscriptions')
        .select('id')
        .where('user_id', '=', userId)
        .orderBy('id', 'desc')
        .limit(MAX_SUBSCRIPTIONS_PER_USER);
      await trx
        .deleteFrom('push_subscriptions')
        .where('user_id', '=', userId)
        .where('id', 'not in', kept)
        .execute();
      return { id: row.id, endpoint: body.endpoint, label, createdAtMs: nowMs };
    });
  }

  async listFor(userId: number): Promise<PushSubscriptionView[]> {
    const rows = await this.db
      .selectFrom('push_subscriptions')
      .select(['id', 'endpoint', 'label', 'created_at_ms'])
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      endpoint: r.endpoint,
      label: r.label,
      createdAtMs: r.created_at_ms,
    }));
  }

  async all(): Promise<StoredSubscription[]> {
    const rows = await this.db.selectFrom('push_subscriptions').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      endpoint: r.endpoint,
      keys: { p256dh: r.p256dh, auth: r.auth },
    }));
  }

  /** Deletes one of the user's subscriptions; another user's is "not found". */
  async unsubscribe(userId: number, id: number): Promise<void> {
    const result = await this.db
      .deleteFrom('push_subscriptions')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) {
      throw new VigilError('PUSH_SUBSCRIPTION_NOT_FOUND', `you have no push subscription ${id}`);
    }
  }

  /** The push service said the subscription is gone (404/410). */
  async forget(id: number): Promise<void> {
    await this.db.deleteFrom('push_subscriptions').where('id', '=', id).execute();
  }
}
