import type { Logger } from 'pino';
import type { WebhookAlert, WebhookBody, WebhookDeliveryView, WebhookView } from '../contract/notify.js';
import type { WebhookConfig } from '../config/index.js';
import { VigilError } from '../errors/catalogue.js';
import type { Clock } from '../time/clock.js';
import type { DeliveryStore, PendingDelivery } from './delivery-store.js';
import { classifyAttempt, type AttemptResult } from './retry.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from './signature.js';

/** Attempts in flight to one webhook: a slow receiver holds at most these, never another's. */
const PER_WEBHOOK_CONCURRENCY = 2;
/**
 * Deliveries one webhook may have waiting for a retry: past this, a dead receiver's backlog stops
 * growing, and new alerts for it fail at once (logged) instead of filling memory with timers.
 */
const MAX_OPEN_PER_WEBHOOK = 500;
/** Finished deliveries are kept this long in the log. */
const LOG_DAYS = 30;
const DAY_MS = 86_400_000;

export interface WebhookSenderOptions {
  webhooks: readonly WebhookConfig[];
  store: DeliveryStore;
  clock: Clock;
  log: Logger;
  /** Who sends: `vigil: { version, site }` in every body. */
  version: string;
  site: string;
  /** The first retry's wait (tests shorten it); see retry.ts. */
  retryBaseMs?: number;
  random?: () => number;
}

/** One webhook's queue of due deliveries and its attempts in flight. */
interface Lane {
  hook: WebhookConfig;
  due: PendingDelivery[];
  active: number;
  /** Ids of its deliveries not final yet (waiting, due or in flight). */
  open: Set<number>;
}

/** The body of every attempt: the alert's own fields (never a user's `reviewed`), and who sent it. */
function webhookBody(alert: WebhookAlert, vigil: WebhookBody['vigil']): string {
  const body: WebhookBody = {
    id: alert.id,
    ruleId: alert.ruleId,
    ruleName: alert.ruleName,
    cameraId: alert.cameraId,
    eventId: alert.eventId,
    kind: alert.kind,
    summary: alert.summary,
    timeMs: alert.timeMs,
    snapshotUrl: alert.snapshotUrl,
    clipUrl: alert.clipUrl,
    vigil,
  };
  return JSON.stringify(body);
}

