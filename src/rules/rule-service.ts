import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { auditTarget, type AuditInput, type AuditRequester } from '../audit/entry.js';
import type { AlertView } from '../contract/alerts.js';
import type { RuleDefinition, RuleView } from '../contract/rules.js';
import { ruleProblems, type SceneIds } from '../config/index.js';
import { VigilError } from '../errors/catalogue.js';
import type { EventBus, EventStore } from '../events/index.js';
import type { MqttBridge } from '../events/mqtt.js';
import type { Db } from '../storage/db.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';
import { AlertStore, alertView, type AlertRecord } from './alert-store.js';
import { RuleEvaluator, type Firing } from './evaluator.js';
import { AlertLimiter } from './limiter.js';
import { RuleStore } from './rule-store.js';
import { scheduleActive } from './schedule.js';
import { summarise, type SceneNames } from './summary.js';

const DAY_MS = 86_400_000;
/** Timed conditions are checked this often. */
const DEFAULT_TICK_MS = 1000;
/** Expired alerts are deleted this often. */
const RETENTION_CHECK_MS = 3_600_000;
/** The recording around an alert without an event: from before it to after it. */
export const ALERT_CLIP_BEFORE_MS = 10_000;
export const ALERT_CLIP_AFTER_MS = 20_000;
/** Retention hold kind of the `keep` action; the reason names the alert: 'alert:<id>'. */
export const ALERT_HOLD_KIND = 'alert';

/**
 * Webhook and Web Push delivery (src/notify). Absent: those actions are logged as unavailable.
 * Calls must not throw nor wait: delivery retries on its own time.
 */
export interface AlertDelivery {
  webhook(webhookId: string, alert: AlertView): void;
  push(alert: AlertView): void;
}

export interface RuleServiceOptions {
  db: Db;
  bus: EventBus;
  /** Events, for the clip of an event's alert. */
  events: Pick<EventStore, 'get'>;
  /** Retention holds of the `keep` action. */
  index: Pick<SegmentIndex, 'addHold'>;
  storageRoot: string;
  clock: Clock;
  log: Logger;
  /** site.timeZone: schedules follow it. */
  timeZone: string;
  /** Alerts are kept as long as events (retention.eventsDays). */
  alertsDays: number;
  /** The config file's rules (read-only). */
  configRules: readonly RuleDefinition[];
  /** The cameras there are now (file and API), to check rules made through the API. */
  cameraIds(): ReadonlySet<string>;
  /** A camera's zone and line ids, to refuse rules naming ones it does not have. */
  sceneOf?: (cameraId: string) => SceneIds | undefined;
  /** Null: MQTT off, the `mqtt` action does nothing. */
  mqtt: Pick<MqttBridge, 'publishAlert'> | null;
  delivery?: AlertDelivery;
  /** Zone and line names for summaries; absent: their ids. */
  sceneNames?: SceneNames;
  /** A current camera picture for alerts without an event (crowding, camera health). */
  cameraSnapshot?: (cameraId: string) => Promise<Buffer>;
  record: (input: AuditInput) => void;
  tickIntervalMs?: number;
}

const idsOnly: SceneNames = { zone: () => undefined, line: () => undefined };

/**
 * The rules at run time: the file's and the database's, evaluated against the scene facts on
 * the bus; a firing inside the schedule and the limits becomes an alert row, an /api/ws message
 * and the rule's actions. Firings are handled one after the other, in order.
 */
