import type { Selectable } from 'kysely';
import type { WebhookDeliveryState, WebhookDeliveryView } from '../contract/notify.js';
import type { Db } from '../storage/db.js';
import type { WebhookDeliveryTable } from '../storage/schema.js';

type Row = Selectable<WebhookDeliveryTable>;

/** A delivery as the sender works on it: the view plus the exact body to POST. */
export interface PendingDelivery {
  id: number;
  webhookId: string;
  body: string;
  attemptCount: number;
  nextAttemptAtMs: number;
}

function view(row: Row): WebhookDeliveryView {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    alertId: row.alert_id,
    attemptCount: row.attempt_count,
    state: row.state,
    lastStatus: row.last_status,
    lastError: row.last_error,
    nextAttemptAtMs: row.next_attempt_at_ms,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

/** The delivery log (webhook_deliveries): one row per alert and webhook, updated after each attempt. */
export class DeliveryStore {
  constructor(private readonly db: Db) {}

  async create(input: {
    webhookId: string;
    alertId: number;
    body: string;
    nowMs: number;
  }): Promise<PendingDelivery> {
    const row = await this.db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: input.webhookId,
        alert_id: input.alertId,
        body: input.body,
        state: 'pending',
        last_status: null,
        last_error: null,
        next_attempt_at_ms: input.nowMs,
        created_at_ms: input.nowMs,
        updated_at_ms: input.nowMs,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return {
      id: row.id,
      webhookId: input.webhookId,
      body: input.body,
      attemptCount: 0,
      nextAttemptAtMs: input.nowMs,
    };
  }

  /** Records one attempt: still pending with its next time, or final. */
  async recordAttempt(
    id: number,
    change: {
      attemptCount: number;
      state: WebhookDeliveryState;
      lastStatus: number | null;
      lastError: string | null;
      nextAttemptAtMs: number | null;
      nowMs: number;
    },
  ): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        attempt_count: change.attemptCount,
        state: change.state,
        last_status: change.lastStatus,
        last_error: change.lastError,
        next_attempt_at_ms: change.nextAttemptAtMs,
        updated_at_ms: change.nowMs,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Deliveries still to attempt, e.g. those a stop interrupted. */
  async pending(): Promise<PendingDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('state', '=', 'pending')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      webhookId: row.webhook_id,
      body: row.body,
      attemptCount: row.attempt_count,
      nextAttemptAtMs: row.next_attempt_at_ms ?? row.updated_at_ms,
    }));
  }

  async get(id: number): Promise<WebhookDeliveryView | undefined> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? view(row) : undefined;
  }

  /** Newest first. */
  async list(filter: {
    webhookId?: string;
    state?: WebhookDeliveryState;
    limit: number;
  }): Promise<WebhookDeliveryView[]> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll();
    if (filter.webhookId !== undefined) query = query.where('webhook_id', '=', filter.webhookId);
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(view);
  }

  /** Forgets finished deliveries last changed before `beforeMs`; pending ones stay. */
  async prune(beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where('state', '!=', 'pending')
      .where('updated_at_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