/** Why fetch() threw, in words for the delivery log (never the URL: it may hold a token). */
function describeError(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Sends alerts to the configured webhooks: each alert a row in the delivery log, then signed
 * POSTs until one is answered 2xx, the receiver refuses it, or the attempts run out (retry.ts).
 * Attempts wait on timers, never on each other: each webhook has its own lane of at most two
 * requests, each bounded by the webhook's timeout, so a dead receiver delays nothing but itself.
 */
export class WebhookSender {
  private readonly lanes = new Map<string, Lane>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly aborts = new Set<AbortController>();
  private readonly attempted = new Map<number, Array<() => void>>();
  private pruneTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: WebhookSenderOptions) {
    for (const hook of opts.webhooks) this.lanes.set(hook.id, { hook, due: [], active: 0, open: new Set() });
  }

  /** Picks up the deliveries a stop left pending, and prunes the log now and daily. */
  async start(): Promise<void> {
    for (const delivery of await this.opts.store.pending()) {
      this.lanes.get(delivery.webhookId)?.open.add(delivery.id);
      this.schedule(delivery);
    }
    await this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), DAY_MS);
    this.pruneTimer.unref();
  }

  /** The configured webhooks, without their secrets, paths or queries. */
  list(): WebhookView[] {
    return [...this.lanes.values()].map(({ hook }) => ({
      id: hook.id,
      origin: new URL(hook.url).origin,
      timeoutMs: hook.timeoutMs,
    }));
  }

  /** Queues `alert` for the webhook; the row is written before anything is sent. */
  async enqueue(webhookId: string, alert: WebhookAlert): Promise<PendingDelivery> {
    const lane = this.lanes.get(webhookId);
    if (!lane) throw new VigilError('WEBHOOK_NOT_FOUND', `no webhook '${webhookId}' in notify.webhooks`);
    const body = webhookBody(alert, { version: this.opts.version, site: this.opts.site });
    const delivery = await this.opts.store.create({
      webhookId,
      alertId: alert.id,
      body,
      nowMs: this.opts.clock.nowMs(),
    });
    if (lane.open.size >= MAX_OPEN_PER_WEBHOOK) {
      const error = `${MAX_OPEN_PER_WEBHOOK} deliveries wait for this webhook already: not sent`;
      this.opts.log.warn({ webhookId, deliveryId: delivery.id }, `webhook '${webhookId}': ${error}`);
      await this.finish(delivery, error);
      return delivery;
    }
    lane.open.add(delivery.id);
    this.schedule(delivery);
    return delivery;
  }

  /** Sends `alert` and answers once its first attempt is over, with the delivery as logged. */
  async sendAndWait(webhookId: string, alert: WebhookAlert): Promise<WebhookDeliveryView> {
    const { id } = await this.enqueue(webhookId, alert);
    await new Promise<void>((done) => this.attempted.set(id, [...(this.attempted.get(id) ?? []), done]));
    const view = await this.opts.store.get(id);
    if (!view) throw new VigilError('INTERNAL', `delivery ${id} vanished from the log`);
    return view;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    // Interrupted attempts are not counted: their rows stay pending for the next start.
    for (const abort of this.aborts) abort.abort();
    await Promise.allSettled([...this.running]);
    for (const waiters of this.attempted.values()) for (const done of waiters) done();
    this.attempted.clear();
  }

  private schedule(delivery: PendingDelivery): void {
    if (this.stopped) return;
    const waitMs = Math.max(0, delivery.nextAttemptAtMs - this.opts.clock.nowMs());
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const lane = this.lanes.get(delivery.webhookId);
      if (lane) {
        lane.due.push(delivery);
        this.pump(lane);
      } else {
        void this.finish(delivery, `webhook '${delivery.webhookId}' is no longer configured`);
      }
    }, waitMs);
    timer.unref();
    this.timers.add(timer);
  }

  private pump(lane: Lane): void {
    while (!this.stopped && lane.active < PER_WEBHOOK_CONCURRENCY && lane.due.length > 0) {
      const delivery = lane.due.shift() as PendingDelivery;
      lane.active += 1;
      const run = this.attempt(lane, delivery)
        .catch((err: unknown) =>
          this.opts.log.error({ err, deliveryId: delivery.id }, 'webhook attempt failed'),
        )
        .finally(() => {
          lane.active -= 1;
          this.running.delete(run);
          this.pump(lane);
        });
      this.running.add(run);
    }
  }

  /** Fails a delivery without an attempt: its webhook is gone from the config, or has too many waiting. */
  private async finish(delivery: PendingDelivery, error: string): Promise<void> {
    await this.opts.store.recordAttempt(delivery.id, {
      attemptCount: delivery.attemptCount,
      state: 'failed',
      lastStatus: null,
      lastError: error,
      nextAttemptAtMs: null,
      nowMs: this.opts.clock.nowMs(),
    });
  }

  private async post(hook: WebhookConfig, delivery: PendingDelivery): Promise<AttemptResult | null> {
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, hook.timeoutMs);
    this.aborts.add(abort);
    const timestampS = Math.floor(this.opts.clock.nowMs() / 1000);
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        body: delivery.body,
        redirect: 'manual',
        signal: abort.signal,
        headers: {
          ...hook.headers,
          'content-type': 'application/json',
          'user-agent': `Vigil/${this.opts.version}`,
          [TIMESTAMP_HEADER]: String(timestampS),
          [SIGNATURE_HEADER]: webhookSignature(hook.secret, timestampS, delivery.body),
          [DELIVERY_HEADER]: String(delivery.id),
        },
      });
      // The answer's body is of no use: not read, so a huge one costs nothing.
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'answer', status: response.status, retryAfter: response.headers.get('retry-after') };
    } catch (err) {
      if (this.stopped && !timedOut) return null;
      return { kind: 'error', message: describeError(err, timedOut, hook.timeoutMs) };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }

  private async attempt(lane: Lane, delivery: PendingDelivery): Promise<void> {
    const { hook } = lane;
    const result = await this.post(hook, delivery);
    if (result === null) return;
    const attemptCount = delivery.attemptCount + 1;
    const nowMs = this.opts.clock.nowMs();
    const outcome = classifyAttempt(result, attemptCount, {
      nowMs,
      random: (this.opts.random ?? Math.random)(),
      ...(this.opts.retryBaseMs !== undefined ? { baseMs: this.opts.retryBaseMs } : {}),
    });
    const nextAttemptAtMs = outcome.state === 'retry' ? nowMs + outcome.delayMs : null;
    await this.opts.store.recordAttempt(delivery.id, {
      attemptCount,
      state: outcome.state === 'retry' ? 'pending' : outcome.state,
      lastStatus: result.kind === 'answer' ? result.status : null,
      lastError: outcome.state === 'delivered' ? null : outcome.error,
      nextAttemptAtMs,
      nowMs,
    });
    if (outcome.state !== 'delivered') {
      this.opts.log.warn(
        { webhookId: hook.id, deliveryId: delivery.id, attempt: attemptCount, outcome: outcome.state },
        `webhook '${hook.id}': ${outcome.error}`,
      );
    }
    if (nextAttemptAtMs !== null) this.schedule({ ...delivery, attemptCount, nextAttemptAtMs });
    else lane.open.delete(delivery.id);
    const waiters = this.attempted.get(delivery.id);
    this.attempted.delete(delivery.id);
    for (const done of waiters ?? []) done();
  }

  private async prune(): Promise<void> {
    try {
      await this.opts.store.prune(this.opts.clock.nowMs() - LOG_DAYS * DAY_MS);
    } catch (err) {
      this.opts.log.error({ err }, 'pruning the webhook delivery log failed');
    }
  }
}