export class RuleService {
  readonly alerts: AlertStore;
  private readonly store: RuleStore;
  private readonly evaluator = new RuleEvaluator();
  private readonly limiter = new AlertLimiter();
  private apiRules: RuleDefinition[] = [];
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<void> = Promise.resolve();
  private lastRetentionMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: RuleServiceOptions) {
    this.alerts = new AlertStore(options.db);
    this.store = new RuleStore(options.db);
  }

  async start(): Promise<void> {
    const configIds = new Set(this.options.configRules.map((r) => r.id));
    // A rule made through the API whose id the config file took since is shadowed, not lost.
    this.apiRules = (await this.store.list()).filter((rule) => {
      if (!configIds.has(rule.id)) return true;
      this.options.log.warn(
        { rule: rule.id },
        'a rule in the database has the id of a config rule: the config wins',
      );
      return false;
    });
    this.reload();
    this.unsubscribe = this.options.bus.on('scene', (fact) => this.handle(this.evaluator.onFact(fact)));
    this.timer = setInterval(() => this.tick(), this.options.tickIntervalMs ?? DEFAULT_TICK_MS);
    this.timer.unref();
  }

  private tick(): void {
    const nowMs = this.options.clock.nowMs();
    this.handle(this.evaluator.tick(nowMs));
    if (nowMs - this.lastRetentionMs < RETENTION_CHECK_MS) return;
    this.lastRetentionMs = nowMs;
    this.queue = this.queue.then(() =>
      this.deleteExpired(nowMs).then(
        () => undefined,
        (err: unknown) => this.options.log.error({ err }, 'cannot delete expired alerts'),
      ),
    );
  }

  /** Deletes alerts older than alertsDays with their snapshots; returns how many went. */
  async deleteExpired(nowMs: number): Promise<number> {
    const cutoffMs = nowMs - this.options.alertsDays * DAY_MS;
    let total = 0;
    for (;;) {
      const { deletedCount, snapshotPaths } = await this.alerts.deleteBefore(cutoffMs);
      for (const path of snapshotPaths) await rm(this.absolute(path), { force: true });
      total += deletedCount;
      if (deletedCount === 0) return total;
    }
  }

  /** Waits for the alerts being made. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue;
  }

  /** Every firing handled so far has become an alert (or was held back): for tests. */
  settled(): Promise<void> {
    return this.queue;
  }

  list(): RuleView[] {
    return [
      ...this.options.configRules.map((rule) => this.view(rule, 'config')),
      ...this.apiRules.map((rule) => this.view(rule, 'api')),
    ];
  }

  get(id: string): RuleView {
    const found = this.list().find((rule) => rule.id === id);
    if (!found) throw new VigilError('RULE_NOT_FOUND', `no rule '${id}'; GET /api/rules lists them`);
    return found;
  }

  async create(rule: RuleDefinition, by: AuditRequester & { name: string }): Promise<RuleView> {
    if (this.list().some((r) => r.id === rule.id)) {
      throw new VigilError('RULE_EXISTS', `a rule '${rule.id}' exists already; choose another id`);
    }
    this.check(rule);
    await this.store.insert(rule, by.name, this.options.clock.nowMs());
    this.apiRules = [...this.apiRules, rule];
    this.reload();
    this.audit(by, 'rule.create', rule);
    return this.view(rule, 'api');
  }

  async update(rule: RuleDefinition, by: AuditRequester): Promise<RuleView> {
    this.editable(rule.id);
    this.check(rule);
    await this.store.update(rule, this.options.clock.nowMs());
    this.apiRules = this.apiRules.map((r) => (r.id === rule.id ? rule : r));
    this.limiter.forget(rule.id);
    this.reload();
    this.audit(by, 'rule.update', rule);
    return this.view(rule, 'api');
  }

  async delete(id: string, by: AuditRequester): Promise<void> {
    this.editable(id);
    await this.store.delete(id);
    this.apiRules = this.apiRules.filter((r) => r.id !== id);
    this.limiter.forget(id);
    this.reload();
    this.audit(by, 'rule.delete', id);
  }

  /** The file path of an alert's own snapshot (alerts without an event). */
  snapshotFile(alert: AlertRecord): string | null {
    return alert.snapshotPath === null ? null : this.absolute(alert.snapshotPath);
  }

  async readSnapshot(alert: AlertRecord): Promise<Buffer | null> {
    const path = this.snapshotFile(alert);
    return path === null ? null : readFile(path).catch(() => null);
  }

  private editable(id: string): void {
    const rule = this.get(id);
    if (rule.source === 'config') {
      throw new VigilError(
        'RULE_FROM_CONFIG',
        `rule '${id}' is defined in the configuration file; change it there`,
      );
    }
  }

  private check(rule: RuleDefinition): void {
    const problems = ruleProblems(rule, 'body', this.options.cameraIds(), this.options.sceneOf);
    if (problems.length > 0) {
      throw new VigilError('RULE_INVALID', problems.map((p) => `${p.path}: ${p.message}`).join('; '), {
        problems,
      });
    }
  }

  private reload(): void {
    this.evaluator.setRules([...this.options.configRules, ...this.apiRules]);
  }

  private view(rule: RuleDefinition, source: RuleView['source']): RuleView {
    return { ...rule, source, status: this.limiter.status(rule.id) };
  }

  private audit(
    by: AuditRequester,
    action: 'rule.create' | 'rule.update' | 'rule.delete',
    rule: RuleDefinition | string,
  ) {
    const id = typeof rule === 'string' ? rule : rule.id;
    this.options.record({
      actor: by.actor,
      action,
      target: auditTarget.rule(id),
      ...(typeof rule === 'string' ? {} : { details: { rule } }),
      ip: by.ip,
    });
  }

  private handle(firings: Firing[]): void {
    for (const firing of firings) {
      this.queue = this.queue.then(() =>
        this.fire(firing).catch((err: unknown) =>
          this.options.log.error(
            { err, rule: firing.rule.id, camera: firing.cameraId },
            'cannot make an alert',
          ),
        ),
      );
    }
  }

  private async fire(firing: Firing): Promise<void> {
    const { rule, cameraId, timeMs } = firing;
    if (!scheduleActive(rule.schedule, timeMs, this.options.timeZone)) return;
    if (!this.limiter.admit(rule.id, cameraId, timeMs, rule.limit)) {
      this.options.log.debug({ rule: rule.id, camera: cameraId }, 'alert held back by the rule limit');
      return;
    }
    const eventId = firing.object?.eventId ?? null;
    const event = eventId === null ? undefined : await this.options.events.get(eventId);
    const record = await this.alerts.insert({
      ruleId: rule.id,
      ruleName: rule.name,
      cameraId,
      eventId: event ? event.id : null,
      kind: firing.kind,
      summary: summarise(firing, this.options.sceneNames ?? idsOnly),
      timeMs,
      snapshotPath: null,
      clipStartMs: event ? event.clipStartMs : timeMs - ALERT_CLIP_BEFORE_MS,
      clipEndMs: event ? event.clipEndMs : timeMs + ALERT_CLIP_AFTER_MS,
      createdAtMs: this.options.clock.nowMs(),
    });
    const alert = event ? record : await this.withSnapshot(record);
    const view = alertView(alert, false);
    this.options.bus.publish('alert', view);
    for (const action of rule.actions) await this.act(action, alert, view);
  }

  /** A camera alert gets the camera's picture of now, when there is one. */
  private async withSnapshot(alert: AlertRecord): Promise<AlertRecord> {
    const { cameraSnapshot } = this.options;
    if (!cameraSnapshot) return alert;
    try {
      const jpeg = await cameraSnapshot(alert.cameraId);
      const day = new Date(alert.timeMs).toISOString().slice(0, 10);
      const path = join('alerts', alert.cameraId, day, `${alert.id}.jpg`);
      const full = this.absolute(path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, jpeg);
      await this.alerts.setSnapshot(alert.id, path);
      return { ...alert, snapshotPath: path };
    } catch (err) {
      this.options.log.warn(
        { err: (err as Error).message, alert: alert.id },
        'no camera snapshot for the alert',
      );
      return alert;
    }
  }

  private async act(
    action: RuleDefinition['actions'][number],
    alert: AlertRecord,
    view: AlertView,
  ): Promise<void> {
    const { delivery, log } = this.options;
    switch (action.type) {
      case 'mqtt':
        this.options.mqtt?.publishAlert(view);
        return;
      case 'keep':
        await this.options.index.addHold({
          cameraId: alert.cameraId,
          startTimeMs: alert.clipStartMs,
          endTimeMs: Math.max(alert.clipEndMs, alert.clipStartMs + 1),
          untilMs: alert.clipEndMs + action.days * DAY_MS,
          kind: ALERT_HOLD_KIND,
          reason: `alert:${alert.id}`,
          createdAtMs: this.options.clock.nowMs(),
        });
        return;
      case 'webhook':
        if (delivery) delivery.webhook(action.webhookId, view);
        else
          log.warn(
            { rule: alert.ruleId, webhook: action.webhookId },
            'webhook action unavailable: no delivery',
          );
        return;
      case 'push':
        if (delivery) delivery.push(view);
        else log.warn({ rule: alert.ruleId }, 'push action unavailable: no delivery');
        return;
    }
  }

  private absolute(relativePath: string): string {
    const root = resolve(this.options.storageRoot);
    const full = resolve(root, relativePath);
    if (!full.startsWith(root + sep)) throw new Error(`alert file path outside storage: ${relativePath}`);
    return full;
  }
}
