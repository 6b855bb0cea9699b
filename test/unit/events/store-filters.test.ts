import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Insertable } from 'kysely';
import type { EventQuery } from '../../../src/events/store.js';
import type { AlertTable } from '../../../src/storage/schema.js';
import { T0, eventFixture, type EventFixture } from './helpers.js';

/**
 * The zone, rule and alert filters answer in two ways (src/events/store.ts): from the ids of a
 * selective filter, or by walking events newest first. Both must give what the plain definition
 * gives, page by page; the data makes some filters selective and others not.
 */
interface Made {
  id: number;
  cameraId: string;
  startTimeMs: number;
  zones: string[];
  rules: string[];
}

const EVENT_COUNT = 8000;

function zonesOf(i: number): string[] {
  if (i % 7 === 0) return ['Gate'];
  if (i % 11 === 0) return [];
  return i % 2 === 0 ? ['Path', 'Door'] : ['Path'];
}

function rulesOf(i: number): string[] {
  const rules: string[] = [];
  if (i % 10 !== 0) rules.push('busy');
  if (i % 997 === 0) rules.push('rare');
  return rules;
}

describe('event filters by zone, rule and kind', () => {
  let f: EventFixture;
  const made: Made[] = [];

  before(async () => {
    f = await eventFixture();
    for (let i = 0; i < EVENT_COUNT; i += 500) {
      const rows = Array.from({ length: Math.min(500, EVENT_COUNT - i) }, (_, k) => {
        const n = i + k;
        // Every fifth start is shared with the next event: pages must still split by id.
        const start = T0 + Math.floor(n / 5) * 5 * 1000 + (n % 5 === 4 ? -1000 : (n % 5) * 1000);
        return {
          camera_id: n % 4 === 0 ? 'gate' : 'yard',
          label: 'person',
          track_id: n,
          start_time_ms: start,
          end_time_ms: start + 3000,
          max_score: 0.9,
          box_json: '{}',
          path_json: '[]',
          zones_json: JSON.stringify(zonesOf(n)),
          snapshot_path: null,
          crop_path: null,
          snapshot_time_ms: null,
          clip_start_ms: start - 5000,
          clip_end_ms: start + 8000,
          created_at_ms: start,
          updated_at_ms: start,
        };
      });
      const ids = await f.db.insertInto('events').values(rows).returning('id').execute();
      ids.forEach(({ id }, k) => {
        const n = i + k;
        const row = rows[k]!;
        made.push({
          id,
          cameraId: row.camera_id,
          startTimeMs: row.start_time_ms,
          zones: zonesOf(n),
          rules: rulesOf(n),
        });
      });
    }
    const alerts: Insertable<AlertTable>[] = made.flatMap((e) =>
      e.rules.map((ruleId) => ({
        rule_id: ruleId,
        rule_name: ruleId,
        camera_id: e.cameraId,
        event_id: e.id,
        kind: 'zone-entered',
        summary: 'person entered',
        time_ms: e.startTimeMs + 500,
        snapshot_path: null,
        clip_start_ms: e.startTimeMs - 5000,
        clip_end_ms: e.startTimeMs + 8000,
        created_at_ms: e.startTimeMs + 500,
      })),
    );
    // Camera alerts (no event) must not count as an event's alert.
    alerts.push({ ...alerts[0]!, event_id: null, rule_id: 'rare' });
    for (let i = 0; i < alerts.length; i += 1000)
      await f.db
        .insertInto('alerts')
        .values(alerts.slice(i, i + 1000))
        .execute();
  });

  after(async () => {
    await f.close();
  });

  /** Every page of the query, walked with its cursor. */
  async function walk(query: EventQuery): Promise<number[]> {
    const ids: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await f.store.query({ ...query, limit: 500, ...(cursor ? { cursor } : {}) });
      ids.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  }

  function expected(query: EventQuery): number[] {
    return made
      .filter(
        (e) =>
          (query.cameraId === undefined || e.cameraId === query.cameraId) &&
          (query.zone === undefined || e.zones.includes(query.zone)) &&
          (query.ruleId === undefined
            ? query.kind === undefined || (query.kind === 'alert') === e.rules.length > 0
            : (query.kind === 'detection') !== e.rules.includes(query.ruleId)),
      )
      .sort((a, b) => b.startTimeMs - a.startTimeMs || b.id - a.id)
      .map((e) => e.id);
  }

  const queries: [string, EventQuery][] = [
    ['a dense zone (the walk)', { zone: 'Path' }],
    ['a selective zone (from its ids)', { zone: 'Gate' }],
    ['a zone nothing touched', { zone: 'Roof' }],
    ['a zone name that differs in case only', { zone: 'gate' }],
    ['a dense rule', { ruleId: 'busy' }],
    ['a rare rule', { ruleId: 'rare' }],
    ['a rule that never fired', { ruleId: 'none' }],
    ['alerts', { kind: 'alert' }],
    ['detections', { kind: 'detection' }],
    ['detections of a rule: the events it did not fire on', { kind: 'detection', ruleId: 'rare' }],
    ['zone and rule, both selective', { zone: 'Gate', ruleId: 'rare' }],
    ['camera, zone and a dense rule', { cameraId: 'gate', zone: 'Door', ruleId: 'busy' }],
    ['a selective zone, alerts', { zone: 'Gate', kind: 'alert' }],
  ];
  for (const [name, query] of queries)
    test(`${name}: every page as the definition says`, async () => {
      const want = expected(query);
      assert.deepEqual(await walk(query), want);
      if (name.includes('nothing') || name.includes('never')) assert.equal(want.length, 0);
      else if (!name.includes('case')) assert.ok(want.length > 0, 'the data has matches');
    });

  test('the data makes Gate and rare selective and Path, busy and alerts not', () => {
    assert.ok(made.filter((e) => e.zones.includes('Gate')).length < 5000);
    assert.ok(made.filter((e) => e.zones.includes('Path')).length > 5000);
    assert.ok(made.filter((e) => e.rules.includes('busy')).length > 5000);
    assert.ok(made.filter((e) => e.rules.includes('rare')).length < 10);
  });

  test('an event saved with new zones is found by them, and no longer by the old ones', async () => {
    const event = await f.store.get(made.find((e) => e.zones.includes('Gate'))!.id);
    assert.ok(event);
    await f.store.save({ ...event, zones: ['Pond'] });
    assert.deepEqual(await walk({ zone: 'Pond' }), [event.id]);
    assert.ok(!(await walk({ zone: 'Gate' })).includes(event.id));
    await f.store.save({ ...event, zones: ['Gate'] });
  });
});
