import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { AlertView } from '../../../src/contract/alerts.js';
import type { RuleDefinition } from '../../../src/contract/rules.js';
import { AlertStore, type NewAlert } from '../../../src/rules/alert-store.js';
import { RuleService } from '../../../src/rules/rule-service.js';
import { DAY_MS, T0, eventFixture, newEvent, type EventFixture } from '../events/helpers.js';

function alert(timeMs: number, cameraId = 'yard', overrides: Partial<NewAlert> = {}): NewAlert {
  return {
    ruleId: 'r',
    ruleName: 'Rule',
    cameraId,
    eventId: null,
    kind: 'camera-health',
    summary: 'view covered',
    timeMs,
    snapshotPath: null,
    clipStartMs: timeMs - 10_000,
    clipEndMs: timeMs + 20_000,
    createdAtMs: timeMs,
    ...overrides,
  };
}

describe('alert store', () => {
  let f: EventFixture;
  let store: AlertStore;
  before(async () => {
    f = await eventFixture();
    store = new AlertStore(f.db);
  });
  after(async () => {
    await f.close();
  });

  test('pages are newest first and stable while alerts arrive; reviewed is per user', async () => {
    for (let i = 0; i < 7; i += 1) await store.insert(alert(T0 + i * 1000, i % 2 === 0 ? 'yard' : 'gate'));
    const first = await store.query({ userId: 1, limit: 3 });
    assert.deepEqual(
      first.alerts.map((a) => a.timeMs),
      [T0 + 6000, T0 + 5000, T0 + 4000],
    );
    await store.insert(alert(T0 + 10_000)); // newer: must not shift the next page
    const second = await store.query({ userId: 1, limit: 3, cursor: first.nextCursor ?? '' });
    assert.deepEqual(
      second.alerts.map((a) => a.timeMs),
      [T0 + 3000, T0 + 2000, T0 + 1000],
    );
    assert.equal((await store.query({ userId: 1, cameraIds: [] })).alerts.length, 0);
    assert.equal(await store.unreviewedCount(1, ['gate']), 3);
    const gateIds = (await store.query({ userId: 1, cameraId: 'gate' })).alerts.map((a) => a.id);
    assert.equal(await store.review(1, T0, { ids: gateIds }), 3);
    assert.equal(await store.review(1, T0, { ids: gateIds }), 0, 'already reviewed');
    assert.equal(await store.unreviewedCount(1, ['gate']), 0);
    assert.equal(await store.unreviewedCount(2, ['gate']), 3, "another user's state is their own");
    // "All" within the granted cameras only.
    assert.equal(await store.review(2, T0, { cameraIds: ['yard'] }), 5);
    assert.equal(await store.unreviewedCount(2, undefined), 3);
    const reviewed = await store.query({ userId: 1, reviewed: true });
    assert.deepEqual(reviewed.alerts.map((a) => a.id).sort(), [...gateIds].sort());
    const { deletedCount } = await store.deleteBefore(T0 + 3000);
    assert.equal(deletedCount, 3);
    assert.equal((await store.query({ userId: 1 })).alerts.length, 5);
  });
});

describe('rule service', () => {
  let f: EventFixture;
  const delivered: Array<{ to: string; alert: AlertView }> = [];
  let service: RuleService;
  const rule = (overrides: Partial<RuleDefinition>): RuleDefinition => ({
    id: 'r',
    name: 'Rule',
    enabled: true,
    cameras: 'all',
    conditions: [{ type: 'camera-health', states: ['tamper-covered'] }],
    schedule: null,
    actions: [],
    limit: { maxAlerts: 100, windowMs: 60_000, cooldownMs: 0 },
    ...overrides,
  });

  before(async () => {
    f = await eventFixture();
    service = new RuleService({
      db: f.db,
      bus: f.bus,
      events: f.store,
      index: f.index,
      storageRoot: f.dir,
      clock: f.clock,
      log: pino({ level: 'silent' }),
      timeZone: 'Europe/Berlin',
      alertsDays: 14,
      configRules: [
        // T0 is a Thursday 11:00 in Berlin: the weekday rule fires, the weekend one does not.
        rule({
          id: 'weekdays',
          schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], times: ['08:00-20:00'] },
          actions: [{ type: 'webhook', webhookId: 'office' }, { type: 'push' }, { type: 'keep', days: 30 }],
        }),
        rule({ id: 'weekends', schedule: { days: ['sat', 'sun'], times: ['00:00-24:00'] } }),
        rule({
          id: 'crossing',
          conditions: [{ type: 'line-crossed', lineId: 'path', direction: 'both' }],
        }),
      ],
      cameraIds: () => new Set(['yard']),
      mqtt: null,
      delivery: {
        webhook: (webhookId, alert) => delivered.push({ to: webhookId, alert }),
        push: (alert) => delivered.push({ to: 'push', alert }),
      },
      cameraSnapshot: async () => Buffer.from('jpeg bytes'),
      record: () => undefined,
      tickIntervalMs: 3_600_000,
    });
    await service.start();
  });
  after(async () => {
    await service.stop();
    await f.close();
  });

  test('schedule, delivery, keep and the snapshot of a camera alert; retention deletes them', async () => {
    f.bus.publish('scene', {
      type: 'camera-health',
      cameraId: 'yard',
      state: 'tamper-covered',
      detail: 'covered',
      timeMs: T0,
    });
    await service.settled();
    const page = await service.alerts.query({ userId: 1 });
    assert.deepEqual(
      page.alerts.map((a) => a.ruleId),
      ['weekdays'],
    );
    const stored = page.alerts[0];
    assert.ok(stored?.snapshotPath);
    const file = join(f.dir, stored.snapshotPath);
    assert.ok(existsSync(file));
    assert.deepEqual(
      delivered.map((d) => [d.to, d.alert.id, d.alert.snapshotUrl]),
      [
        ['office', stored.id, `/api/alerts/${stored.id}/snapshot.jpg`],
        ['push', stored.id, `/api/alerts/${stored.id}/snapshot.jpg`],
      ],
    );
    const hold = (await f.index.holds()).find((h) => h.kind === 'alert');
    assert.deepEqual(hold, {
      cameraId: 'yard',
      startTimeMs: T0 - 10_000,
      endTimeMs: T0 + 20_000,
      untilMs: T0 + 20_000 + 30 * DAY_MS,
      kind: 'alert',
    });
    assert.equal(await service.deleteExpired(T0 + 15 * DAY_MS), 1);
    assert.ok(!existsSync(file), 'the snapshot went with the alert');
  });

  test("an event's alert uses the event's clip", async () => {
    const event = await f.store.insert(newEvent({ startTimeMs: T0 }));
    f.bus.publish('scene', {
      type: 'line-crossed',
      cameraId: 'yard',
      lineId: 'path',
      direction: 'b-to-a',
      object: { eventId: event.id, trackId: 1, label: 'person', score: 0.9, areaFraction: 0.1 },
      timeMs: T0 + 500,
    });
    await service.settled();
    const [made] = (await service.alerts.query({ userId: 1, ruleId: 'crossing' })).alerts;
    assert.equal(made?.eventId, event.id);
    assert.equal(made?.clipStartMs, event.clipStartMs);
    assert.equal(made?.summary, 'person crossed path (B→A)');
  });
});
